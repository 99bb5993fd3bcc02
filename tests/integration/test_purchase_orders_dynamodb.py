"""Purchase orders on DynamoDB Local: racing transfers, a replayed transfer, approval racing a rejection and a
cancellation; each ends in exactly one correct state."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from account_credit.accounts import service as accounts
from account_credit.accounts.schemas import AccountCreate
from account_credit.bank import service as bank
from account_credit.deposits.schemas import IncomingTransfer
from account_credit.kernel.errors import DomainError
from account_credit.platform import config
from account_credit.platform.store import keys
from account_credit.platform.store.dynamo import DynamoStore
from account_credit.purchase_orders import service as po
from account_credit.purchase_orders.schemas import PurchaseOrderCreate
from tests.integration.helpers import containers
from tests.unit import _deposit_support as sup

OPERATOR = "operator:op-1"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for k, v in sup.ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    config.seller.cache_clear()
    sup.reset()
    yield
    config.seller.cache_clear()
    sup.reset()


def race(stores: list[DynamoStore], jobs: list[Callable[[DynamoStore], Any]]) -> list[Any]:
    """Every job at once, each on its own container; a domain error is an outcome, not a failure."""
    barrier = threading.Barrier(len(jobs))

    def run(i: int) -> Any:
        barrier.wait()
        try:
            return jobs[i](stores[i % len(stores)])
        except DomainError as exc:
            return exc

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, range(len(jobs))))


def approved(store: DynamoStore) -> tuple[str, dict[str, Any]]:
    req = AccountCreate.model_validate({"currency": "EUR", "company": {"name": "Acme"}, "billing_emails": ["a@b.test"]})
    acc = accounts.open_account(store, req).account_id
    body = po.submit(store, acc, PurchaseOrderCreate(po_number="PO-1", amount=100_000), uuid.uuid4().hex, "customer")
    return acc, po.approve(store, acc, body.body["po_id"], OPERATOR)


def transfer(store: DynamoStore, acc: str, amount: int, tid: str) -> dict[str, Any]:
    account = store.get_account(acc)
    assert account is not None
    t = IncomingTransfer.model_validate(
        {"transfer_id": tid, "amount": amount, "currency": "EUR", "reference": account.payment_reference,
         "booked_date": "2026-11-10"}
    )  # fmt: skip
    return bank.record_transfer(store, t, actor="bank")


def test_two_transfers_for_one_po_at_once_are_both_credited(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 2)
    acc, order = approved(stores[0])
    outcomes = race(stores, [lambda s: transfer(s, acc, 40_000, "tr-a"), lambda s: transfer(s, acc, 60_000, "tr-b")])
    assert sorted(o["outcome"] for o in outcomes) == ["credited", "credited"]
    view = po.get(stores[0], acc, order["po_id"])
    assert (view["status"], view["paid"], len(view["payments"])) == ("paid", 100_000, 2)
    assert (stores[0].get_account(acc) or order).balance == 100_000  # type: ignore[union-attr]


def test_a_transfer_replayed_ten_times_at_once_is_credited_once(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 10)
    acc, order = approved(stores[0])
    outcomes = race(stores, [lambda s: transfer(s, acc, 25_000, "tr-same") for _ in range(10)])
    assert sorted(o["outcome"] for o in outcomes) == ["credited"] + ["duplicate"] * 9
    view = po.get(stores[0], acc, order["po_id"])
    assert (view["status"], view["paid"]) == ("partly_paid", 25_000)
    assert (stores[0].get_account(acc) or order).balance == 25_000  # type: ignore[union-attr]


def test_an_approval_racing_a_rejection_ends_in_one_of_them(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 2)
    req = AccountCreate.model_validate({"currency": "EUR", "company": {"name": "Acme"}, "billing_emails": ["a@b.test"]})
    acc = accounts.open_account(stores[0], req).account_id
    body = po.submit(stores[0], acc, PurchaseOrderCreate(po_number="PO-9", amount=5_000), "k", "customer").body
    outcomes = race(
        stores,
        [
            lambda s: po.approve(s, acc, body["po_id"], OPERATOR),
            lambda s: po.reject(s, acc, body["po_id"], "no", OPERATOR),
        ],
    )
    winners = [o for o in outcomes if isinstance(o, dict)]
    assert len(winners) == 1, outcomes
    final = po.get(stores[0], acc, body["po_id"])
    deposits = stores[0].query_prefix(*keys.deposits_prefix(acc))
    if final["state"] == "approved":
        assert final["invoice_number"] and len(deposits) == 1
    else:
        assert final["state"] == "rejected" and final["invoice_number"] is None and deposits == []


def test_a_cancellation_racing_a_payment_ends_consistent(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 2)
    acc, order = approved(stores[0])
    outcomes = race(
        stores,
        [
            lambda s: po.cancel(s, acc, order["po_id"], "ordered twice", OPERATOR),
            lambda s: transfer(s, acc, 100_000, "tr-x"),
        ],
    )
    final = po.get(stores[0], acc, order["po_id"])
    balance = (stores[0].get_account(acc) or order).balance  # type: ignore[union-attr]
    assert balance == 100_000  # the transfer is credited whatever happened to the invoice
    if final["state"] == "cancelled":  # cancelled first: the payment went to a top-up of its own
        assert final["paid"] == 0 and isinstance(outcomes[0], dict)
    else:  # paid first: nothing left to cancel
        assert (final["state"], final["status"], final["paid"]) == ("approved", "paid", 100_000)
        assert isinstance(outcomes[0], DomainError)
