"""The store contract: one set of tests run against the in-memory fake AND DynamoDB Local.

The unit tier trusts ``MemoryStore`` to behave like ``DynamoStore``; these tests are what
earns that trust. Every test runs twice (``[memory]`` and ``[dynamodb]``) through the public
Store / UnitOfWork API only. When they disagree, DynamoDB is right and the fake is fixed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from account_credit.kernel.domain import Account, CompanyDetails, Floor, LedgerEntry, Movement, PaymentSettings
from account_credit.kernel.errors import (
    Conflict,
    CurrencyMismatchError,
    DomainError,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidInput,
    NotFound,
)
from account_credit.kernel.ids import iso, utc_now
from account_credit.kernel.money import Money
from account_credit.platform.commit import commit as commit_unit
from account_credit.platform.idempotency import claim
from account_credit.platform.store import CommitResult, Posting, Record, RecordUpdate, Store
from account_credit.platform.store.cache import AccountCache
from account_credit.platform.store.dynamo import DynamoStore
from account_credit.platform.store.keys import account_pk
from account_credit.platform.store.memory import MemoryStore
from tests.integration.helpers import sequence

pytestmark = pytest.mark.integration

STORES = ["memory", "dynamodb"]


def _make_store(request: pytest.FixtureRequest, table: str | None = None) -> Store:
    if request.param == "memory":
        return MemoryStore()
    from tools import ddb_local

    if table is None:
        table = request.getfixturevalue("table_name")
    else:
        ddb_local.ensure_table(request.getfixturevalue("ddb_endpoint"), table)
    # Its own account cache: one warm Lambda container.
    return DynamoStore(table, dynamo_client=request.getfixturevalue("dynamo_client"), cache=AccountCache())


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Store:
    """Each test once per store; DynamoDB Local is only started for the ``dynamodb`` variant."""
    return _make_store(request)


@pytest.fixture(params=STORES)
def own_table_store(request: pytest.FixtureRequest) -> Store:
    """A store whose table holds nothing else (the low-balance index is one partition per table)."""
    return _make_store(request, table=f"contract-{uuid.uuid4().hex[:10]}")


# --------------------------------------------------------------------------- helpers


def open_account(
    store: Store,
    *,
    balance: int = 0,
    credit_limit: int = 0,
    threshold: int | None = None,
    currency: str = "USD",
    account_id: str | None = None,
) -> str:
    now = iso(utc_now())
    account = Account(
        account_id=account_id or f"acc_c{uuid.uuid4().hex}",
        currency=currency,
        company=CompanyDetails(name="Contract Ltd"),
        billing_emails=("billing@contract.test",),
        partner_id=None,
        settings=PaymentSettings(low_balance_threshold=threshold),
        credit_limit=credit_limit,
        created_at=now,
        updated_at=now,
    )
    store.create_account(account)
    if balance:
        commit(store, [credit(account.account_id, balance)])
    return account.account_id


def credit(account_id: str, amount: int, kind: str = "credit") -> Movement:
    return Movement(account_id=account_id, amount=Money(amount, "USD"), type=kind)


def debit(account_id: str, amount: int, floor: Floor = Floor.ZERO, kind: str = "debit") -> Movement:
    return Movement(account_id=account_id, amount=Money(-amount, "USD"), type=kind, floor=floor)


def answer(posting: Posting) -> dict[str, Any]:
    return {
        "entries": [e.as_dict() for e in posting.entries],
        "balances": {a: acc.balance for a, acc in posting.accounts.items()},
    }


def commit(
    store: Store,
    movements: Iterable[Movement] = (),
    *,
    key: str | None = None,
    body: Any = None,
    account_id: str | None = None,
    records: Iterable[Record] = (),
    updates: Iterable[RecordUpdate] = (),
    scope: str = "contract",
) -> CommitResult:
    """One unit of work; with ``key`` it carries an idempotency claim (body: the movements by default)."""
    movements = list(movements)
    uow = store.unit_of_work()
    for m in movements:
        uow.move(m)
    for r in records:
        uow.put(r)
    for u in updates:
        uow.update(u)
    idem = None
    if key is not None:
        owner = account_id or movements[0].account_id
        idem = claim(
            owner, scope, key, body if body is not None else [(m.account_id, m.amount.amount) for m in movements]
        )
    return commit_unit(uow, idem, answer)


def settle(store: Store) -> None:
    """Let the ledger sequencer catch up: on DynamoDB it reads the table's stream (the fake places entries as it
    writes them). Entries get their ``seq`` and ``balance_after`` from it."""
    if isinstance(store, DynamoStore):
        sequence(store)


def entries(store: Store, account_id: str, **filters: Any) -> list[LedgerEntry]:
    """Every page, newest first, after the sequencer caught up."""
    settle(store)
    out: list[LedgerEntry] = []
    cursor = None
    while True:
        page = store.list_entries(
            account_id,
            since=filters.get("since"),
            until=filters.get("until"),
            entry_type=filters.get("entry_type"),
            cursor=cursor,
            limit=filters.get("limit", 100),
        )
        out.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return out


def balance(store: Store, account_id: str) -> int:
    account = store.get_account(account_id)
    assert account is not None
    return account.balance


def assert_consistent(store: Store, account_id: str) -> list[LedgerEntry]:
    """balance == sum of entries, seq 1..n without gaps, every balance_after the exact running balance."""
    account = store.get_account(account_id)
    assert account is not None
    posted = sorted(entries(store, account_id), key=lambda e: e.seq)
    assert [e.seq for e in posted] == list(range(1, len(posted) + 1))
    assert account.seq == len(posted)
    running = 0
    for e in posted:
        running += e.amount
        assert e.balance_after == running
    assert account.balance == running
    return posted


def snapshot(store: Store, account_id: str) -> dict[str, list[dict[str, Any]]]:
    """What a failed commit must leave untouched: every item of the account's partition these tests
    write (the account, its entries, idempotency records and marks)."""
    pk = account_pk(account_id)
    return {prefix: store.query_prefix(pk, prefix, limit=1000) for prefix in ("ACCOUNT", "ENTRY#", "IDEM#", "MARK#")}


def mark(
    account_id: str, name: str, on_exists: Callable[[dict[str, Any]], DomainError] | None = None, **attrs: Any
) -> Record:
    """A record in the account's partition (``MARK#<name>``)."""
    if on_exists is None:
        return Record(pk=account_pk(account_id), sk=f"MARK#{name}", attrs={"kind": "mark", **attrs})
    return Record(pk=account_pk(account_id), sk=f"MARK#{name}", attrs={"kind": "mark", **attrs}, on_exists=on_exists)


class Exists(Conflict):
    """Carries the item on_exists / on_mismatch was given, so tests can see it."""

    def __init__(self, old: dict[str, Any] | None) -> None:
        super().__init__("exists or changed")
        self.old = old


# --------------------------------------------------------------------------- commits and the ledger


def test_every_commit_keeps_balance_equal_to_the_sum_of_entries_with_exact_balance_after(store: Store) -> None:
    account_id = open_account(store)
    steps = [credit(account_id, 1_000), debit(account_id, 300), debit(account_id, 700), credit(account_id, 5)]
    expected = 0
    for i, m in enumerate(steps):
        result = commit(store, [m], key=f"step-{i}")
        expected += m.amount.amount
        assert not result.replayed and result.posting is not None
        assert result.body["balances"] == {account_id: expected}
        posted = assert_consistent(store, account_id)
        assert posted[-1].entry_id == result.posting.entries[0].entry_id
        assert posted[-1].balance_after == expected
        assert posted[-1].idempotency_key == f"step-{i}"
    assert balance(store, account_id) == 5


def test_several_movements_of_one_account_in_one_commit_post_in_order(store: Store) -> None:
    account_id = open_account(store, balance=60)
    result = commit(store, [credit(account_id, 100), debit(account_id, 150)], key="two")
    posted = assert_consistent(store, account_id)
    assert [e.seq for e in posted] == [1, 2, 3] and {e.idempotency_key for e in posted[1:]} == {"two"}
    assert [e.entry_id for e in posted[1:]] == [e.entry_id for e in result.posting.entries]  # type: ignore[union-attr]
    assert [e.balance_after for e in posted] == [60, 160, 10]
    # Applied in order: the same two the other way round go below zero on the first.
    before = snapshot(store, account_id)
    with pytest.raises(InsufficientFunds):
        commit(store, [debit(account_id, 150), credit(account_id, 100)], key="two-reversed")
    assert snapshot(store, account_id) == before


def test_movements_of_two_accounts_commit_together_or_not_at_all(store: Store) -> None:
    a = open_account(store, balance=100)
    b = open_account(store)
    commit(store, [debit(a, 60), credit(b, 60)], key="transfer-1", account_id=a)
    assert (balance(store, a), balance(store, b)) == (40, 60)
    before = snapshot(store, a), snapshot(store, b)
    with pytest.raises(InsufficientFunds):
        commit(store, [credit(b, 50), debit(a, 50)], key="transfer-2", account_id=a)
    assert (snapshot(store, a), snapshot(store, b)) == before
    assert_consistent(store, a)
    assert_consistent(store, b)


def test_a_record_only_entry_moves_no_money_but_takes_a_seq(store: Store) -> None:
    account_id = open_account(store, balance=70)
    paid = Movement(account_id=account_id, amount=Money(0, "USD"), type="order_card", record_only=True)
    result = commit(store, [paid], key="card")
    assert result.posting is not None and result.posting.entries[0].amount == 0
    posted = assert_consistent(store, account_id)
    assert [(e.seq, e.amount, e.balance_after) for e in posted] == [(1, 70, 70), (2, 0, 70)]


def test_an_unknown_account_is_not_found_and_nothing_is_written(store: Store) -> None:
    known = open_account(store, balance=10)
    before = snapshot(store, known)
    with pytest.raises(NotFound):
        commit(store, [credit(known, 5), credit(f"acc_missing{uuid.uuid4().hex}", 5)], key="ghost", account_id=known)
    with pytest.raises(NotFound):
        commit(store, [debit(f"acc_missing{uuid.uuid4().hex}", 1)], records=[mark(known, "ghost")])
    assert snapshot(store, known) == before
    assert store.get_account(f"acc_missing{uuid.uuid4().hex}") is None


def test_wrong_currency_and_zero_amounts_are_refused_and_nothing_is_written(store: Store) -> None:
    account_id = open_account(store, balance=10)
    before = snapshot(store, account_id)
    with pytest.raises(CurrencyMismatchError):
        commit(store, [Movement(account_id=account_id, amount=Money(5, "EUR"), type="credit")], key="eur")
    with pytest.raises(InvalidInput):
        commit(store, [credit(account_id, 0)], key="zero")
    assert snapshot(store, account_id) == before


# --------------------------------------------------------------------------- floors


def test_a_zero_floor_debit_may_empty_the_balance_but_not_go_below(store: Store) -> None:
    account_id = open_account(store, balance=100, credit_limit=1_000)
    commit(store, [debit(account_id, 100)], key="all")
    before = snapshot(store, account_id)
    with pytest.raises(InsufficientFunds) as info:
        commit(store, [debit(account_id, 1)], key="one-more")
    assert info.value.extra["shortfall"] == 1
    assert snapshot(store, account_id) == before
    assert_consistent(store, account_id)


def test_a_credit_limit_debit_may_go_down_to_minus_the_limit_and_no_further(store: Store) -> None:
    account_id = open_account(store, balance=100, credit_limit=500)
    with pytest.raises(InsufficientFunds) as info:
        commit(store, [debit(account_id, 601, Floor.CREDIT_LIMIT)], key="past-limit")
    assert info.value.extra["shortfall"] == 1
    commit(store, [debit(account_id, 600, Floor.CREDIT_LIMIT)], key="to-limit")
    assert balance(store, account_id) == -500
    with pytest.raises(InsufficientFunds):
        commit(store, [debit(account_id, 1, Floor.CREDIT_LIMIT)], key="beyond")
    # No floor (a charge-back of money that was never ours) may go past the limit.
    commit(store, [debit(account_id, 50, Floor.NONE)], key="chargeback")
    assert balance(store, account_id) == -550
    assert_consistent(store, account_id)


def test_the_floor_holds_for_the_running_balance_of_one_commit(store: Store) -> None:
    account_id = open_account(store, balance=100)
    before = snapshot(store, account_id)
    with pytest.raises(InsufficientFunds):
        commit(store, [debit(account_id, 80), debit(account_id, 30)], key="both")
    assert snapshot(store, account_id) == before
    commit(store, [debit(account_id, 80), debit(account_id, 20)], key="both-fit")
    assert balance(store, account_id) == 0


def test_a_raised_credit_limit_counts_for_the_next_commit(store: Store) -> None:
    account_id = open_account(store, balance=10, credit_limit=0)
    with pytest.raises(InsufficientFunds):
        commit(store, [debit(account_id, 50, Floor.CREDIT_LIMIT)], key="before-raise")
    store.update_account(account_id, {"credit_limit": 100})
    commit(store, [debit(account_id, 50, Floor.CREDIT_LIMIT)], key="after-raise")
    assert balance(store, account_id) == -40
    assert_consistent(store, account_id)


# --------------------------------------------------------------------------- idempotency


def test_a_replay_returns_the_stored_first_answer_and_writes_nothing(store: Store) -> None:
    account_id = open_account(store, balance=500)
    first = commit(store, [debit(account_id, 300)], key="k")
    before = snapshot(store, account_id)
    again = commit(store, [debit(account_id, 300)], key="k")
    assert again.replayed and not first.replayed
    assert again.body == first.body
    assert again.posting is None
    assert snapshot(store, account_id) == before


def test_the_same_key_with_another_body_is_refused_and_writes_nothing(store: Store) -> None:
    account_id = open_account(store, balance=500)
    commit(store, [debit(account_id, 100)], key="k")
    before = snapshot(store, account_id)
    with pytest.raises(IdempotencyKeyReused):
        commit(store, [debit(account_id, 101)], key="k")
    assert snapshot(store, account_id) == before


def test_a_key_is_per_scope(store: Store) -> None:
    account_id = open_account(store, balance=500)
    commit(store, [debit(account_id, 100)], key="k", scope="one")
    second = commit(store, [debit(account_id, 100)], key="k", scope="other")
    assert not second.replayed and balance(store, account_id) == 300


def test_a_replay_wins_over_insufficient_funds(store: Store) -> None:
    account_id = open_account(store, balance=500)
    first = commit(store, [debit(account_id, 300)], key="k")
    again = commit(store, [debit(account_id, 300)], key="k")  # 200 left: applied again it would be refused
    assert again.replayed and again.body == first.body
    with pytest.raises(IdempotencyKeyReused):  # another body under that key: refused as reused, not as a decline
        commit(store, [debit(account_id, 301)], key="k")
    assert balance(store, account_id) == 200


def test_a_replay_wins_over_a_record_that_exists_and_an_update_that_no_longer_matches(store: Store) -> None:
    account_id = open_account(store, balance=500)
    store.put_record(mark(account_id, "task", state="open"))

    def unit(key: str) -> CommitResult:
        return commit(
            store,
            [debit(account_id, 10)],
            key=key,
            records=[mark(account_id, "done", on_exists=Exists)],
            updates=[
                RecordUpdate(
                    pk=account_pk(account_id),
                    sk="MARK#task",
                    changes={"state": "done"},
                    expect={"state": "open"},
                    on_mismatch=Exists,
                )
            ],
        )

    first = unit("k")
    before = snapshot(store, account_id)
    again = unit("k")
    assert again.replayed and again.body == first.body
    assert snapshot(store, account_id) == before
    with pytest.raises(Exists):  # a new key meets the record first
        unit("k2")


def test_a_commit_of_records_only_is_idempotent_too(store: Store) -> None:
    account_id = open_account(store)
    first = commit(store, key="rec", account_id=account_id, body={"r": 1}, records=[mark(account_id, "r1")])
    again = commit(store, key="rec", account_id=account_id, body={"r": 1}, records=[mark(account_id, "r1")])
    assert again.replayed and again.body == first.body == {"balances": {}, "entries": []}
    with pytest.raises(IdempotencyKeyReused):
        commit(store, key="rec", account_id=account_id, body={"r": 2}, records=[mark(account_id, "r2")])
    assert store.get_item(account_pk(account_id), "MARK#r2") is None


def test_the_answer_is_stored_as_json_and_replayed_exactly(store: Store) -> None:
    account_id = open_account(store, balance=5)
    uow = store.unit_of_work()
    uow.move(debit(account_id, 1))
    body = {"b": [1, 2], "a": {"z": None, "y": True}, "t": ("x", "y")}
    first = commit_unit(uow, claim(account_id, "contract", "json", {"n": 1}), lambda _p: body)
    uow = store.unit_of_work()
    uow.move(debit(account_id, 1))
    again = commit_unit(uow, claim(account_id, "contract", "json", {"n": 1}), lambda _p: {"other": 1})
    expected = {"a": {"y": True, "z": None}, "b": [1, 2], "t": ["x", "y"]}
    assert first.body == again.body == expected and again.replayed and not first.replayed


# --------------------------------------------------------------------------- records and record updates


def test_a_record_that_exists_raises_its_on_exists_error_with_the_stored_item_and_nothing_is_written(
    store: Store,
) -> None:
    account_id = open_account(store, balance=100)
    store.put_record(mark(account_id, "dup", n=1))
    before = snapshot(store, account_id)
    with pytest.raises(Exists) as info:
        commit(
            store,
            [debit(account_id, 10)],
            key="k",
            records=[mark(account_id, "new"), mark(account_id, "dup", on_exists=Exists, n=2)],
        )
    assert info.value.old is not None and info.value.old["n"] == 1 and info.value.old["sk"] == "MARK#dup"
    assert snapshot(store, account_id) == before
    # Nothing written means the key is not used up either.
    result = commit(store, [debit(account_id, 10)], key="k", records=[mark(account_id, "new")])
    assert not result.replayed and balance(store, account_id) == 90
    # The default on_exists is a Conflict.
    with pytest.raises(Conflict):
        store.put_record(mark(account_id, "dup"))


def test_an_update_whose_expect_does_not_match_raises_on_mismatch_and_nothing_is_written(store: Store) -> None:
    account_id = open_account(store, balance=100)
    store.put_record(mark(account_id, "task", state="open", tries=1))
    before = snapshot(store, account_id)
    stale = RecordUpdate(
        pk=account_pk(account_id),
        sk="MARK#task",
        changes={"state": "done"},
        expect={"state": "open", "tries": 2},
        on_mismatch=Exists,
    )
    with pytest.raises(Exists) as info:
        commit(store, [debit(account_id, 10)], key="k", records=[mark(account_id, "side")], updates=[stale])
    assert info.value.old is not None and info.value.old["tries"] == 1
    assert snapshot(store, account_id) == before
    # A record that does not exist is a mismatch too, and the callback gets None.
    missing = RecordUpdate(pk=account_pk(account_id), sk="MARK#nothing", changes={"x": 1}, on_mismatch=Exists)
    with pytest.raises(Exists) as info:
        store.update_record(missing)
    assert info.value.old is None
    assert store.get_item(account_pk(account_id), "MARK#nothing") is None


def test_a_matching_update_sets_its_changes_and_keeps_the_other_attributes(store: Store) -> None:
    account_id = open_account(store)
    store.put_record(mark(account_id, "task", state="open", tries=1, note="keep"))
    store.update_record(
        RecordUpdate(
            pk=account_pk(account_id),
            sk="MARK#task",
            changes={"state": "done", "tries": 2, "result": {"ok": True, "codes": [1, 2]}},
            expect={"state": "open", "tries": 1},
        )
    )
    item = store.get_item(account_pk(account_id), "MARK#task")
    assert item == {
        "pk": account_pk(account_id),
        "sk": "MARK#task",
        "kind": "mark",
        "state": "done",
        "tries": 2,
        "note": "keep",
        "result": {"ok": True, "codes": [1, 2]},
    }


def test_expect_compares_like_dynamodb(store: Store) -> None:
    """A missing attribute is not None, and True is not 1."""
    account_id = open_account(store)
    store.put_record(mark(account_id, "flags", on=True, count=1))

    def update(expect: dict[str, Any]) -> None:
        store.update_record(
            RecordUpdate(
                pk=account_pk(account_id), sk="MARK#flags", changes={"x": 1}, expect=expect, on_mismatch=Exists
            )
        )

    for expect in ({"absent": None}, {"on": 1}, {"count": True}, {"count": "1"}):
        with pytest.raises(Exists):
            update(expect)
    assert "x" not in (store.get_item(account_pk(account_id), "MARK#flags") or {})
    update({"on": True, "count": 1})
    assert (store.get_item(account_pk(account_id), "MARK#flags") or {})["x"] == 1


def test_checks_come_in_a_fixed_order_replay_floor_record_update(store: Store) -> None:
    """With several parts failing, the first in this order decides: a replay (or a reused key),
    insufficient funds, a record that exists, an update that does not match."""
    account_id = open_account(store, balance=100)
    store.put_record(mark(account_id, "dup"))
    store.put_record(mark(account_id, "task", state="done"))
    first = commit(store, [debit(account_id, 100)], key="used", body={"n": 1})
    before = snapshot(store, account_id)

    def attempt(key: str, body: Any, *, funds_short: bool, record_exists: bool, update_stale: bool) -> CommitResult:
        return commit(
            store,
            [debit(account_id, 1, Floor.ZERO if funds_short else Floor.NONE)],
            key=key,
            body=body,
            records=[
                mark(
                    account_id,
                    "dup" if record_exists else f"new-{uuid.uuid4().hex}",
                    on_exists=lambda _old: Conflict("record exists"),
                )
            ],
            updates=[
                RecordUpdate(
                    pk=account_pk(account_id),
                    sk="MARK#task",
                    changes={"state": "open"},
                    expect={"state": "open" if update_stale else "done"},
                    on_mismatch=lambda _old: Conflict("update mismatch"),
                )
            ],
        )

    every = {"funds_short": True, "record_exists": True, "update_stale": True}
    replay = attempt("used", {"n": 1}, **every)
    assert replay.replayed and replay.body == first.body
    with pytest.raises(IdempotencyKeyReused):
        attempt("used", {"n": 2}, **every)
    with pytest.raises(InsufficientFunds):
        attempt("fresh", {"n": 1}, **every)
    with pytest.raises(Conflict, match="record exists"):
        attempt("fresh", {"n": 1}, funds_short=False, record_exists=True, update_stale=True)
    with pytest.raises(Conflict, match="update mismatch"):
        attempt("fresh", {"n": 1}, funds_short=False, record_exists=False, update_stale=True)
    assert snapshot(store, account_id) == before
    assert store.get_item(account_pk(account_id), "IDEM#contract#fresh") is None


def test_a_unit_of_work_that_writes_one_item_twice_is_refused_and_writes_nothing(store: Store) -> None:
    """DynamoDB refuses a transaction with two operations on one item (ValidationException), the fake
    with a ValueError. DynamoDB Local checks that only once every condition holds, so where one fails
    (the second put of one new item, a put of a record that exists) it cancels on that instead."""
    account_id = open_account(store, balance=100)
    store.put_record(mark(account_id, "task", state="open"))
    before = snapshot(store, account_id)
    task = RecordUpdate(pk=account_pk(account_id), sk="MARK#task", changes={"state": "done"}, expect={"state": "open"})
    on_account = RecordUpdate(pk=account_pk(account_id), sk="ACCOUNT", changes={"language": "de"})
    for records, updates in (
        ([mark(account_id, "twice"), mark(account_id, "twice")], []),
        ([mark(account_id, "task")], [task]),
        ([], [task, task]),
        ([], [on_account]),
    ):
        with pytest.raises((ValueError, ClientError, Conflict)) as info:
            commit(store, [debit(account_id, 1)], key="twice", records=records, updates=updates)
        if isinstance(store, MemoryStore):
            assert isinstance(info.value, ValueError)
        if isinstance(info.value, ClientError):
            assert info.value.response["Error"]["Code"] == "ValidationException"
    assert snapshot(store, account_id) == before


# --------------------------------------------------------------------------- what is stored


def test_items_come_back_as_dynamodb_stores_them_and_are_copies(store: Store) -> None:
    account_id = open_account(store)
    attrs: dict[str, Any] = {"kind": "mark", "tags": ("a", "b"), "nested": {"list": [1, {"deep": "x"}]}, "none": None}
    store.put_record(Record(pk=account_pk(account_id), sk="MARK#shape", attrs=attrs))
    attrs["nested"]["list"].append(2)  # the caller's dict changing later changes nothing stored
    item = store.get_item(account_pk(account_id), "MARK#shape")
    assert item == {
        "pk": account_pk(account_id),
        "sk": "MARK#shape",
        "kind": "mark",
        "tags": ["a", "b"],  # a tuple is stored as a list
        "nested": {"list": [1, {"deep": "x"}]},
        "none": None,
    }
    item["nested"]["list"].clear()  # nor does changing what a read returned
    assert store.get_item(account_pk(account_id), "MARK#shape")["nested"] == {"list": [1, {"deep": "x"}]}  # type: ignore[index]


def test_a_float_is_never_stored(store: Store) -> None:
    account_id = open_account(store, balance=10)
    before = snapshot(store, account_id)
    with pytest.raises(TypeError):
        commit(store, [debit(account_id, 1)], key="f", records=[mark(account_id, "float", rate=0.5)])
    assert snapshot(store, account_id) == before


# --------------------------------------------------------------------------- listing entries


def test_entries_page_newest_first_with_a_cursor_and_a_limit(store: Store) -> None:
    account_id = open_account(store)
    for i in range(7):
        commit(store, [credit(account_id, i + 1)], key=f"p{i}")
    settle(store)
    pages: list[list[int | None]] = []
    cursor = None
    while True:
        page = store.list_entries(account_id, since=None, until=None, entry_type=None, cursor=cursor, limit=3)
        assert len(page.items) <= 3
        pages.append([e.seq for e in page.items])
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == [[7, 6, 5], [4, 3, 2], [1]]
    one = store.list_entries(account_id, since=None, until=None, entry_type=None, cursor=None, limit=1)
    assert [e.seq for e in one.items] == [7] and one.next_cursor is not None
    assert [e.balance_after for e in entries(store, account_id)] == [28, 21, 15, 10, 6, 3, 1]


def test_a_full_last_page_still_has_a_cursor_and_the_next_page_is_empty(store: Store) -> None:
    """DynamoDB stops at the limit without looking further, so it cannot know nothing follows."""
    account_id = open_account(store)
    for i in range(4):
        commit(store, [credit(account_id, 1)], key=f"f{i}")
    settle(store)
    first = store.list_entries(account_id, since=None, until=None, entry_type=None, cursor=None, limit=2)
    second = store.list_entries(account_id, since=None, until=None, entry_type=None, cursor=first.next_cursor, limit=2)
    assert [e.seq for e in second.items] == [2, 1] and second.next_cursor is not None
    third = store.list_entries(account_id, since=None, until=None, entry_type=None, cursor=second.next_cursor, limit=2)
    assert third.items == [] and third.next_cursor is None
    whole = store.list_entries(account_id, since=None, until=None, entry_type=None, cursor=None, limit=10)
    assert len(whole.items) == 4 and whole.next_cursor is None


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Sets the time the ledger stamps on entries."""
    from account_credit.platform.store import base

    def set_to(when: datetime) -> None:
        monkeypatch.setattr(base, "utc_now", lambda: when)

    return set_to


def test_since_until_and_type_filters_combine_and_page(store: Store, clock: Callable[[datetime], None]) -> None:
    account_id = open_account(store)
    day = datetime(2026, 3, 1, 12, tzinfo=UTC)
    for d in range(3):
        for i, kind in enumerate(("fee", "topup", "fee", "topup", "fee")):
            clock(day + timedelta(days=d, minutes=i))
            commit(store, [credit(account_id, 1, kind)], key=f"d{d}-{i}")
    middle = {"since": "2026-03-02T00:00:00.000000Z", "until": "2026-03-02T23:59:59.999999Z"}
    assert [e.seq for e in entries(store, account_id, **middle)] == [10, 9, 8, 7, 6]
    assert [e.seq for e in entries(store, account_id, **middle, entry_type="fee", limit=2)] == [10, 8, 6]
    assert [e.seq for e in entries(store, account_id, entry_type="topup", limit=4)] == [14, 12, 9, 7, 4, 2]
    assert [e.seq for e in entries(store, account_id, since="2026-03-03T00:00:00.000000Z")] == [15, 14, 13, 12, 11]
    assert [e.seq for e in entries(store, account_id, until="2026-03-01T12:02:00.000000Z")] == [3, 2, 1]
    assert entries(store, account_id, entry_type="nothing") == []
    # The bounds are inclusive to the microsecond.
    exact = {"since": "2026-03-01T12:01:00.000000Z", "until": "2026-03-01T12:01:00.000000Z"}
    assert [e.seq for e in entries(store, account_id, **exact)] == [2]


def test_a_cursor_of_another_account_or_a_broken_one_is_refused(store: Store) -> None:
    mine, theirs = open_account(store), open_account(store)
    for i in range(3):
        commit(store, [credit(theirs, 1)], key=f"t{i}")
    foreign = store.list_entries(theirs, since=None, until=None, entry_type=None, cursor=None, limit=1).next_cursor
    assert foreign is not None
    for cursor in (foreign, "not-a-cursor", "e30"):  # "e30" is {} base64url-encoded
        with pytest.raises(InvalidInput):
            store.list_entries(mine, since=None, until=None, entry_type=None, cursor=cursor, limit=5)


# --------------------------------------------------------------------------- other reads and writes


def test_query_prefix_reads_one_partition_by_sort_key(store: Store) -> None:
    pk = f"CONTRACT#{uuid.uuid4().hex}"
    for sk in ("B#2", "A#1", "B#1", "B#3", "C#1", "B"):
        store.put_record(Record(pk=pk, sk=sk, attrs={"kind": "row"}))
    store.put_record(Record(pk=pk + "X", sk="B#0", attrs={"kind": "row"}))

    def sks(prefix: str, **kw: Any) -> list[str]:
        return [i["sk"] for i in store.query_prefix(pk, prefix, **kw)]

    assert sks("B#") == ["B#1", "B#2", "B#3"]
    assert sks("B") == ["B", "B#1", "B#2", "B#3"]
    assert sks("B#", newest_first=True) == ["B#3", "B#2", "B#1"]
    assert sks("B#", limit=2) == ["B#1", "B#2"]
    assert sks("B#", limit=2, newest_first=True) == ["B#3", "B#2"]
    assert sks("Z") == []
    assert store.query_prefix(pk, "A#")[0] == {"pk": pk, "sk": "A#1", "kind": "row"}


def test_delete_record_honours_older_than_and_never_deletes_money(store: Store) -> None:
    account_id = open_account(store, balance=5)
    pk = account_pk(account_id)
    store.put_record(Record(pk=pk, sk="ALERT#v3", attrs={"kind": "alert", "version": 3}))
    store.put_record(Record(pk=pk, sk="ALERT#none", attrs={"kind": "alert"}))
    store.put_record(Record(pk=pk, sk="NOTE", attrs={"kind": "note"}))

    assert store.delete_record(pk, "ALERT#v3", older_than=3) is False  # not older: kept
    assert store.get_item(pk, "ALERT#v3") is not None
    assert store.delete_record(pk, "ALERT#v3", older_than=4) is True
    assert store.get_item(pk, "ALERT#v3") is None
    assert store.delete_record(pk, "ALERT#v3", older_than=4) is False  # gone already
    # An item without a version is not "older" than anything.
    assert store.delete_record(pk, "ALERT#none", older_than=10) is False
    assert store.get_item(pk, "ALERT#none") is not None
    assert store.delete_record(pk, "NOTE") is True
    assert store.delete_record(pk, "NOTE") is False
    entry = entries(store, account_id)[0]
    for sk in ("ACCOUNT", f"ENTRY#{entry.created_at}#{entry.entry_id}", "IDEM#contract#x"):
        with pytest.raises(ValueError):
            store.delete_record(pk, sk)
    assert balance(store, account_id) == 5 and len(entries(store, account_id)) == 1


def test_update_account_sets_attributes_bumps_the_version_and_keeps_the_money(store: Store) -> None:
    account_id = open_account(store, balance=40, credit_limit=10)
    before = store.get_item(account_pk(account_id), "ACCOUNT")
    assert before is not None
    updated = store.update_account(
        account_id,
        {
            "company": {"name": "Renamed", "city": "Brno"},
            "billing_emails": ["a@x.test", "b@x.test"],
            "credit_limit": 900,
            "language": "cs",
        },
    )
    after = store.get_item(account_pk(account_id), "ACCOUNT")
    assert after is not None
    assert after["version"] == before["version"] + 1
    assert after["updated_at"] >= before["updated_at"]
    assert (updated.balance, updated.seq, updated.credit_limit, updated.language) == (40, 1, 900, "cs")
    assert updated.company == CompanyDetails(name="Renamed", city="Brno")
    assert updated.billing_emails == ("a@x.test", "b@x.test")
    assert store.get_account(account_id) == updated
    with pytest.raises(NotFound):
        store.update_account(f"acc_missing{uuid.uuid4().hex}", {"language": "de"})
    commit(store, [debit(account_id, 40)], key="after-update")  # the commit sees the new version
    assert_consistent(store, account_id)


def test_create_account_refuses_an_existing_id(store: Store) -> None:
    account_id = open_account(store, balance=5)
    before = store.get_item(account_pk(account_id), "ACCOUNT")
    with pytest.raises((AssertionError, ClientError)):
        open_account(store, account_id=account_id)
    assert store.get_item(account_pk(account_id), "ACCOUNT") == before


# --------------------------------------------------------------------------- the low-balance index


def low_ids(store: Store, limit: int = 100) -> list[list[str]]:
    """The pages of the low-balance index, as account ids."""
    pages, cursor = [], None
    while True:
        found, cursor, read = store.low_balance_accounts(cursor, limit)
        assert read == len(found) <= limit
        assert all(version >= 0 for _acc, version in found)
        pages.append([acc.account_id for acc, _version in found])
        if cursor is None:
            return pages


def test_low_balance_accounts_follow_movements_and_settings(own_table_store: Store) -> None:
    store = own_table_store
    ids = [f"acc_low{i}{uuid.uuid4().hex[:6]}" for i in range(5)]
    for i, account_id in enumerate(ids):
        # 0, 2, 4 start below their threshold; 1 and 3 above; all at 50.
        open_account(store, balance=50, threshold=100 if i % 2 == 0 else 10, account_id=account_id)
    assert low_ids(store) == [[ids[0], ids[2], ids[4]]]
    assert low_ids(store, limit=2) == [[ids[0], ids[2]], [ids[4]]]

    commit(store, [debit(ids[1], 45)], key="cross-down")  # 5 < 10: in
    commit(store, [credit(ids[2], 50)], key="cross-up")  # 100, not below 100: out
    store.update_account(ids[3], {"settings": {"low_balance_threshold": 60}})  # raised above 50: in
    store.update_account(ids[4], {"settings": {}})  # threshold removed: out
    assert low_ids(store, limit=1) == [[ids[0]], [ids[1]], [ids[3]], []]
    found, _cursor, _read = store.low_balance_accounts(None, 10)
    state = {acc.account_id: (acc.balance, version) for acc, version in found}
    assert state[ids[1]][0] == 5 and state[ids[3]][0] == 50
    for acc, version in found:
        item = store.get_item(account_pk(acc.account_id), "ACCOUNT")
        assert item is not None and item["version"] == version


# --------------------------------------------------------------------------- commuting writes (hot accounts)


def planned(store: Store, movements: list[Movement]) -> tuple[Any, Posting, Any]:
    """A unit of work planned on the account states as they are now, not yet written: (uow, posting, states)."""
    uow = store.unit_of_work()
    for m in movements:
        uow.move(m)
    account_ids = sorted({m.account_id for m in movements})
    states = uow.read_states(account_ids)
    posting = uow.plan({a: s[0] for a, s in states.items() if s is not None}, None)
    return uow, posting, states


def test_writes_planned_on_the_same_state_commute_while_their_floors_hold(store: Store) -> None:
    """Two containers plan on the same balance; both write without seeing each other, because each relies only
    on its floor. The sequencer still numbers them in the order the store applied them."""
    account_id = open_account(store, balance=100)
    first = planned(store, [debit(account_id, 30)])
    second = planned(store, [debit(account_id, 50)])
    for uow, posting, states in (first, second):
        uow.write(None, posting, states, {})
    assert balance(store, account_id) == 20
    posted = assert_consistent(store, account_id)
    assert [(e.amount, e.balance_after) for e in posted] == [(100, 100), (-30, 70), (-50, 20)]


def test_a_write_whose_floor_no_longer_holds_is_stale_with_the_current_state_and_writes_nothing(
    store: Store,
) -> None:
    from account_credit.platform.store.base import Stale

    account_id = open_account(store, balance=100)
    first = planned(store, [debit(account_id, 60)])
    second = planned(store, [debit(account_id, 60)])
    first[0].write(None, first[1], first[2], {})
    before = snapshot(store, account_id)
    with pytest.raises(Stale) as info:
        second[0].write(None, second[1], second[2], {})
    now = info.value.states[account_id]
    assert now is not None and now[0].balance == 40, "the failed condition hands back the current account"
    assert snapshot(store, account_id) == before


@pytest.mark.parametrize(
    "change",
    [
        {"credit_limit": 100},
        {
            "settings": {
                "bill_to_balance": True,
                "cards_enabled": True,
                "default_method": "balance",
                "low_balance_threshold": 500,
            }
        },
    ],
    ids=["credit-limit", "threshold"],
)
def test_a_write_relying_on_the_credit_limit_or_threshold_is_stale_when_they_changed(
    store: Store, change: dict[str, Any]
) -> None:
    from account_credit.platform.store.base import Stale

    account_id = open_account(store, balance=100, credit_limit=1_000)
    uow, posting, states = planned(store, [debit(account_id, 200, Floor.CREDIT_LIMIT)])
    store.update_account(account_id, change)
    before = snapshot(store, account_id)
    with pytest.raises(Stale):
        uow.write(None, posting, states, {})
    assert snapshot(store, account_id) == before


def test_an_answer_relying_on_a_balance_range_or_a_setting_is_stale_outside_it(store: Store) -> None:
    from account_credit.platform.store.base import Stale

    account_id = open_account(store, balance=100)
    uow, posting, states = planned(store, [debit(account_id, 10)])
    uow.late_ranges = {account_id: (100, 100)}  # e.g. an order's exact split between balance and credit
    other = planned(store, [credit(account_id, 1)])
    other[0].write(None, other[1], other[2], {})
    with pytest.raises(Stale):
        uow.write(None, posting, states, {})

    uow, posting, states = planned(store, [debit(account_id, 10)])
    uow.late_settings = {account_id: ("bill_to_balance",)}
    store.update_account(account_id, {"settings": {"bill_to_balance": False, "cards_enabled": True}})
    with pytest.raises(Stale):
        uow.write(None, posting, states, {})
    assert balance(store, account_id) == 101


def test_the_low_balance_index_follows_the_real_balance_when_writes_commute(own_table_store: Store) -> None:
    """Each write sets or removes the sparse-index keys for the side of the threshold it ends on; it relies on
    the starting balance staying on that side, so commuting writes never leave the index wrong."""
    from account_credit.platform.store.base import Stale

    store = own_table_store
    account_id = open_account(store, balance=1_000, threshold=500)
    above = planned(store, [debit(account_id, 400)])  # 1000 -> 600: stays above
    crossing = planned(store, [debit(account_id, 300)])  # 1000 -> 700 planned; after the first it would cross
    above[0].write(None, above[1], above[2], {})
    with pytest.raises(Stale):
        crossing[0].write(None, crossing[1], crossing[2], {})
    assert [a.account_id for a, _ in store.low_balance_accounts(None, 10)[0]] == []
    again = planned(store, [debit(account_id, 300)])
    again[0].write(None, again[1], again[2], {})
    assert balance(store, account_id) == 300
    assert [a.account_id for a, _ in store.low_balance_accounts(None, 10)[0]] == [account_id]


def test_placing_entries_is_idempotent_and_a_different_placement_is_a_mismatch(store: Store) -> None:
    from account_credit.platform.store.sequencing import LedgerMismatch, Placement

    account_id = open_account(store, balance=10)
    [entry] = assert_consistent(store, account_id)
    sk = f"ENTRY#{entry.created_at}#{entry.entry_id}"
    store.place_entries(account_pk(account_id), [Placement(sk=sk, seq=1, balance_after=10)])  # again: no-op
    with pytest.raises(LedgerMismatch):
        store.place_entries(account_pk(account_id), [Placement(sk=sk, seq=1, balance_after=11)])
    with pytest.raises(LedgerMismatch):
        store.place_entries(account_pk(account_id), [Placement(sk="ENTRY#missing", seq=2, balance_after=10)])
    assert assert_consistent(store, account_id)[0].balance_after == 10


def test_linking_a_document_to_an_entry_is_idempotent_and_listed_with_the_entry(store: Store) -> None:
    account_id = open_account(store, balance=10)
    [entry] = assert_consistent(store, account_id)
    sk = f"ENTRY#{entry.created_at}#{entry.entry_id}"
    for number in ("TD-2026-000001", "ST-2026-000001", "TD-2026-000001"):
        store.link_document(account_pk(account_id), sk, number)
    [listed] = entries(store, account_id)
    assert listed.documents == ("TD-2026-000001", "ST-2026-000001") and listed.balance_after == 10
    with pytest.raises(NotFound):
        store.link_document(account_pk(account_id), "ENTRY#missing", "TD-2026-000002")


def test_ascending_pages_of_a_partition_continue_after_a_sort_key(store: Store) -> None:
    account_id = open_account(store)
    for name in ("a", "b", "c", "d"):
        store.put_record(mark(account_id, f"page-{name}"))
    pk = account_pk(account_id)
    first = store.query_prefix(pk, "MARK#page-", limit=2)
    rest = store.query_prefix(pk, "MARK#page-", limit=10, after=first[-1]["sk"])
    assert [i["sk"] for i in first + rest] == [f"MARK#page-{x}" for x in "abcd"]
    assert store.query_prefix(pk, "MARK#page-", after="MARK#page-d") == []


def test_a_sparse_index_pages_in_order_up_to_a_bound(own_table_store: Store) -> None:
    store = own_table_store
    account_id = open_account(store)
    index = f"TESTIDX-{uuid.uuid4().hex[:6]}"
    for day in ("2026-11-03", "2026-11-01", "2026-11-02", "2026-12-01"):
        store.put_record(mark(account_id, f"due-{day}", gsi1pk=index, gsi1sk=f"{day}#{account_id}"))
    seen, cursor = [], None
    while True:
        rows, cursor = store.index_page(index, until="2026-11-30#~", cursor=cursor, limit=2)
        seen += [r["gsi1sk"][:10] for r in rows]
        if cursor is None:
            break
    assert seen == ["2026-11-01", "2026-11-02", "2026-11-03"]
