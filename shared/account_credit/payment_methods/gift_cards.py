"""Gift cards: a code with a remaining value, created by operators, added to an account by its code, redeemed
atomically and never below zero.

Item: pk=GIFTCARD#<code>, sk=GIFTCARD (``keys.gift_card``), kind=gift_card: code, currency, amount (the value it
was created with), remaining, owner (the account it was added to; "" until then), created_at, created_by.
An account's gift card is also a payment method (``type=gift_card``, ``code``, ``currency``).

Redemption is part of the order's ONE transaction (``orders/payment.py``): ``redeem`` gives the update of the
gift card, conditioned on the remaining value it was read with and on the owner, so two orders spending the
same card at once cannot both take the same value: one wins, the other reads again and fails if what is left
does not cover it.
"""

from __future__ import annotations

import secrets
from typing import Any

from account_credit.kernel.errors import Conflict, DomainError, InvalidInput, NotFound
from account_credit.kernel.ids import iso, new_id, utc_now
from account_credit.payment_methods.service import PaymentMethod, from_item, list_methods
from account_credit.platform.store import Record, RecordUpdate, Store, keys
from account_credit.platform.store.base import write_alone

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by people


def new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "GC-" + "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": item["code"],
        "currency": item["currency"],
        "amount": int(item["amount"]),
        "remaining": int(item["remaining"]),
        "created_at": item["created_at"],
    }


def create(store: Store, code: str | None, amount: int, currency: str, actor: str) -> dict[str, Any]:
    """A new gift card worth ``amount`` minor units of ``currency`` (a code is generated when none is given)."""
    if amount <= 0:
        raise InvalidInput("a gift card is worth more than nothing", field="amount")
    code = code or new_code()
    attrs = {
        "kind": "gift_card",
        "code": code,
        "currency": currency,
        "amount": amount,
        "remaining": amount,
        "owner": "",
        "created_at": iso(utc_now()),
        "created_by": actor,
    }
    store.put_record(
        Record(
            *keys.gift_card(code),
            attrs=attrs,
            on_exists=lambda _old: Conflict(f"gift card {code} exists already", field="code"),
        )
    )
    return view(attrs)


def get(store: Store, code: str) -> dict[str, Any] | None:
    return store.get_item(*keys.gift_card(code))


def add_to_account(store: Store, account_id: str, currency: str, code: str) -> tuple[PaymentMethod, bool]:
    """Add the gift card ``code`` to the account as a payment method; returns it and whether it is new. A card
    belongs to the first account it is added to; the same code again on that account is the same method."""
    unknown = InvalidInput("there is no such gift card", field="code")  # never tells another account's card apart
    item = get(store, code)
    if item is None or item.get("owner") not in ("", account_id):
        raise unknown
    if item["currency"] != currency:
        raise InvalidInput(f"the gift card is in {item['currency']}, the account in {currency}", field="code")
    for m in list_methods(store, account_id):
        if m.type == "gift_card" and m.gift_card_code == code:
            return m, False
    pm_id = new_id("pm")
    uow = store.unit_of_work()
    if item.get("owner") == "":
        uow.update(
            RecordUpdate(
                *keys.gift_card(code),
                changes={"owner": account_id},
                expect={"owner": ""},
                on_mismatch=lambda _o: unknown,
            )
        )
    uow.put(
        Record(
            *keys.payment_method(account_id, pm_id),
            attrs={
                "kind": "payment_method",
                "payment_method_id": pm_id,
                "account_id": account_id,
                "type": "gift_card",
                "code": code,
                "currency": item["currency"],
                "created_at": iso(utc_now()),
            },
        )
    )
    write_alone(uow)
    got = store.get_item(*keys.payment_method(account_id, pm_id))
    assert got is not None
    return from_item(got), True


class Moved(DomainError):
    """The gift card changed between reading and redeeming it: plan the redemption again."""

    status = 409


class Insufficient(DomainError):
    """What is left on the gift card does not cover the amount (or it is not the account's any more)."""

    status = 402


def redeem(store: Store, account_id: str, code: str, amount: int) -> tuple[RecordUpdate, int]:
    """The update that takes ``amount`` off the gift card, and the remaining value it was planned on. Raises
    ``Insufficient`` if what is left does not cover it; the update itself fails (``Insufficient``) if the card
    changed meanwhile - read again and plan again."""
    item = get(store, code)
    if item is None or item.get("owner") != account_id:
        raise Insufficient("the gift card is not on this account")
    remaining = int(item["remaining"])
    if remaining < amount:
        raise Insufficient(f"the gift card has {remaining} left", remaining=remaining)
    return (
        RecordUpdate(
            *keys.gift_card(code),
            changes={"remaining": remaining - amount, "updated_at": iso(utc_now())},
            expect={"remaining": remaining, "owner": account_id},
            on_mismatch=lambda _old: Moved("the gift card changed meanwhile"),
        ),
        remaining,
    )


def give_back(store: Store, code: str, amount: int) -> RecordUpdate:
    """The update that returns ``amount`` to the gift card (a cancelled order), conditioned on the value read."""
    item = get(store, code)
    if item is None:
        raise NotFound(f"gift card ending {code[-4:]} not found")
    remaining = int(item["remaining"])
    return RecordUpdate(
        *keys.gift_card(code),
        changes={"remaining": remaining + amount, "updated_at": iso(utc_now())},
        expect={"remaining": remaining},
        on_mismatch=lambda _old: Moved("the gift card changed meanwhile; retry"),
    )
