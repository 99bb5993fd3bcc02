"""A caller without HTTP moves money through the same command the adjustments route uses.

The router turns (request, operator) into ``Adjust`` and calls ``accounts.service.adjust``; a schedule calls
``accounts.service.debit`` / ``credit`` (or builds ``Adjust``) itself. Stored idempotency records must replay
for both: the command's fingerprint is exactly what the route hashed before commands existed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from _support import OPERATOR, adjustment

from account_credit.accounts import schemas
from account_credit.accounts import service as accounts
from account_credit.accounts.commands import Adjust
from account_credit.kernel.domain import Account, EntryType, Floor
from account_credit.kernel.errors import CurrencyMismatchError, IdempotencyKeyReused, InsufficientFunds, InvalidInput
from account_credit.kernel.money import Money
from account_credit.platform import idempotency
from account_credit.platform.store import CommitResult
from account_credit.platform.store.memory import MemoryStore

Opener = Callable[..., Account]


def snapshot(store: MemoryStore) -> dict:
    with store.lock:
        return copy.deepcopy(store.items)


def balance(store: MemoryStore, account_id: str) -> int:
    acc = store.get_account(account_id)
    assert acc is not None
    return acc.balance


def monthly_fee(store: MemoryStore, account_id: str, month: str) -> CommitResult:
    """What a billing schedule does: no request, no principal, no HTTP - one debit, once per month."""
    return accounts.debit(
        store,
        account_id,
        Money(1_500, "USD"),
        floor=Floor.ZERO,
        reason=f"Support plan {month}",
        idempotency_key=f"support-fee-{month}",
        actor="schedule:support-fees",
        reference={"plan": "support", "month": month},
    )


def test_a_plain_function_debits_once_per_key(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account().account_id
    accounts.credit(store, acc, 5_000, reason="opening balance", idempotency_key="open", actor="job:migration")
    first = monthly_fee(store, acc, "2026-04")
    assert not first.replayed
    entry = first.body["entry"]
    assert (entry["amount"], entry["type"], entry["actor"]) == (
        -1_500,
        EntryType.ADJUSTMENT_DEBIT,
        "schedule:support-fees",
    )
    assert entry["description"] == "Support plan 2026-04" and entry["reference"] == {
        "plan": "support",
        "month": "2026-04",
    }
    assert balance(store, acc) == 3_500
    before = snapshot(store)
    for _ in range(3):  # the schedule retries: the same key moves nothing twice and answers the first result
        again = monthly_fee(store, acc, "2026-04")
        assert again.replayed and again.body == first.body
    assert snapshot(store) == before
    assert balance(store, acc) == 3_500
    monthly_fee(store, acc, "2026-05")  # another key, another debit
    assert balance(store, acc) == 2_000


def test_a_debit_never_goes_below_its_floor_and_a_refusal_keeps_the_key(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account().account_id  # a credit line of 200000, which a ZERO floor does not use
    accounts.credit(store, acc, 1_000, reason="opening balance", idempotency_key="open", actor="job:migration")
    before = snapshot(store)
    with pytest.raises(InsufficientFunds) as info:
        monthly_fee(store, acc, "2026-04")
    assert info.value.extra["shortfall"] == 500
    assert snapshot(store) == before
    accounts.credit(store, acc, 500, reason="top-up", idempotency_key="top-up", actor="job:migration")
    assert not monthly_fee(store, acc, "2026-04").replayed  # the refused key was not consumed
    assert balance(store, acc) == 0
    # the operator's floor (the default) uses the credit line
    used = accounts.debit(store, acc, 700, reason="fee", idempotency_key="fee", actor="schedule:x")
    assert not used.replayed and balance(store, acc) == -700


def test_a_key_reused_with_another_floor_or_reference_is_refused(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account().account_id
    accounts.credit(store, acc, 5_000, reason="opening balance", idempotency_key="open", actor="job:migration")
    accounts.debit(store, acc, 100, reason="fee", idempotency_key="k", actor="schedule:x")
    with pytest.raises(IdempotencyKeyReused):
        accounts.debit(store, acc, 100, floor=Floor.ZERO, reason="fee", idempotency_key="k", actor="schedule:x")
    with pytest.raises(IdempotencyKeyReused):
        accounts.debit(store, acc, 100, reason="fee", idempotency_key="k", actor="schedule:x", reference={"a": "b"})
    assert accounts.debit(store, acc, 100, reason="fee", idempotency_key="k", actor="schedule:y").replayed
    assert balance(store, acc) == 4_900


def test_money_in_another_currency_and_impossible_amounts_are_refused(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("USD").account_id
    before = snapshot(store)
    with pytest.raises(CurrencyMismatchError):
        accounts.debit(store, acc, Money(100, "EUR"), reason="fee", idempotency_key="k", actor="schedule:x")
    for amount in (0, -5):
        with pytest.raises(InvalidInput):
            accounts.credit(store, acc, amount, reason="fee", idempotency_key="k", actor="schedule:x")
    with pytest.raises(InvalidInput):
        accounts.credit(store, acc, 5, reason="  ", idempotency_key="k", actor="schedule:x")
    with pytest.raises(InvalidInput):
        Adjust(acc, "refund", 5, "why", "k", "schedule:x")  # type: ignore[arg-type]
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "request_",
    [
        adjustment("credit", 12_550, "goodwill"),
        adjustment("debit", 400, "fee\nsecond line"),
        adjustment("credit", 100, currency="USD"),
        adjustment("debit", 10**13, "  trimmed  ", currency="JPY"),
    ],
)
def test_the_request_and_the_command_are_the_same_adjustment(request_: schemas.Adjustment) -> None:
    """Byte-identical fingerprints: what the route hashed before commands (the validated body) is what the
    command hashes now, so idempotency records stored by either replay for the other."""
    command = request_.command("acc_1", "key-1", OPERATOR.actor)
    assert command == Adjust(
        "acc_1", request_.type, request_.amount, request_.reason, "key-1", OPERATOR.actor, request_.currency
    )
    assert command.fingerprint() == request_.model_dump(mode="json")
    assert idempotency.request_hash(command.fingerprint()) == idempotency.request_hash(request_.model_dump(mode="json"))


def test_a_replay_by_the_route_answers_a_schedules_adjustment(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account().account_id
    request = adjustment("credit", 700, "top-up")
    first = accounts.credit(store, acc, 700, reason="top-up", idempotency_key="key-1", actor="schedule:x")
    again = accounts.adjust(store, request.command(acc, "key-1", OPERATOR.actor))
    assert again.replayed and again.body == first.body
    assert balance(store, acc) == 700
