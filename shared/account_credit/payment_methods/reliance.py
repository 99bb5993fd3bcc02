"""Which payment methods an account relies on: its preferences (default, alternate), its cards, and the
subscriptions that would charge them. The auto top-up charges the card it relies on; the card-expiry scan warns
of a card relied on. The preferences and cards are ``payment_methods.service``'s; a subscription is read from its
item (subscriptions/domain.py's ``attrs``: ``state``, ``auto_renew``, ``payment_method_id``): an ``active``
auto-renewing subscription never lapses on its own, so the stored state is the effective one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from account_credit.payment_methods import service
from account_credit.payment_methods.service import Preferences
from account_credit.platform.payments.port import SavedCard
from account_credit.platform.store import Store, keys

SUBSCRIPTIONS_MAX = 1000  # an account's subscriptions read for the expiry scan (one query page)

__all__ = ["Card", "Preferences", "Subscription", "card", "card_from_item", "preferences", "subscriptions"]

preferences = service.preferences


@dataclass(frozen=True)
class Card:
    payment_method_id: str
    saved: SavedCard


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    active: bool
    auto_renew: bool
    payment_method_id: str | None  # None: the account's default


def card_from_item(item: dict[str, Any]) -> Card | None:
    """The card a stored payment method is; None for any other kind of method."""
    if item.get("kind") != "payment_method":
        return None
    method = service.from_item(item)
    return Card(method.payment_method_id, method.card) if method.type == "card" and method.card else None


def card(store: Store, account_id: str, payment_method_id: str) -> Card | None:
    """The card ``payment_method_id`` of the account; None if it is not a card or no longer there."""
    method = service.get_method(store, account_id, payment_method_id)
    return Card(method.payment_method_id, method.card) if method and method.type == "card" and method.card else None


def subscriptions(store: Store, account_id: str) -> list[Subscription]:
    rows = store.query_prefix(*keys.subscriptions_prefix(account_id), limit=SUBSCRIPTIONS_MAX)
    return [
        Subscription(
            subscription_id=str(r.get("subscription_id") or r["sk"].removeprefix(keys.subscriptions_prefix("")[1])),
            active=r.get("state") == "active",
            auto_renew=bool(r.get("auto_renew")),
            payment_method_id=r.get("payment_method_id") or None,
        )
        for r in rows
        if r.get("kind", "subscription") == "subscription"
    ]
