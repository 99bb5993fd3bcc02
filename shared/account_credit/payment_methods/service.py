"""Payment methods of an account, and the one model of which of them pays: the account's preferences.

Methods (pk=ACCOUNT#<id>, sk=PM#<payment_method_id>, kind=payment_method), by ``type``:

* ``card``: the provider's token, brand, last four, expiry, optional billing address - never a card number.
  In the card-expiry index: ``gsi1pk = CARDEXP#<YYYY-MM>``, ``gsi1sk = <account_id>#<payment_method_id>``
  (kept right when the expiry changes; the item is deleted with the card). Its token item (``PMTOKEN#``) makes
  the same card registered twice one method.
* ``gift_card``: a gift card added by its code; its value lives on the gift card (``gift_cards.py``).
* ``invoice``: pay on invoice (bank transfer or check): a payment request is issued and the payment waits for
  the transfer. One per account, id ``invoice``.
* ``balance``: virtual, id ``balance``, always there (never stored).

Preferences (sk=PMPREFS): ``default`` ("balance" or a method id) and ``alternate`` (a method id, "balance" or
None), with a ``version`` every change is conditioned on. No item: default "balance", no alternate. The
account's first card (the race-safe ``PMFIRST`` item) becomes the alternate when none is set, in the same
transaction as the card, so orders charge it when the balance falls short.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from account_credit.kernel.errors import ConcurrentUpdate, Conflict, DomainError, InvalidInput, NotFound
from account_credit.kernel.ids import iso, new_id, utc_now
from account_credit.platform.payments import provider
from account_credit.platform.payments.port import BillingAddress, PaymentProvider, SavedCard
from account_credit.platform.store import Record, RecordUpdate, Store, keys
from account_credit.platform.store.base import UnitOfWork, write_alone

BALANCE = "balance"
INVOICE = "invoice"  # the id of the account's pay-on-invoice method
CREDIT = "credit"  # not a method: the credit line, which an order may name in its list of methods
TYPES = ("card", "gift_card", "invoice")
_ATTEMPTS = 5


@dataclass(frozen=True)
class PaymentMethod:
    payment_method_id: str
    account_id: str
    type: str  # card | gift_card | invoice | balance
    created_at: str
    card: SavedCard | None = None
    billing_address: BillingAddress | None = None
    gift_card_code: str | None = None
    currency: str | None = None

    def as_dict(self, role: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "payment_method_id": self.payment_method_id,
            "type": self.type,
            "role": role,
            "created_at": self.created_at,
        }
        if self.card is not None:
            out |= {
                "provider": self.card.provider,
                "brand": self.card.brand,
                "last4": self.card.last4,
                "exp_month": self.card.exp_month,
                "exp_year": self.card.exp_year,
                "billing_address": self.billing_address.as_dict() if self.billing_address else None,
            }
        if self.gift_card_code is not None:
            out |= {"last4": self.gift_card_code[-4:], "currency": self.currency}
        return out

    def expired(self, today: date) -> bool:
        """A card past its expiry month (the provider would decline it)."""
        return self.card is not None and (self.card.exp_year, self.card.exp_month) < (today.year, today.month)


def balance_method(account_id: str) -> PaymentMethod:
    return PaymentMethod(payment_method_id=BALANCE, account_id=account_id, type=BALANCE, created_at="")


@dataclass(frozen=True)
class Preferences:
    """Which method pays: the default, then the alternate when the default fails (declined, expired)."""

    default: str = BALANCE
    alternate: str | None = None
    version: int = 0  # 0: no item yet

    def role_of(self, payment_method_id: str) -> str | None:
        if payment_method_id == self.default:
            return "default"
        if payment_method_id == self.alternate:
            return "alternate"
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"default": self.default, "alternate": self.alternate}


# --------------------------------------------------------------------------- items


def expiry_index(account_id: str, payment_method_id: str, exp_month: int, exp_year: int) -> dict[str, str]:
    """The card-expiry index keys of a card (``keys.card_expiry_index``)."""
    return {
        "gsi1pk": keys.card_expiry_index(f"{exp_year:04d}-{exp_month:02d}"),
        "gsi1sk": f"{account_id}#{payment_method_id}",
    }


def card_record(
    account_id: str, card: SavedCard, billing_address: BillingAddress | None = None
) -> tuple[PaymentMethod, Record]:
    """A new card payment method as a Record, to commit alone or inside a unit of work."""
    pm = PaymentMethod(
        payment_method_id=new_id("pm"),
        account_id=account_id,
        type="card",
        created_at=iso(utc_now()),
        card=card,
        billing_address=billing_address,
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
            "billing_address": billing_address.as_dict() if billing_address else None,
            "created_at": pm.created_at,
            **expiry_index(account_id, pm.payment_method_id, card.exp_month, card.exp_year),
        },
    )
    return pm, record


def from_item(item: dict[str, Any]) -> PaymentMethod:
    kind = str(item.get("type", "card"))
    card = None
    address = None
    if kind == "card":
        card = SavedCard(
            provider=item["provider"],
            token=item["token"],
            brand=item["brand"],
            last4=item["last4"],
            exp_month=int(item["exp_month"]),
            exp_year=int(item["exp_year"]),
        )
        address = BillingAddress.from_dict(item["billing_address"]) if item.get("billing_address") else None
    return PaymentMethod(
        payment_method_id=item["payment_method_id"],
        account_id=item["account_id"],
        type=kind,
        created_at=item["created_at"],
        card=card,
        billing_address=address,
        gift_card_code=item.get("code"),
        currency=item.get("currency"),
    )


# --------------------------------------------------------------------------- reads


def list_methods(store: Store, account_id: str) -> list[PaymentMethod]:
    """The stored methods (cards, gift cards, invoice), oldest first; the balance is not stored."""
    items = store.query_prefix(*keys.payment_methods_prefix(account_id), limit=1000)
    return sorted((from_item(i) for i in items), key=lambda m: (m.created_at, m.payment_method_id))


def get_method(store: Store, account_id: str, payment_method_id: str) -> PaymentMethod | None:
    """One method by id (``balance`` is the virtual balance method); None if there is no such method."""
    if payment_method_id == BALANCE:
        return balance_method(account_id)
    item = store.get_item(*keys.payment_method(account_id, payment_method_id))
    return from_item(item) if item is not None else None


def preferences(store: Store, account_id: str) -> Preferences:
    item = store.get_item(*keys.payment_preferences(account_id))
    if item is None:
        return Preferences()
    alternate = item.get("alternate")
    return Preferences(
        default=str(item.get("default") or BALANCE),
        alternate=str(alternate) if alternate else None,
        version=int(item.get("version", 1)),
    )


def plan_for(store: Store, account_id: str, assigned: str | None) -> tuple[str, ...]:
    """The methods to try for a payment the account's rule decides (a renewal): the assigned method (None: the
    default), then the alternate; each once, without methods that no longer exist."""
    prefs = preferences(store, account_id)
    out: list[str] = []
    for pm_id in (assigned or prefs.default, prefs.alternate):
        if pm_id is None or pm_id in out:
            continue
        if pm_id in (BALANCE, CREDIT) or get_method(store, account_id, pm_id) is not None:
            out.append(pm_id)
    return tuple(out)


# --------------------------------------------------------------------------- preferences


class _PrefsMoved(DomainError):
    status = 409


def prefs_write(
    account_id: str, old: Preferences, new_default: str, new_alternate: str | None
) -> Record | RecordUpdate:
    """The write that turns ``old`` into the new preferences, conditioned on ``old`` (raises ``_PrefsMoved``)."""
    values = {
        "default": new_default,
        "alternate": new_alternate,
        "version": old.version + 1,
        "updated_at": iso(utc_now()),
    }
    if old.version == 0:
        return Record(
            *keys.payment_preferences(account_id),
            attrs={"kind": "payment_preferences", "account_id": account_id, **values},
            on_exists=lambda _old: _PrefsMoved("preferences changed"),
        )
    return RecordUpdate(
        *keys.payment_preferences(account_id),
        changes=values,
        expect={"version": old.version},
        on_mismatch=lambda _old: _PrefsMoved("preferences changed"),
    )


def _add(uow: UnitOfWork, write: Record | RecordUpdate) -> None:
    if isinstance(write, Record):
        uow.put(write)
    else:
        uow.update(write)


def _change_prefs(
    store: Store, account_id: str, change: Callable[[Preferences], tuple[str, str | None] | None]
) -> Preferences:
    """Apply ``change`` (None: nothing to change) to the current preferences, again if they moved meanwhile."""
    for _ in range(_ATTEMPTS):
        old = preferences(store, account_id)
        new = change(old)
        if new is None or new == (old.default, old.alternate):
            return old
        uow = store.unit_of_work()
        _add(uow, prefs_write(account_id, old, *new))
        try:
            write_alone(uow)
        except _PrefsMoved:
            continue
        return Preferences(default=new[0], alternate=new[1], version=old.version + 1)
    raise ConcurrentUpdate("the payment preferences keep changing; retry")


def set_preferences(store: Store, account_id: str, default: str, alternate: str | None) -> Preferences:
    """Set the default and alternate methods: each must exist (or be ``balance``), and they must differ."""
    for role, pm_id in (("default", default), ("alternate", alternate)):
        if pm_id is not None and get_method(store, account_id, pm_id) is None:
            raise InvalidInput(f"the account has no payment method {pm_id!r}", field=role)
    if alternate == default:
        raise InvalidInput("the alternate must differ from the default", field="alternate")
    return _change_prefs(store, account_id, lambda _old: (default, alternate))


# --------------------------------------------------------------------------- cards


class _FirstTaken(DomainError):
    status = 409


class _Saved(DomainError):
    status = 409

    def __init__(self, old: dict[str, Any]) -> None:
        super().__init__("card saved already")
        self.old = old


def save_card(
    store: Store, account_id: str, card: SavedCard, billing_address: BillingAddress | None = None
) -> PaymentMethod:
    """Store a card; the first card of an account becomes its alternate (when it has none). Same token twice: kept
    once.

    Both hold under concurrency: the card is written with its token's item (must not exist) and, when it would be
    the first, with the account's first-card item (must not exist) and the preferences (conditioned on their
    version), in one transaction. Of two registrations at once exactly one is the first (the other is saved again
    as not the first), and the same token is one method."""
    existing = list_methods(store, account_id)
    for m in existing:
        if m.card is not None and m.card.provider == card.provider and m.card.token == card.token:
            return m
    first = not any(m.type == "card" for m in existing)
    for _ in range(_ATTEMPTS * 2):
        pm, record = card_record(account_id, card, billing_address)
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
            prefs = preferences(store, account_id)
            if prefs.alternate is None:
                _add(uow, prefs_write(account_id, prefs, prefs.default, pm.payment_method_id))
        try:
            write_alone(uow)
            return pm
        except _FirstTaken:
            first = False  # another registration won: this card is saved, not as the first
        except _PrefsMoved:
            continue  # the preferences changed meanwhile: read them again
        except _Saved as saved:  # the same card registered at once: one method
            item = store.get_item(*keys.payment_method(account_id, str(saved.old["payment_method_id"])))
            if item is not None:
                return from_item(item)
            # A token left behind by a deletion that did not finish: remove it, then save the card.
            store.delete_record(*keys.card_token(account_id, card.provider, card.token))
    raise ConcurrentUpdate("the account's payment methods keep changing; retry")


def update_card(
    store: Store,
    account_id: str,
    payment_method_id: str,
    exp_month: int,
    exp_year: int,
    billing_address: BillingAddress | None,
    providers: Callable[[str], PaymentProvider] = provider,
) -> PaymentMethod:
    """Change a card's expiry (and billing address) at its provider, then on the method (and its expiry index)."""
    method = get_method(store, account_id, payment_method_id)
    if method is None or method.type == BALANCE:
        raise NotFound(f"payment method {payment_method_id} not found")
    if method.card is None:
        raise InvalidInput(
            f"payment method {payment_method_id} is a {method.type}, not a card", field="payment_method_id"
        )
    today = utc_now()
    if (exp_year, exp_month) < (today.year, today.month):
        raise InvalidInput(f"the card expired in {exp_month:02d}/{exp_year}", field="exp_year")
    held = providers(method.card.provider).update_card(
        card=method.card, exp_month=exp_month, exp_year=exp_year, billing_address=billing_address
    )
    address = billing_address if billing_address is not None else method.billing_address
    store.update_record(
        RecordUpdate(
            *keys.payment_method(account_id, payment_method_id),
            changes={
                "exp_month": held.exp_month,
                "exp_year": held.exp_year,
                "billing_address": address.as_dict() if address else None,
                "updated_at": iso(utc_now()),
                **expiry_index(account_id, payment_method_id, held.exp_month, held.exp_year),
            },
            on_mismatch=lambda _old: NotFound(f"payment method {payment_method_id} not found"),
        )
    )
    return replace(
        method, card=replace(method.card, exp_month=held.exp_month, exp_year=held.exp_year), billing_address=address
    )


# --------------------------------------------------------------------------- pay on invoice


def add_invoice(store: Store, account_id: str) -> tuple[PaymentMethod, bool]:
    """The account's pay-on-invoice method (one per account); returns it and whether it is new."""
    now = iso(utc_now())
    created = store.put_if_absent(
        keys.payment_method(account_id, INVOICE),
        {
            "kind": "payment_method",
            "payment_method_id": INVOICE,
            "account_id": account_id,
            "type": "invoice",
            "created_at": now,
        },
    )
    method = get_method(store, account_id, INVOICE)
    assert method is not None
    return method, created


# --------------------------------------------------------------------------- delete


def _subscriptions(store: Store, account_id: str) -> list[dict[str, Any]]:
    return store.query_prefix(*keys.subscriptions_prefix(account_id), limit=1000)


def only_method_of(store: Store, account_id: str, payment_method_id: str, prefs: Preferences) -> str | None:
    """The id of an active auto-renewing subscription this method is the only method of, if any: the
    subscription is assigned this method (or falls back to the default, which is this method) and there is no
    alternate other than it."""
    if prefs.alternate is not None and prefs.alternate != payment_method_id:
        return None
    for sub in _subscriptions(store, account_id):
        if sub.get("state") != "active" or not sub.get("auto_renew"):
            continue
        if (sub.get("payment_method_id") or prefs.default) == payment_method_id:
            return str(sub.get("subscription_id") or sub["sk"].removeprefix("SUB#"))
    return None


def delete_method(store: Store, account_id: str, payment_method_id: str) -> None:
    """Remove a method: refused while it is the only method of an auto-renewing subscription. Deleting the
    default or the alternate clears that role (the default falls back to the balance)."""
    method = get_method(store, account_id, payment_method_id)
    if method is None:
        raise NotFound(f"payment method {payment_method_id} not found")
    if method.type == BALANCE:
        raise Conflict("the account balance is always a payment method", field="payment_method_id")
    prefs = preferences(store, account_id)
    sub = only_method_of(store, account_id, payment_method_id, prefs)
    if sub is not None:
        raise Conflict(
            f"payment method {payment_method_id} is the only method of auto-renewing subscription {sub}: "
            "add another method (or set an alternate) first, or turn off auto-renewal",
            field="payment_method_id",
            subscription_id=sub,
        )

    def without(old: Preferences) -> tuple[str, str | None] | None:
        if payment_method_id not in (old.default, old.alternate):
            return None
        default = BALANCE if old.default == payment_method_id else old.default
        alternate = None if old.alternate in (payment_method_id, default) else old.alternate
        return default, alternate

    _change_prefs(store, account_id, without)
    if method.card is not None:
        store.delete_record(*keys.card_token(account_id, method.card.provider, method.card.token))
    store.delete_record(*keys.payment_method(account_id, payment_method_id))
    first = store.get_item(*keys.first_card(account_id))
    if first is not None and first.get("payment_method_id") == payment_method_id:
        # The next card registered while the account has none becomes the alternate again.
        store.delete_record(*keys.first_card(account_id))
