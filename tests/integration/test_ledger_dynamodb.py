"""The real store against DynamoDB Local: conditional writes, transactions, concurrency, replays."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from account_credit.accounts import service as svc
from account_credit.accounts.schemas import AccountCreate, Adjustment
from account_credit.kernel.auth import Principal, Role
from account_credit.kernel.domain import Floor, Movement
from account_credit.kernel.errors import ConcurrentUpdate, IdempotencyKeyReused, InsufficientFunds
from account_credit.kernel.money import Money
from account_credit.platform.commit import commit
from account_credit.platform.idempotency import claim
from account_credit.platform.store.dynamo import DynamoStore
from tests.integration.helpers import CallCounter, containers, sequence

pytestmark = pytest.mark.integration

OPERATOR = Principal(subject="op", role=Role.OPERATOR)


def open_funded(store: DynamoStore, balance: int, currency: str = "USD") -> str:
    account = svc.open_account(
        store, AccountCreate(currency=currency, company={"name": "Acme"}, billing_emails=["billing@acme.test"])
    )
    if balance:
        svc.adjust(
            store,
            Adjustment(type="credit", amount=balance, reason="opening").command(
                account.account_id, "fund", OPERATOR.actor
            ),
        )
    return account.account_id


def debit(store: DynamoStore, account_id: str, amount: int, key: str, floor: Floor = Floor.ZERO) -> Any:
    uow = store.unit_of_work()
    uow.move(Movement(account_id=account_id, amount=Money(-amount, "USD"), type="test_debit", floor=floor))
    body = {"amount": amount}
    return commit(uow, claim(account_id, "test", key, body), lambda p: {"entry": p.entries[0].as_dict()})


def all_entries(store: DynamoStore, account_id: str) -> list[Any]:
    out, cursor = [], None
    while True:
        page = store.list_entries(account_id, since=None, until=None, entry_type=None, cursor=cursor, limit=100)
        out.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return out


def assert_ledger_consistent(store: DynamoStore, account_id: str) -> None:
    """Balance = the sum of the entries, and — once the sequencer has read the stream — entries numbered 1..n in
    commit order, each with the exact running balance."""
    account = store.get_account(account_id)
    assert account is not None
    sequence(store)
    entries = sorted(all_entries(store, account_id), key=lambda e: e.seq)
    assert account.balance == sum(e.amount for e in entries)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    running = 0
    for e in entries:
        running += e.amount
        assert e.balance_after == running, "each entry carries the exact running balance"
    assert account.seq == len(entries)


def test_200_concurrent_debits_never_overdraw(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 8)
    balance, amount = 10_000, 137
    account_id = open_funded(stores[0], balance)

    def attempt(i: int) -> str:
        try:
            debit(stores[i % len(stores)], account_id, amount, f"debit-{i}")
            return "ok"
        except InsufficientFunds:
            return "insufficient"

    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(attempt, range(200)))

    assert outcomes.count("ok") == balance // amount
    assert outcomes.count("insufficient") == 200 - balance // amount
    account = stores[0].get_account(account_id)
    assert account is not None
    assert account.balance == balance - (balance // amount) * amount
    assert account.balance >= 0
    assert_ledger_consistent(stores[0], account_id)


def test_threads_sharing_one_store_and_cache_stay_exact(store: DynamoStore) -> None:
    """Several threads on ONE store (one account cache, no lock): each movement is its own
    version-conditioned transaction; a state one thread overwrites with an older one is only stale."""
    balance, amount = 3_000, 37
    account_id = open_funded(store, balance)

    def attempt(i: int) -> str:
        for _ in range(20):  # a caller retrying 409 contention with the same key
            try:
                debit(store, account_id, amount, f"shared-{i}")
                return "ok"
            except InsufficientFunds:
                return "insufficient"
            except ConcurrentUpdate:
                continue
        return "no answer"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(100)))

    assert outcomes.count("ok") == balance // amount
    assert outcomes.count("insufficient") == 100 - balance // amount
    assert store.get_account(account_id).balance == balance % amount  # type: ignore[union-attr]
    assert_ledger_consistent(store, account_id)


def test_one_key_sent_by_many_threads_of_one_store_posts_once(store: DynamoStore) -> None:
    account_id = open_funded(store, 1_000)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: debit(store, account_id, 100, "same"), range(16)))
    assert sum(not r.replayed for r in results) == 1
    assert all(r.body == results[0].body for r in results)
    assert store.get_account(account_id).balance == 900  # type: ignore[union-attr]
    assert_ledger_consistent(store, account_id)


def test_concurrent_debits_into_credit_stop_at_the_limit(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 4)
    account_id = open_funded(stores[0], 1_000)  # credit limit defaults to 2,000.00 USD = 200000
    amount = 7_000

    def attempt(i: int) -> bool:
        try:
            debit(stores[i % len(stores)], account_id, amount, f"credit-{i}", Floor.CREDIT_LIMIT)
            return True
        except InsufficientFunds:
            return False

    with ThreadPoolExecutor(max_workers=16) as pool:
        ok = sum(pool.map(attempt, range(60)))
    assert ok == (1_000 + 200_000) // amount
    account = stores[0].get_account(account_id)
    assert account is not None and account.balance >= -account.credit_limit
    assert_ledger_consistent(stores[0], account_id)


def test_replay_writes_nothing_and_returns_the_first_answer(store: DynamoStore, counter: CallCounter) -> None:
    account_id = open_funded(store, 500)
    first = debit(store, account_id, 300, "k-1")
    before = all_entries(store, account_id)
    counter.reset()
    again = debit(store, account_id, 300, "k-1")  # would be insufficient if it were applied again
    assert again.replayed and not first.replayed
    assert again.body == first.body
    assert again.replayed and not first.replayed
    assert counter.total == 1, f"a replay costs one call, got {dict(counter.calls)}"
    assert all_entries(store, account_id) == before
    assert store.get_account(account_id).balance == 200  # type: ignore[union-attr]


def test_replay_from_a_cold_container_also_costs_nothing_twice(table_name: str, dynamo_client: Any) -> None:
    warm, cold = containers(table_name, dynamo_client, 2)
    account_id = open_funded(warm, 500)
    first = debit(warm, account_id, 500, "drain")
    again = debit(cold, account_id, 500, "drain")  # the cold one would see insufficient funds
    assert again.replayed and again.body == first.body
    assert_ledger_consistent(warm, account_id)


def test_same_key_different_body_is_refused(store: DynamoStore) -> None:
    account_id = open_funded(store, 500)
    debit(store, account_id, 100, "k-2")
    with pytest.raises(IdempotencyKeyReused):
        debit(store, account_id, 101, "k-2")
    assert store.get_account(account_id).balance == 400  # type: ignore[union-attr]


def test_ten_concurrent_deliveries_of_one_key_post_once(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 5)
    account_id = open_funded(stores[0], 1_000)
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda i: debit(stores[i % 5], account_id, 250, "same-key"), range(10)))
    assert sum(not r.replayed for r in results) == 1
    assert all(r.body == results[0].body for r in results)
    assert stores[0].get_account(account_id).balance == 750  # type: ignore[union-attr]
    assert_ledger_consistent(stores[0], account_id)


def test_condition_failure_maps_to_insufficient_funds(store: DynamoStore) -> None:
    account_id = open_funded(store, 100)
    with pytest.raises(InsufficientFunds) as info:
        debit(store, account_id, 101, "too-much")
    assert info.value.extra["shortfall"] == 1
    assert store.get_account(account_id).balance == 100  # type: ignore[union-attr]
    assert_ledger_consistent(store, account_id)


def test_warm_movement_is_one_write_call_and_no_read(store: DynamoStore, counter: CallCounter) -> None:
    account_id = open_funded(store, 1_000)
    counter.reset()
    debit(store, account_id, 10, "warm-1")
    assert dict(counter.calls) == {"TransactWriteItems": 1}


def test_a_stale_container_writes_once_when_its_plan_still_holds(
    table_name: str, dynamo_client: Any, counter: CallCounter
) -> None:
    """Movements commute: a container whose cached balance is out of date needs no fresh state while the floor
    still holds; the sequencer places its entry after the one it did not see."""
    a, b = containers(table_name, dynamo_client, 2)
    account_id = open_funded(a, 1_000)
    b.get_account(account_id)  # b caches the balance 1000
    debit(a, account_id, 10, "moves-it")  # a moves the account on
    counter.reset()
    result = debit(b, account_id, 10, "from-stale")
    assert dict(counter.calls) == {"TransactWriteItems": 1}, "stale but still covered: one write, no read"
    sequence(a)
    [placed] = [e for e in all_entries(a, account_id) if e.entry_id == result.body["entry"]["entry_id"]]
    assert (placed.seq, placed.balance_after) == (3, 980)
    assert_ledger_consistent(a, account_id)


def test_a_stale_plan_that_no_longer_holds_is_made_again_from_the_failed_condition_without_a_read(
    table_name: str, dynamo_client: Any, counter: CallCounter
) -> None:
    a, b = containers(table_name, dynamo_client, 2)
    account_id = open_funded(a, 1_000)
    b.get_account(account_id)  # b caches the balance 1000
    debit(a, account_id, 995, "moves-it")  # 5 left
    counter.reset()
    with pytest.raises(InsufficientFunds) as info:
        debit(b, account_id, 10, "from-stale")
    assert info.value.extra["shortfall"] == 5
    # The failed floor returned the fresh state (no read to re-plan); a decline also looks once at the key.
    assert dict(counter.calls) == {"TransactWriteItems": 1, "BatchGetItem": 1}
    assert_ledger_consistent(a, account_id)


def test_a_stale_container_checks_the_floor_before_a_record_that_exists(table_name: str, dynamo_client: Any) -> None:
    """The order of checks (tests/integration/test_store_contract.py) must not depend on the cache:
    a stale container that meets both a failed floor and an existing record answers like a warm one."""
    from account_credit.kernel.errors import Conflict
    from account_credit.platform.store import Record
    from account_credit.platform.store.keys import account_pk

    warm, stale = containers(table_name, dynamo_client, 2)
    account_id = open_funded(warm, 100)
    stale.get_account(account_id)  # caches balance 100
    warm.put_record(Record(pk=account_pk(account_id), sk="MARK#dup", attrs={"kind": "mark"}))
    debit(warm, account_id, 100, "drain")

    for store in (warm, stale):
        uow = store.unit_of_work()
        uow.move(Movement(account_id=account_id, amount=Money(-50, "USD"), type="test_debit", floor=Floor.ZERO))
        uow.put(Record(pk=account_pk(account_id), sk="MARK#dup", attrs={"kind": "mark"}))
        with pytest.raises(InsufficientFunds):
            commit(uow, claim(account_id, "test", f"both-{id(store)}", {"amount": 50}), lambda p: {})
    uow = stale.unit_of_work()  # with the funds there, the record decides
    uow.move(Movement(account_id=account_id, amount=Money(10, "USD"), type="test_credit"))
    uow.put(Record(pk=account_pk(account_id), sk="MARK#dup", attrs={"kind": "mark"}))
    with pytest.raises(Conflict):
        commit(uow, claim(account_id, "test", "record", {"amount": 10}), lambda p: {})
    assert_ledger_consistent(warm, account_id)


def test_transactions_page_and_filter_by_type_through_the_index(store: DynamoStore) -> None:
    account_id = open_funded(store, 1_000)
    for i in range(7):
        debit(store, account_id, 1, f"page-{i}")
    svc.adjust(store, Adjustment(type="debit", amount=5, reason="fee").command(account_id, "fee-1", OPERATOR.actor))
    sequence(store)
    seen, cursor = [], None
    while True:
        page = store.list_entries(account_id, since=None, until=None, entry_type=None, cursor=cursor, limit=3)
        seen.extend(e.seq for e in page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == sorted(seen, reverse=True) and sorted(seen) == list(range(1, 10))
    typed = store.list_entries(account_id, since=None, until=None, entry_type="adjustment_debit", cursor=None, limit=10)
    assert [e.amount for e in typed.items] == [-5]


def test_tables_come_from_the_template(dynamo_client: Any, table_name: str) -> None:
    from tools import template

    described = dynamo_client.describe_table(TableName=table_name)["Table"]
    expected = template.table_definition(table_name)
    assert {k["AttributeName"]: k["KeyType"] for k in described["KeySchema"]} == {
        k["AttributeName"]: k["KeyType"] for k in expected["KeySchema"]
    }
    assert {i["IndexName"] for i in described["GlobalSecondaryIndexes"]} == {
        i["IndexName"] for i in expected["GlobalSecondaryIndexes"]
    }
    assert described["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_unknown_account_is_not_found(store: DynamoStore) -> None:
    from account_credit.kernel.errors import NotFound

    with pytest.raises(NotFound):
        debit(store, f"acc_{uuid.uuid4().hex}", 1, "nobody")
