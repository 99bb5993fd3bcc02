"""Deposits on DynamoDB Local: concurrent duplicate webhooks, reordering and replays, gap-free proformas."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from account_credit.accounts import service as accounts
from account_credit.accounts.schemas import AccountCreate
from account_credit.bank import suspense
from account_credit.deposits import schemas as ds
from account_credit.deposits import service as svc
from account_credit.kernel.auth import Principal, Role
from account_credit.kernel.errors import Conflict
from account_credit.platform.store.dynamo import DynamoStore
from tests.integration.helpers import containers, sequence
from tests.integration.test_ledger_dynamodb import all_entries, assert_ledger_consistent
from tests.unit import _deposit_support as sup

pytestmark = pytest.mark.integration

OPERATOR = Principal(subject="op", role=Role.OPERATOR)


@pytest.fixture(autouse=True)
def _configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    sup.configure(monkeypatch)
    yield
    sup.reset()  # cached settings and provider must not outlive this test's environment


def open_account(store: DynamoStore, currency: str = "EUR") -> str:
    acc = accounts.open_account(
        store, AccountCreate(currency=currency, company={"name": "Acme"}, billing_emails=["b@acme.test"])
    )
    return acc.account_id


def card_deposit(store: DynamoStore, account_id: str, amount: int = 5_000) -> dict[str, Any]:
    req = ds.DepositCreate(method="card", amount=amount)
    return svc.create_deposit(store, req.command(account_id, f"dep-{uuid.uuid4().hex}", OPERATOR.actor)).body


def deliver(store: DynamoStore, signed: tuple[bytes, dict[str, str]]) -> str:
    return str(svc.receive_webhook(store, "sandbox", *signed)["outcome"])


def balance(store: DynamoStore, account_id: str) -> int:
    acc = store.get_account(account_id)
    assert acc is not None
    return acc.balance


def concurrently(stores: list[DynamoStore], jobs: list[Any]) -> list[str]:
    """Run ``job(store)`` for every job at once, each on its own container (store with its own cache)."""
    barrier = threading.Barrier(len(jobs))

    def run(i: int) -> str:
        barrier.wait()
        return str(jobs[i](stores[i % len(stores)]))

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, range(len(jobs))))


def test_ten_concurrent_duplicate_deliveries_credit_once(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 10)
    account_id = open_account(stores[0])
    dep = card_deposit(stores[0], account_id)
    signed = sup.signed_card_event(sup.card_events(dep)["succeeded"]())
    outcomes = concurrently(stores, [lambda s: deliver(s, signed)] * 10)
    assert Counter(outcomes) == {"credited": 1, "duplicate": 9}
    entries = all_entries(stores[0], account_id)
    assert [(e.type, e.amount) for e in entries] == [("deposit_card", 5_000)]
    assert balance(stores[0], account_id) == 5_000
    assert_ledger_consistent(stores[0], account_id)
    events = stores[0].query_prefix(f"ACCOUNT#{account_id}", "EVENT#")
    assert [e["type"] for e in events] == ["deposit.received"]
    assert svc.get(stores[0], account_id, dep["deposit_id"]).state == "credited"  # type: ignore[union-attr]


def test_ten_concurrent_success_events_with_different_ids_credit_once(table_name: str, dynamo_client: Any) -> None:
    """Another event id for the same payment meets the credit's idempotency record (keyed on the payment id)."""
    stores = containers(table_name, dynamo_client, 10)
    account_id = open_account(stores[0])
    dep = card_deposit(stores[0], account_id)
    deliveries = [sup.signed_card_event(sup.card_events(dep)["succeeded"]()) for _ in range(10)]
    outcomes = concurrently(stores, [lambda s, d=d: deliver(s, d) for d in deliveries])
    assert outcomes.count("credited") == 1
    assert set(outcomes) <= {"credited", "duplicate", "already_credited"}
    assert balance(stores[0], account_id) == 5_000
    assert_ledger_consistent(stores[0], account_id)


def test_succeeded_refunded_and_replayed_leave_the_right_balance(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 6)
    account_id = open_account(stores[0])
    dep = card_deposit(stores[0], account_id)
    ev = sup.card_events(dep)
    success = sup.signed_card_event(ev["succeeded"]())
    refund = sup.signed_card_event(ev["refunded"]())
    assert deliver(stores[0], success) == "credited"
    assert deliver(stores[1], refund) == "reversed"
    # Replays of both, and a fresh success event for the refunded payment, all at once.
    late = sup.signed_card_event(ev["succeeded"]())
    jobs = [lambda s: deliver(s, success), lambda s: deliver(s, refund)] * 2 + [lambda s: deliver(s, late)] * 2
    outcomes = concurrently(stores, jobs)
    assert set(outcomes) <= {"duplicate", "already_reversed"}
    entries = all_entries(stores[0], account_id)
    assert sorted((e.type, e.amount) for e in entries) == [("deposit_card", 5_000), ("deposit_reversal", -5_000)]
    assert balance(stores[0], account_id) == 0
    assert_ledger_consistent(stores[0], account_id)
    assert svc.get(stores[0], account_id, dep["deposit_id"]).state == "reversed"  # type: ignore[union-attr]


@pytest.mark.parametrize("refunded", [5_000, 1_200])
def test_success_and_refund_racing_end_right_in_every_interleaving(
    table_name: str, dynamo_client: Any, refunded: int
) -> None:
    stores = containers(table_name, dynamo_client, 4)
    account_id = open_account(stores[0])
    for _ in range(6):
        dep = card_deposit(stores[0], account_id)
        ev = sup.card_events(dep)
        success = sup.signed_card_event(ev["succeeded"]())
        refund = sup.signed_card_event(ev["refunded"](refunded))
        jobs = [lambda s, d=success: deliver(s, d), lambda s, d=refund: deliver(s, d)] * 2
        random.shuffle(jobs)
        concurrently(stores, jobs)
    assert balance(stores[0], account_id) == 6 * (5_000 - refunded)
    assert_ledger_consistent(stores[0], account_id)


def test_ten_concurrent_duplicate_bank_transfers_credit_once(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 10)
    account_id = open_account(stores[0])
    reference = stores[0].get_account(account_id).payment_reference  # type: ignore[union-attr]
    signed = sup.signed_transfer(sup.transfer(reference, 7_700, transfer_id=f"tr_{uuid.uuid4().hex}"))
    outcomes = concurrently(stores, [lambda s: svc.receive_webhook(s, "bank", *signed)["outcome"]] * 10)
    assert Counter(outcomes) == {"credited": 1, "duplicate": 9}
    assert balance(stores[0], account_id) == 7_700
    assert_ledger_consistent(stores[0], account_id)


def test_two_transfers_paying_one_proforma_at_once_are_both_credited_and_linked(
    table_name: str, dynamo_client: Any
) -> None:
    stores = containers(table_name, dynamo_client, 2)
    account_id = open_account(stores[0])
    reference = stores[0].get_account(account_id).payment_reference  # type: ignore[union-attr]
    pf = svc.create_deposit(
        stores[0], ds.DepositCreate(method="bank_transfer", amount=10_000).command(account_id, "pf", OPERATOR.actor)
    ).body
    a = sup.signed_transfer(sup.transfer(reference, 4_000, transfer_id=f"a_{uuid.uuid4().hex}"))
    b = sup.signed_transfer(sup.transfer(reference, 6_000, transfer_id=f"b_{uuid.uuid4().hex}"))
    outcomes = concurrently(
        stores,
        [
            lambda s: svc.receive_webhook(s, "bank", *a)["outcome"],
            lambda s: svc.receive_webhook(s, "bank", *b)["outcome"],
        ],
    )
    assert outcomes == ["credited", "credited"]
    dep = svc.get(stores[0], account_id, pf["deposit_id"])
    assert dep is not None and dep.credited_amount == 10_000 and dep.state == "credited" and len(dep.transfers) == 2
    assert balance(stores[0], account_id) == 10_000


def test_concurrent_proformas_get_consecutive_numbers(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 12)
    account_ids = [open_account(stores[0]) for _ in range(3)]

    def issue(store: DynamoStore, i: int) -> str:
        req = ds.DepositCreate(method="bank_transfer", amount=1_000 + i)
        body = svc.create_deposit(store, req.command(account_ids[i % 3], f"pf-{uuid.uuid4().hex}", OPERATOR.actor)).body
        return str(body["proforma"]["number"])

    numbers = concurrently(stores, [lambda s, i=i: issue(s, i) for i in range(12)])
    seq = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert len(set(seq)) == 12 and seq == list(range(seq[0], seq[0] + 12)), "no duplicates, no gaps"
    year = numbers[0].split("-")[1]
    assert stores[0].get_item(f"COUNTER#PROFORMA#{year}", "COUNTER")["value"] >= seq[-1]  # type: ignore[index]


def test_one_suspense_transfer_assigned_twice_at_once_is_credited_once(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 2)
    account_id = open_account(stores[0])
    tid = f"tr_{uuid.uuid4().hex}"
    svc.receive_webhook(stores[0], "bank", *sup.signed_transfer(sup.transfer(None, 3_300, transfer_id=tid)))

    def assign(store: DynamoStore, key: str) -> str:
        try:
            result = suspense.assign(store, ds.AssignTransfer(account_id=account_id).command(tid, key, OPERATOR.actor))
            return str(result.body["outcome"])
        except Conflict:
            return "conflict"

    outcomes = concurrently(stores, [lambda s: assign(s, "op-1"), lambda s: assign(s, "op-2")])
    assert sorted(outcomes) == ["conflict", "credited"]
    assert balance(stores[0], account_id) == 3_300
    assert stores[0].get_item(f"BANKTRANSFER#{tid}", "BANKTRANSFER")["status"] == "credited"  # type: ignore[index]


def test_a_credit_is_one_transaction_with_its_entry_deposit_dedup_record_event_and_idempotency_record(
    store: DynamoStore, dynamo_client: Any
) -> None:
    account_id = open_account(store)
    dep = card_deposit(store, account_id)
    signed = sup.signed_card_event(sup.card_events(dep)["succeeded"]())
    sent: list[list[dict[str, Any]]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(params["TransactItems"])

    dynamo_client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", record)
    try:
        assert deliver(store, signed) == "credited"
    finally:
        dynamo_client.meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", record)
    [items] = sent
    keys = []
    for it in items:
        ((op, body),) = it.items()
        key = body.get("Key") or body["Item"]
        keys.append((op, key["pk"]["S"].split("#")[0], key["sk"]["S"].split("#")[0]))
    assert sorted(keys) == sorted(
        [
            ("Update", "ACCOUNT", "ACCOUNT"),  # balance, conditional on version
            ("Put", "ACCOUNT", "ENTRY"),  # the ledger entry
            ("Put", "WEBHOOK", "WEBHOOK"),  # permanent dedup of the provider event id
            ("Update", "ACCOUNT", "DEPOSIT"),  # pending -> credited, conditional on the version read
            ("Put", "ACCOUNT", "EVENT"),  # deposit.received for notifications
            ("Put", "ACCOUNT", "IDEM"),  # keyed on the provider payment id
        ]
    )
    hook = store.get_item(f"WEBHOOK#sandbox#{signed_event_id(signed)}", "WEBHOOK")
    assert hook is not None and "expires_at" not in hook, "the dedup record is permanent"


def signed_event_id(signed: tuple[bytes, dict[str, str]]) -> str:
    import json

    return str(json.loads(signed[0])["id"])


def test_a_partial_refund_before_the_success_is_netted_in_one_transaction(store: DynamoStore) -> None:
    account_id = open_account(store)
    dep = card_deposit(store, account_id)
    ev = sup.card_events(dep)
    assert deliver(store, sup.signed_card_event(ev["refunded"](1_200))) == "reversal_noted"
    assert deliver(store, sup.signed_card_event(ev["succeeded"]())) == "credited"
    sequence(store)
    entries = all_entries(store, account_id)
    assert sorted((e.seq, e.type, e.amount) for e in entries) == [
        (1, "deposit_card", 5_000),
        (2, "deposit_reversal", -1_200),
    ]
    assert balance(store, account_id) == 3_800
    assert_ledger_consistent(store, account_id)
