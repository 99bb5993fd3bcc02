"""Payment methods of an account. Cards first: the provider's token, brand, last four, expiry.

Item: pk=ACCOUNT#<id>, sk=PM#<payment_method_id>, kind=payment_method. The account's
default method is ``settings.default_method`` ("balance" or "card"); among cards, the one
with ``is_default`` is charged. Alternate methods and per-subscription methods extend
this item with a ``role``/assignment later instead of replacing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from account_credit.kernel.errors import DomainError
from account_credit.kernel.ids import iso, new_id, utc_now
from account_credit.platform.payments.port import SavedCard
from account_credit.platform.store import Record, Store, keys
from account_credit.platform.store.base import write_alone


@dataclass(frozen=True)
class PaymentMethod:
    payment_method_id: str
    account_id: str
    type: str  # "card"
    card: SavedCard
    is_default: bool
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "payment_method_id": self.payment_method_id,
            "type": self.type,
            "provider": self.card.provider,
            "brand": self.card.brand,
            "last4": self.card.last4,
            "exp_month": self.card.exp_month,
            "exp_year": self.card.exp_year,
            "is_default": self.is_default,
            "created_at": self.created_at,
        }


def card_record(account_id: str, card: SavedCard, *, is_default: bool) -> tuple[PaymentMethod, Record]:
    """A new card payment method as a Record, to commit alone or inside a unit of work."""
    pm = PaymentMethod(
        payment_method_id=new_id("pm"),
        account_id=account_id,
        type="card",
        card=card,
        is_default=is_default,
        created_at=iso(utc_now()),
    )
    record = Record(
        *keys.payment_method(account_id, pm.payment_method_id),
        attrs={
            "kind": "payment_method",
            "payment_method_id": pm.payment_method_id,
            "account_id": account_id,
            "type": "card",
            "provider": card.provider,
            "token": card.token,
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "is_default": is_default,
            "created_at": pm.created_at,
        },
    )
    return pm, record


def from_item(item: dict[str, Any]) -> PaymentMethod:
    return PaymentMethod(
        payment_method_id=item["payment_method_id"],
        account_id=item["account_id"],
        type=item["type"],
        card=SavedCard(
            provider=item["provider"],
            token=item["token"],
            brand=item["brand"],
            last4=item["last4"],
            exp_month=int(item["exp_month"]),
            exp_year=int(item["exp_year"]),
        ),
        is_default=bool(item.get("is_default")),
        created_at=item["created_at"],
    )


def list_methods(store: Store, account_id: str) -> list[PaymentMethod]:
    return [from_item(i) for i in store.query_prefix(*keys.payment_methods_prefix(account_id))]


def default_card(store: Store, account_id: str) -> PaymentMethod | None:
    methods = [m for m in list_methods(store, account_id) if m.type == "card"]
    for m in methods:
        if m.is_default:
            return m
    return methods[0] if methods else None


class _FirstTaken(DomainError):
    status = 409


class _Saved(DomainError):
    status = 409

    def __init__(self, old: dict[str, Any]) -> None:
        super().__init__("card saved already")
        self.old = old


def save_card(store: Store, account_id: str, card: SavedCard) -> PaymentMethod:
    """Store a card; the first card of an account becomes its default card. Same token twice: kept once.

    Both hold under concurrency: the card is written with its token's item (must not exist) and, when it would be
    the first, with the account's first-card item (must not exist), in one transaction. Of two registrations at
    once exactly one is the default (the other is saved again as not default), and the same token is one method."""
    existing = list_methods(store, account_id)
    for m in existing:
        if m.card.provider == card.provider and m.card.token == card.token:
            return m
    first = not any(m.type == "card" for m in existing)
    while True:
        pm, record = card_record(account_id, card, is_default=first)
        uow = store.unit_of_work()
        uow.put(record)
        uow.put(
            Record(
                *keys.card_token(account_id, card.provider, card.token),
                attrs={"kind": "card_token", "payment_method_id": pm.payment_method_id},
                on_exists=lambda old: _Saved(old),
            )
        )
        if first:
            uow.put(
                Record(
                    *keys.first_card(account_id),
                    attrs={"kind": "first_card", "payment_method_id": pm.payment_method_id},
                    on_exists=lambda _old: _FirstTaken("another card is the first"),
                )
            )
        try:
            write_alone(uow)
            return pm
        except _FirstTaken:
            first = False  # another registration won: this card is saved, not as the default
        except _Saved as saved:  # the same card registered at once: one method
            item = store.get_item(*keys.payment_method(account_id, str(saved.old["payment_method_id"])))
            if item is not None:
                return from_item(item)
