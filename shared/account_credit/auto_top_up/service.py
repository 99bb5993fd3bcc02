"""Auto top-up: the per-account setting, and the charge of the default card once per crossing of its level.

Items (docs/DATA_MODEL.md; keys: platform/store/keys.py):

* setting   ``ACCOUNT#<id>`` / ``AUTOTOPUP``                enabled, below, amount (minor units), version
* crossing  ``ACCOUNT#<id>`` / ``AUTOTOPUPX#<seq>``         one fall below the level and its outcome

The table's stream delivers every change of the account item (functions/auto_top_up). A change that is a
crossing (auto_top_up/rules.py) is named by the account's ``seq`` in its new image: the same on every
redelivery. Exactly once:

1. the crossing item is written (must not exist) before anything is charged, with the amount and the card
   fixed there, so every later attempt charges the same;
2. the card is charged off-session with the idempotency key ``autotopup-<account>-<seq>``: the provider makes
   one charge of it, however often it is asked;
3. a success is credited in ONE transaction, as any card top-up is (deposits/service.py): the balance and its
   ``deposit_card`` entry, a credited deposit item, the payment's link (a later refund or dispute of the charge
   finds its deposit), the crossing's outcome, ``auto_top_up.succeeded`` and an idempotency record keyed by the
   crossing; the tax document follows from the entry as for every top-up. A decline sets the outcome and
   writes ``auto_top_up.declined`` in one conditional write: told once.

A redelivered record finds the crossing done and does nothing. One that finds it claimed by a live attempt
fails (the stream retries it later); a claim older than ``STALE_CLAIM_SECONDS`` (its function died) is taken
over. A provider that does not answer marks the claim interrupted (released to the next attempt, nothing else
written) and fails the record: the stream's retry charges again with the same key, so still one charge.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from account_credit.auto_top_up import rules
from account_credit.auto_top_up.schemas import AutoTopUpUpdate, AutoTopUpView, CardView
from account_credit.deposits.records import check_amount, plain
from account_credit.deposits.state import Deposit, DepositState, Method
from account_credit.kernel.domain import Account, EntryType, Movement
from account_credit.kernel.errors import Conflict, DomainError, IdempotencyKeyReused, NotFound
from account_credit.kernel.ids import iso, new_id, utc_now
from account_credit.kernel.money import Money
from account_credit.payment_methods import reliance as methods
from account_credit.platform import idempotency, payments
from account_credit.platform.commit import commit
from account_credit.platform.events import DomainEvent, EventType
from account_credit.platform.payments.port import PaymentProvider, SavedCard
from account_credit.platform.store import Posting, Record, RecordUpdate, Store, keys, stream_images
from account_credit.platform.store.base import write_alone
from account_credit.platform.store.items import account_from_item

logger = Logger(child=True)

Providers = Callable[[str], PaymentProvider]  # provider name -> its adapter (payments.provider)

# Longer than the auto top-up function's timeout (60 s): a claim this old has no live attempt.
STALE_CLAIM_SECONDS = 120
ACTOR = "auto_top_up"
SCOPE = "auto-top-up"
DONE = frozenset({"succeeded", "declined", "no_card", "recovered", "disabled"})


class CrossingInFlight(Exception):
    """Another attempt holds a fresh claim on this crossing: fail the record, the stream retries it later."""


class _Changed(DomainError):
    status = 409

    def __init__(self, old: dict[str, Any] | None = None) -> None:
        super().__init__("changed meanwhile")
        self.old = old


# --------------------------------------------------------------------------- the setting


def setting(store: Store, account_id: str) -> rules.Setting:
    item = store.get_item(*keys.auto_top_up(account_id))
    if item is None:
        return rules.Setting()
    return rules.Setting(
        enabled=bool(item.get("enabled")),
        below=int(item["below"]) if item.get("below") is not None else None,
        amount=int(item["amount"]) if item.get("amount") is not None else None,
        version=int(item.get("version", 0)),
        updated_at=item.get("updated_at"),
        actor=item.get("actor"),
    )


def chargeable_card(store: Store, account_id: str) -> methods.Card | None:
    """The card an auto top-up charges now: the default method if it is a card, else the alternate."""
    prefs = methods.preferences(store, account_id)
    for pm_id in rules.candidates(prefs):
        found = methods.card(store, account_id, pm_id)
        if found is not None:
            return found
    return None


def _account(store: Store, account_id: str) -> Account:
    account = store.known_account(account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    return account


def view(store: Store, account_id: str) -> dict[str, Any]:
    """``GET /accounts/{id}/auto-top-up`` (the caller may see the account: checked at the edge)."""
    account = _account(store, account_id)
    s = setting(store, account_id)
    card = chargeable_card(store, account_id)
    return AutoTopUpView(
        account_id=account_id,
        currency=account.currency,
        enabled=s.enabled,
        below=s.below,
        amount=s.amount,
        card=CardView(
            payment_method_id=card.payment_method_id,
            brand=card.saved.brand,
            last4=card.saved.last4,
            exp_month=card.saved.exp_month,
            exp_year=card.saved.exp_year,
        )
        if card
        else None,
        updated_at=s.updated_at,
    ).model_dump(mode="json")


def configure(store: Store, account_id: str, body: AutoTopUpUpdate, actor: str) -> dict[str, Any]:
    """``PUT /accounts/{id}/auto-top-up``: the whole setting. The amount must be a top-up the account may make
    (the deposit bounds). Changing it never charges by itself: only the next fall through the level does."""
    account = _account(store, account_id)
    check_amount(account, body.amount, None)
    key = keys.auto_top_up(account_id)
    for _ in range(5):
        now = iso(utc_now())
        attrs = {"enabled": body.enabled, "below": body.below, "amount": body.amount, "updated_at": now, "actor": actor}
        current = store.get_item(*key)
        try:
            if current is None:
                store.put_record(Record(*key, attrs={"kind": "auto_top_up", "version": 1, **attrs}, on_exists=_Changed))
            else:
                version = int(current.get("version", 0))
                store.update_record(
                    RecordUpdate(
                        *key,
                        changes={**attrs, "version": version + 1},
                        expect={"version": version},
                        on_mismatch=_Changed,
                    )
                )
        except _Changed:
            continue  # written at the same time by someone else: this request's setting is the last
        return view(store, account_id)
    raise Conflict("the auto top-up setting kept changing; retry")


# --------------------------------------------------------------------------- the stream


def on_stream_record(store: Store, record: dict[str, Any], providers: Providers = payments.provider) -> str:
    """One DynamoDB stream record (Lambda's format): what it did (``no_crossing``, ``succeeded``, ``declined``,
    ``duplicate``...). Raises for what the stream should retry."""
    old, new = stream_images(record)
    if new is None or old is None or new.get("kind") != "account" or old.get("kind") != "account":
        return "ignored"
    return on_account_change(store, account_from_item(old), account_from_item(new), providers)


def on_account_change(store: Store, old: Account, new: Account, providers: Providers = payments.provider) -> str:
    if not (new.seq > old.seq and new.balance < old.balance):
        return "no_crossing"  # no debit: the setting is not even read (most account changes end here)
    current = setting(store, new.account_id)
    if not rules.crossed(current, old.balance, old.seq, new.balance, new.seq):
        return "no_crossing"
    return top_up(store, new, current, providers)


def _outcome(account_id: str, seq: int, claimed_at: int, changes: dict[str, Any]) -> RecordUpdate:
    """Set the crossing's outcome, only if this attempt still holds it (a slow attempt taken over loses)."""
    return RecordUpdate(
        *keys.auto_top_up_crossing(account_id, seq),
        changes={**changes, "finished_at": iso(utc_now())},
        expect={"state": "charging", "claimed_at": claimed_at},
        on_mismatch=_Changed,
    )


def _finish(store: Store, account_id: str, seq: int, claimed_at: int, state: str, event: DomainEvent | None) -> str:
    uow = store.unit_of_work()
    uow.update(_outcome(account_id, seq, claimed_at, {"state": state}))
    if event is not None:
        uow.emit(event)
    try:
        write_alone(uow)
    except _Changed:
        return "duplicate"
    return state


def _claim(store: Store, account: Account, seq: int, s: rules.Setting) -> tuple[dict[str, Any], int] | str:
    """Hold the crossing for this attempt: (the crossing item, our claim time), or the outcome when there is
    nothing (more) to do."""
    key = keys.auto_top_up_crossing(account.account_id, seq)
    claimed_at = time.time_ns()
    first: dict[str, Any] = {
        "kind": "auto_top_up_crossing",
        "account_id": account.account_id,
        "seq": seq,
        "below": s.below,
        "amount": s.amount,
        "currency": account.currency,
        "state": "charging",
        "claimed_at": claimed_at,
        "created_at": iso(utc_now()),
    }
    fresh = store.get_account(account.account_id)
    if fresh is not None and s.below is not None and fresh.balance >= s.below:
        first["state"] = "recovered"  # topped up before we got here: nothing to charge for this crossing
    else:
        card = chargeable_card(store, account.account_id)
        if card is None:
            first["state"] = "no_card"
        else:
            first["card"] = {"payment_method_id": card.payment_method_id, **vars(card.saved)}
    if store.put_if_absent(key, first):
        return (first, claimed_at) if first["state"] == "charging" else str(first["state"])
    held = store.get_item(*key)
    if held is None:
        raise CrossingInFlight(f"crossing {seq} of {account.account_id} vanished")  # never removed: retry
    if held.get("state") in DONE:
        return "duplicate"
    age = time.time_ns() - int(held.get("claimed_at", 0))
    if held.get("state") == "charging" and age < STALE_CLAIM_SECONDS * 1_000_000_000:
        raise CrossingInFlight(f"crossing {seq} of {account.account_id} is being charged")
    try:  # interrupted, or left charging by an attempt that died: take it over
        store.update_record(
            RecordUpdate(
                *key,
                changes={"state": "charging", "claimed_at": claimed_at},
                expect={"state": held["state"], "claimed_at": held.get("claimed_at", 0)},
                on_mismatch=_Changed,
            )
        )
    except _Changed:
        raise CrossingInFlight(f"crossing {seq} of {account.account_id} was taken over") from None
    return held, claimed_at


def charge_key(account_id: str, seq: int) -> str:
    """The provider's idempotency key of a crossing's charge: one charge per crossing at the provider."""
    return f"autotopup-{account_id}-{seq}"


def top_up(store: Store, account: Account, s: rules.Setting, providers: Providers = payments.provider) -> str:
    """Charge and credit the crossing at ``account.seq`` (the account's new image) once."""
    seq = account.seq
    claimed = _claim(store, account, seq, s)
    if isinstance(claimed, str):
        return claimed
    crossing, claimed_at = claimed
    card_attrs = dict(crossing["card"])
    pm_id = str(card_attrs.pop("payment_method_id"))
    card = SavedCard(**card_attrs)
    amount = Money(int(crossing["amount"]), str(crossing["currency"]))
    provider = providers(card.provider)
    try:
        charge = provider.charge_saved_card(
            amount=amount,
            card=card,
            account_id=account.account_id,
            reference=f"auto-top-up-{seq}",
            idempotency_key=charge_key(account.account_id, seq),
        )
    except Exception:
        # The outcome is unknown: release the claim to the stream's retry (same key: still one charge).
        logger.exception("auto top-up charge failed at the provider", extra={"account_id": account.account_id})
        with contextlib.suppress(_Changed):  # taken over meanwhile: that attempt finishes it
            store.update_record(
                RecordUpdate(
                    *keys.auto_top_up_crossing(account.account_id, seq),
                    changes={"state": "interrupted"},
                    expect={"state": "charging", "claimed_at": claimed_at},
                    on_mismatch=_Changed,
                )
            )
        raise
    if charge.status != "succeeded":
        event = DomainEvent(
            account_id=account.account_id,
            type=EventType.AUTO_TOP_UP_DECLINED,
            payload={
                "amount": amount.amount,
                "currency": amount.currency,
                "brand": card.brand,
                "last4": card.last4,
                "decline_code": charge.decline_code or "declined",
            },
        )
        return _finish(store, account.account_id, seq, claimed_at, "declined", event)
    paid = _Paid(pm_id, card, provider.name, charge.payment_id or "")
    return _credit(store, account.account_id, seq, claimed_at, amount, paid)


@dataclass(frozen=True)
class _Paid:
    payment_method_id: str
    card: SavedCard
    provider: str
    payment_id: str


def _credit(store: Store, account_id: str, seq: int, claimed_at: int, amount: Money, paid: _Paid) -> str:
    """The charge as a card top-up, in one transaction (deposits/service.py's credit of a card payment)."""
    now = iso(utc_now())
    deposit_id = new_id("dep")
    provider, payment_id = paid.provider, paid.payment_id
    deposit = Deposit(
        deposit_id=deposit_id,
        account_id=account_id,
        method=Method.CARD,
        currency=amount.currency,
        amount=amount.amount,
        state=DepositState.CREDITED,
        credited_amount=amount.amount,
        created_at=now,
        updated_at=now,
        actor=ACTOR,
        provider=provider,
        payment_id=payment_id,
    )
    reference = {"deposit_id": deposit_id, "provider": provider, "payment_id": payment_id, "auto_top_up": str(seq)}
    uow = store.unit_of_work()
    uow.move(
        Movement(
            account_id=account_id,
            amount=amount,
            type=EntryType.DEPOSIT_CARD,
            description=f"Automatic card top-up {deposit_id}",
            actor=ACTOR,
            reference=reference,
        )
    )
    uow.put(Record(*keys.deposit(account_id, deposit_id), attrs=plain(deposit.attrs())))
    if payment_id:
        uow.put(
            Record(
                *keys.payment_link(provider, payment_id),
                attrs={
                    "kind": "payment_link",
                    "provider": provider,
                    "payment_id": payment_id,
                    "account_id": account_id,
                    "deposit_id": deposit_id,
                    "created_at": now,
                },
                on_exists=_Changed,
            )
        )
    uow.update(
        _outcome(
            account_id, seq, claimed_at, {"state": "succeeded", "deposit_id": deposit_id, "payment_id": payment_id}
        )
    )
    uow.emit(
        DomainEvent(
            account_id=account_id,
            type=EventType.AUTO_TOP_UP_SUCCEEDED,
            payload={
                "amount": amount.amount,
                "currency": amount.currency,
                "deposit_id": deposit_id,
                "payment_method_id": paid.payment_method_id,
                "brand": paid.card.brand,
                "last4": paid.card.last4,
            },
        )
    )
    claim = idempotency.claim(account_id, SCOPE, f"crossing-{seq}", {"seq": seq, "amount": amount.amount})

    def respond(_posting: Posting) -> dict[str, Any]:
        return {"deposit_id": deposit_id, "payment_id": payment_id}

    try:
        result = commit(uow, claim, respond)
    except (_Changed, IdempotencyKeyReused):
        return "duplicate"  # credited by another attempt at this crossing
    return "duplicate" if result.replayed else "succeeded"
