"""Purchase orders on the in-memory store: submitted, approved (an invoice, nothing credited), paid in parts as
transfers arrive, not counted against the credit limit, reminded once per stage, rejected and cancelled."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from _deposit_support import ENV as DEPOSIT_ENV
from _deposit_support import reset as reset_deposits
from _order_support import FakeProvider, add_product, set_up
from _support import Clock, customer_of

from account_credit.bank import service as bank
from account_credit.billing.document import Document
from account_credit.deposits.schemas import IncomingTransfer
from account_credit.kernel.errors import Conflict
from account_credit.orders import service as orders
from account_credit.orders.schemas import OrderCreate
from account_credit.platform import config
from account_credit.platform.store import keys
from account_credit.platform.store.memory import MemoryStore
from account_credit.purchase_orders import service as po
from account_credit.purchase_orders.schemas import PurchaseOrderCreate

OPERATOR = "operator:op-1"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for k, v in DEPOSIT_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("PO_PAYMENT_TERMS_DAYS", "30")
    monkeypatch.setenv("PO_REMINDER_DAYS", "0,7,30")
    config.seller.cache_clear()
    reset_deposits()
    yield
    config.seller.cache_clear()
    reset_deposits()


@pytest.fixture
def acc(store: MemoryStore, open_account: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> str:
    for where in ("kernel.ids", "bank.proformas", "purchase_orders.service"):
        monkeypatch.setattr(f"account_credit.{where}.utc_now", clock)
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    account = open_account("EUR", name="Žltá ťava s.r.o.")
    return str(account.account_id)


def submit(store: MemoryStore, acc: str, number: str = "PO-4711", amount: int = 100_000, key: str = "k1") -> dict:
    req = PurchaseOrderCreate(po_number=number, amount=amount, note="Q4 certificates")
    return po.submit(store, acc, req, key, customer_of(acc).actor).body


def transfer(store: MemoryStore, acc: str, amount: int, tid: str, *, reference: bool = True, message: str = "") -> dict:
    account = store.get_account(acc)
    assert account is not None
    t = IncomingTransfer.model_validate(
        {
            "transfer_id": tid,
            "amount": amount,
            "currency": "EUR",
            "reference": account.payment_reference if reference else None,
            "booked_date": "2026-11-10",
            "message": message or None,
        }
    )
    return bank.record_transfer(store, t, actor="bank")


def test_a_submitted_order_waits_in_the_queue_and_its_number_is_unique(store: MemoryStore, acc: str) -> None:
    first = submit(store, acc)
    assert (first["state"], first["status"], first["paid"], first["outstanding"]) == (
        "submitted",
        "submitted",
        0,
        100_000,
    )
    assert [x["po_id"] for x in po.queue(store, "submitted", None, 50)["items"]] == [first["po_id"]]
    assert submit(store, acc) == first  # the same key again: the first answer
    with pytest.raises(Conflict, match="PO-4711") as info:
        submit(store, acc, key="k2")
    assert info.value.field == "po_number"


def test_approval_issues_the_invoice_and_credits_nothing(store: MemoryStore, acc: str) -> None:
    before = store.get_account(acc)
    order = submit(store, acc)
    approved = po.approve(store, acc, order["po_id"], OPERATOR)
    assert approved["state"] == "approved" and approved["status"] == "unpaid"
    assert approved["invoice_number"].startswith("PF-2026-") and approved["due_date"] == "2026-12-02"
    after = store.get_account(acc)
    assert before is not None and after is not None
    assert (after.balance, after.available) == (before.balance, before.available)  # not against the credit limit
    doc = Document.from_dict(store.get_item(*keys.document(acc, approved["invoice_number"])) or {})
    assert (doc.kind, doc.order_reference, doc.totals.payable, doc.einvoice_type_code) == (
        "payment_request",
        "PO-4711",
        100_000,
        "386",
    )
    assert po.queue(store, "submitted", None, 50)["items"] == []
    assert [x["po_id"] for x in po.queue(store, "approved", None, 50)["items"]] == [order["po_id"]]
    with pytest.raises(Conflict, match="not submitted"):
        po.reject(store, acc, order["po_id"], "too late", OPERATOR)


def test_payments_release_funds_as_they_arrive_by_reference_or_by_invoice_number(store: MemoryStore, acc: str) -> None:
    order = po.approve(store, acc, submit(store, acc)["po_id"], OPERATOR)
    assert transfer(store, acc, 40_000, "tr-1")["outcome"] == "credited"
    assert (store.get_account(acc) or order).balance == 40_000  # type: ignore[union-attr]
    partly = po.get(store, acc, order["po_id"])
    assert (partly["status"], partly["paid"], partly["outstanding"]) == ("partly_paid", 40_000, 60_000)
    # no reference, but the invoice number in the remittance text
    got = transfer(store, acc, 60_000, "tr-2", reference=False, message=f"payment of {order['invoice_number']}")
    assert got["outcome"] == "credited"
    paid = po.get(store, acc, order["po_id"])
    assert (paid["status"], paid["paid"], paid["outstanding"]) == ("paid", 100_000, 0)
    assert [(p["transfer_id"], p["amount"]) for p in paid["payments"]] == [("tr-1", 40_000), ("tr-2", 60_000)]
    assert all(p["entry_id"] for p in paid["payments"])
    assert transfer(store, acc, 60_000, "tr-2")["outcome"] == "duplicate"  # a replay credits nothing
    assert (store.get_account(acc) or order).balance == 100_000  # type: ignore[union-attr]


def test_an_emergency_purchase_on_credit_works_while_a_po_is_open(store: MemoryStore, acc: str) -> None:
    add_product(store, "ov", {"EUR": 10_000})
    set_up(store, store.get_account(acc), credit_limit=50_000)  # type: ignore[arg-type]
    po.approve(store, acc, submit(store, acc)["po_id"], OPERATOR)
    req = OrderCreate(order_id="e-1", channel="api", lines=[{"product_code": "ov", "quantity": 1}], may_use_credit=True)
    paid = orders.pay_order(store, req.command(acc, customer_of(acc).actor), providers=lambda _n: FakeProvider())
    assert paid.body["payment"]["method"] == "credit"
    account = store.get_account(acc)
    assert account is not None and (account.balance, account.available) == (-10_000, 40_000)


def _events(store: MemoryStore, kind: str) -> list[dict]:
    return [i for i in store.items.values() if i.get("kind") == "event" and i["type"] == kind]


def test_overdue_invoices_are_reminded_once_per_stage_and_paid_ones_leave_the_queue(
    store: MemoryStore, acc: str
) -> None:
    order = po.approve(store, acc, submit(store, acc)["po_id"], OPERATOR)
    due = date.fromisoformat(order["due_date"])
    assert po.remind(store, due - timedelta(days=1)) == {"reminders": 0, "paid": 0}
    assert po.remind(store, due) == {"reminders": 1, "paid": 0}
    assert po.remind(store, due + timedelta(days=1)) == {"reminders": 0, "paid": 0}
    assert po.get(store, acc, order["po_id"])["status"] == "unpaid"
    assert (
        po.view(store, store.get_item(*keys.purchase_order(acc, order["po_id"])) or {}, due + timedelta(days=1))[
            "status"
        ]
        == "overdue"
    )
    assert po.remind(store, due + timedelta(days=8)) == {"reminders": 1, "paid": 0}
    assert [e["payload"]["stage"] for e in _events(store, "po.overdue")] == [0, 7]
    transfer(store, acc, 100_000, "tr-9")
    assert po.remind(store, due + timedelta(days=31)) == {"reminders": 0, "paid": 1}
    assert po.get(store, acc, order["po_id"])["state"] == "paid"


def test_rejection_and_cancellation_keep_what_was_paid(store: MemoryStore, acc: str) -> None:
    rejected = po.reject(store, acc, submit(store, acc, "PO-1")["po_id"], "no budget this quarter", OPERATOR)
    assert (rejected["state"], rejected["reason"]) == ("rejected", "no budget this quarter")
    assert [e["payload"]["reason"] for e in _events(store, "po.rejected")] == ["no budget this quarter"]
    order = po.approve(store, acc, submit(store, acc, "PO-2", key="k2")["po_id"], OPERATOR)
    transfer(store, acc, 30_000, "tr-1")
    cancelled = po.cancel(store, acc, order["po_id"], "ordered twice", OPERATOR)
    assert (cancelled["state"], cancelled["paid"]) == ("cancelled", 30_000)
    assert (store.get_account(acc) or order).balance == 30_000  # type: ignore[union-attr]
    # a later transfer is no longer matched to the cancelled invoice: a top-up of its own
    transfer(store, acc, 5_000, "tr-2")
    assert po.get(store, acc, order["po_id"])["paid"] == 30_000
    with pytest.raises(Conflict):
        po.cancel(store, acc, order["po_id"], "again", OPERATOR)
