"""Group commit: many threads of ONE process (one store, one cache) moving one account.

Concurrent movements are combined into shared transactions; every rule of a single commit
must still hold: exact floor, exact running balance, replays answered once, a key used
twice in one batch posted once, a record that exists refused for its member only."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from account_credit.errors import Conflict, IdempotencyKeyReused, InsufficientFunds
from account_credit.store import Record
from account_credit.store.keys import account_pk
from tests.integration.helpers import CallCounter
from tests.integration.test_ledger_dynamodb import all_entries, assert_ledger_consistent, debit, open_funded

pytestmark = pytest.mark.integration


def test_concurrent_debits_in_one_process_share_transactions_and_stay_exact(store: Any, counter: CallCounter) -> None:
    balance, amount = 10_000, 37
    account_id = open_funded(store, balance)
    counter.reset()

    def attempt(i: int) -> str:
        try:
            debit(store, account_id, amount, f"g-{i}")
            return "ok"
        except InsufficientFunds:
            return "insufficient"

    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(attempt, range(400)))

    assert outcomes.count("ok") == balance // amount
    assert store.get_account(account_id).balance == balance % amount
    assert counter.calls["TransactWriteItems"] < outcomes.count("ok"), "movements were combined"
    assert_ledger_consistent(store, account_id)


def test_a_key_sent_many_times_at_once_posts_once_and_every_caller_gets_the_first_answer(store: Any) -> None:
    account_id = open_funded(store, 1_000)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: debit(store, account_id, 100, "same"), range(16)))
    assert sum(not r.replayed for r in results) == 1
    assert all(r.body == results[0].body for r in results)
    assert store.get_account(account_id).balance == 900
    assert_ledger_consistent(store, account_id)


def test_a_reused_key_with_another_body_is_refused_inside_a_batch(store: Any) -> None:
    account_id = open_funded(store, 10_000)
    debit(store, account_id, 10, "taken")

    def attempt(i: int) -> str:
        try:
            debit(store, account_id, 11 if i % 4 == 0 else 10, "taken" if i % 4 == 0 else f"free-{i}")
            return "ok"
        except IdempotencyKeyReused:
            return "reused"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(attempt, range(40)))
    assert outcomes.count("reused") == 10 and outcomes.count("ok") == 30
    assert store.get_account(account_id).balance == 10_000 - 31 * 10
    assert_ledger_consistent(store, account_id)


def test_an_existing_record_refuses_only_its_own_member(store: Any) -> None:
    account_id = open_funded(store, 10_000)
    store.put_record(Record(pk=account_pk(account_id), sk="MARK#dup", attrs={"kind": "mark"}))

    def attempt(i: int) -> str:
        uow = store.unit_of_work()
        from account_credit.domain import Floor, Movement
        from account_credit.money import Money
        from account_credit.services.idempotency import claim

        uow.move(Movement(account_id=account_id, amount=Money(-5, "USD"), type="test_debit", floor=Floor.ZERO))
        uow.put(
            Record(
                pk=account_pk(account_id),
                sk="MARK#dup" if i == 7 else f"MARK#{i}",
                attrs={"kind": "mark"},
                on_exists=lambda _old: Conflict("mark exists"),
            )
        )
        try:
            uow.commit(claim(account_id, "mark", f"m-{i}", {"i": i}), lambda p: (201, {"seq": p.entries[0].seq}))
            return "ok"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(attempt, range(24)))
    assert outcomes.count("conflict") == 1 and outcomes.count("ok") == 23
    assert store.get_account(account_id).balance == 10_000 - 23 * 5
    assert len(all_entries(store, account_id)) == 1 + 23
    assert_ledger_consistent(store, account_id)


def test_batches_larger_than_one_transaction_split_and_every_caller_is_answered(store: Any) -> None:
    """Seven items per movement: 32 waiting movements need several transactions of at most 100 items."""
    from account_credit.domain import Floor, Movement
    from account_credit.money import Money
    from account_credit.services.idempotency import claim

    account_id = open_funded(store, 100_000)

    def attempt(i: int) -> int:
        uow = store.unit_of_work()
        uow.move(Movement(account_id=account_id, amount=Money(-3, "USD"), type="test_debit", floor=Floor.ZERO))
        for n in range(5):
            uow.put(Record(pk=account_pk(account_id), sk=f"WIDE#{i}#{n}", attrs={"kind": "wide"}))
        result = uow.commit(claim(account_id, "wide", f"w-{i}", {"i": i}), lambda p: (201, {"seq": p.entries[0].seq}))
        return int(result.body["seq"])

    with ThreadPoolExecutor(max_workers=32) as pool:
        seqs = list(pool.map(attempt, range(96)))
    assert sorted(seqs) == list(range(2, 98)), "every movement posted once, in one sequence"
    assert store.get_account(account_id).balance == 100_000 - 96 * 3
    assert_ledger_consistent(store, account_id)
