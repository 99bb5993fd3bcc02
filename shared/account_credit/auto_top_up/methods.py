"""Which payment methods an account relies on: its payment preferences, its cards, its subscriptions.

INTEGRATOR: a stand-in until the payment-methods piece lands. It reads its items directly
(``keys.payment_preferences``, ``keys.payment_method``) in the shapes its contract names; swap ``preferences``
for ``payment_methods.service.preferences`` and ``card`` for ``payment_methods.service.get_method`` once they
exist. ``subscriptions`` reads the subscription items (subscriptions/domain.py's ``attrs``: ``state``,
``auto_renew``, ``payment_method_id``); an ``active`` auto-renewing subscription never lapses on its own, so the
stored state is the effective one. Nothing else here reads those items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from account_credit.platform.payments.port import SavedCard
from account_credit.platform.store import Store, keys

SUBSCRIPTIONS_MAX = 1000  # an account's subscriptions read for the expiry scan (one query page)


@dataclass(frozen=True)
class Preferences:
    """The account's default and alternate method: ``"balance"`` or a payment method id (alternate may be None)."""

    default: str = "balance"
    alternate: str | None = None


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


def preferences(store: Store, account_id: str) -> Preferences:
    """Absent: the balance is the default and there is no alternate."""
    item = store.get_item(*keys.payment_preferences(account_id))
    if item is None:
        return Preferences()
    return Preferences(default=str(item.get("default") or "balance"), alternate=item.get("alternate") or None)


def card_from_item(item: dict[str, Any]) -> Card | None:
    if item.get("kind") != "payment_method" or item.get("type") != "card":
        return None
    return Card(
        payment_method_id=str(item["payment_method_id"]),
        saved=SavedCard(
            provider=str(item["provider"]),
            token=str(item["token"]),
            brand=str(item.get("brand", "")),
            last4=str(item.get("last4", "")),
            exp_month=int(item["exp_month"]),
            exp_year=int(item["exp_year"]),
        ),
    )


def card(store: Store, account_id: str, payment_method_id: str) -> Card | None:
    """The card ``payment_method_id`` of the account; None if it is not a card or no longer there."""
    item = store.get_item(*keys.payment_method(account_id, payment_method_id))
    return card_from_item(item) if item is not None else None


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
