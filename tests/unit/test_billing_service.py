"""Billing documents from real histories (bank transfers, orders from the balance and on credit, card orders,
cancellations, reversals) on the in-memory store: what is issued, when, once, and that it reconciles."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from _billing_support import vat_seller
from _order_support import FakeProvider, add_product, set_up
from _support import Clock, customer_of
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from account_credit.bank import service as bank
from account_credit.billing import service as billing
from account_credit.billing.document import Document
from account_credit.deposits.schemas import IncomingTransfer
from account_credit.kernel.domain import Account, EntryType, Floor, Movement
from account_credit.kernel.money import Money
from account_credit.orders import service as orders
from account_credit.orders.schemas import OrderCancel, OrderCreate, RefundCreate
from account_credit.payment_methods import gift_cards
from account_credit.payment_methods import service as payment_methods
from account_credit.platform.commit import commit
from account_credit.platform.store import keys
from account_credit.platform.store.memory import MemoryStore

PRICE = 10_000  # net, EUR cents


@pytest.fixture(autouse=True)
def _seller(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from vat_seller(monkeypatch)


@dataclass
class History:
    """Drives the real services and, like the documents function on the stream, reacts to every placed entry."""

    store: MemoryStore
    account: Account
    clock: Clock
    fake: FakeProvider = field(default_factory=FakeProvider)
    seen: set[str] = field(default_factory=set)
    n: int = 0

    @property
    def acc(self) -> str:
        return self.account.account_id

    def _stream(self) -> None:
        for e in billing.ledger(self.store, self.acc):
            if e.entry_id not in self.seen:
                self.seen.add(e.entry_id)
                billing.on_entry_placed(self.store, self.acc, e.entry_id)

    def transfer(self, amount: int) -> None:
        self.n += 1
        t = IncomingTransfer.model_validate(
            {
                "transfer_id": f"tr-{self.acc}-{self.n}",
                "amount": amount,
                "currency": "EUR",
                "reference": self.account.payment_reference,
                "booked_date": self.clock.now.date().isoformat(),
            }
        )
        bank.record_transfer(self.store, t, actor="bank")
        self._stream()

    def order(self, order_id: str, quantity: int = 1, credit: bool = False) -> dict[str, Any]:
        req = OrderCreate(
            order_id=order_id,
            channel="api",
            lines=[{"product_code": "ov", "quantity": quantity}],
            may_use_credit=credit,
        )
        body = orders.pay_order(
            self.store, req.command(self.acc, customer_of(self.acc).actor), providers=lambda _n: self.fake
        ).body
        self._stream()
        return body

    def cancel(self, order_id: str) -> None:
        cmd = OrderCancel(reason="ordered by mistake").command(
            self.acc, order_id, f"cancel-{order_id}", customer_of(self.acc).actor
        )
        orders.cancel_order(self.store, cmd, providers=lambda _n: self.fake)
        self._stream()

    def refund(self, order_id: str, quantity: int = 1, line: int = 1) -> dict[str, Any]:
        self.n += 1
        body = RefundCreate.model_validate({"lines": [{"line": line, "quantity": quantity}]})
        cmd = body.command(self.acc, order_id, f"refund-{order_id}-{self.n}", "operator:op-1", True)
        done = orders.refund_order(self.store, cmd, now=self.clock.now, providers=lambda _n: self.fake).body
        self._stream()
        return done

    def reverse(self, deposit_id: str, amount: int) -> None:
        uow = self.store.unit_of_work()
        uow.move(
            Movement(
                account_id=self.acc,
                amount=Money(-amount, "EUR"),
                type=EntryType.DEPOSIT_REVERSAL,
                floor=Floor.NONE,
                description="card payment refunded",
                reference={"deposit_id": deposit_id},
            )
        )
        commit(uow, None, lambda _p: {})
        self._stream()

    def documents(self) -> list[Document]:
        return [Document.from_dict(i) for i in self.store.query_prefix(*keys.documents_prefix(self.acc), limit=1000)]


@pytest.fixture
def history(store: MemoryStore, open_account: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> History:
    monkeypatch.setattr("account_credit.kernel.ids.utc_now", clock)
    monkeypatch.setattr("account_credit.billing.issuing.utc_now", clock)
    clock.set(datetime(2026, 10, 3, 9, 0, tzinfo=UTC))
    add_product(store, "ov", {"EUR": PRICE})
    account = open_account("EUR", name="Žltá ťava s.r.o.", country="SK")
    set_up(store, account, credit_limit=500_000, card_token=None)
    return History(store, store.get_account(account.account_id) or account, clock)


def kinds(docs: list[Document]) -> dict[str, list[Document]]:
    out: dict[str, list[Document]] = defaultdict(list)
    for d in docs:
        out[str(d.kind)].append(d)
    return out


def test_a_bank_top_up_gets_a_tax_document_with_the_vat_broken_out(history: History) -> None:
    history.transfer(12_300)
    (doc,) = history.documents()
    assert (doc.kind, doc.type_code, doc.number) == ("tax_document", "386", "TD-2026-000001")
    assert (doc.totals.net, doc.totals.vat, doc.totals.gross, doc.totals.payable) == (10_000, 2_300, 12_300, 0)
    assert (
        doc.treatment.category == "S" and doc.buyer.name == "Žltá ťava s.r.o." and doc.seller.vat_id == "SK2020273893"
    )
    (entry,) = billing.ledger(history.store, history.acc)
    assert entry.documents == ("TD-2026-000001",) and doc.movements == (entry.entry_id,)


def test_orders_are_priced_net_plus_vat_and_the_month_gets_one_statement_per_top_up(history: History) -> None:
    history.transfer(15_000)
    history.transfer(20_000)
    first = history.order("o1")
    history.order("o2")  # 12,300 more: 2,700 from the first top-up, 9,600 from the second
    assert (first["net"], first["vat"], first["total"]) == (PRICE, 2_300, 12_300)
    result = billing.run_month(history.store, history.acc, "2026-10", date(2026, 11, 1))
    docs = kinds(history.documents())
    statements = sorted(docs["statement"], key=lambda d: d.number)
    assert [d.number for d in statements] == result.issued == ["ST-2026-000001", "ST-2026-000002"]
    assert [d.totals.gross for d in statements] == [15_000, 9_600]
    assert all(d.totals.payable == 0 and d.totals.prepaid == d.totals.gross for d in statements)
    assert [(x.order_id, x.gross) for x in statements[0].lines] == [("o1", 12_300), ("o2", 2_700)]
    assert statements[0].period_start == "2026-10-01" and statements[0].period_end == "2026-10-31"
    # the orders list the documents they appear on: o2 is on both statements
    assert orders.get_order(history.store, history.acc, "o1")["documents"] == ["ST-2026-000001"]
    assert orders.get_order(history.store, history.acc, "o2")["documents"] == ["ST-2026-000001", "ST-2026-000002"]
    # a rerun (or a crash halfway, run again) issues nothing twice
    again = billing.run_month(history.store, history.acc, "2026-10", date(2026, 11, 2))
    assert again.issued == [] and sorted(again.existing) == result.issued
    assert len(history.documents()) == 4  # two tax documents, two statements


def test_credit_draws_go_on_a_credit_invoice_due_by_transfer_and_its_payment_marks_it_paid(history: History) -> None:
    history.order("o1", credit=True)
    billing.run_month(history.store, history.acc, "2026-10", date(2026, 11, 1))
    (invoice,) = kinds(history.documents())["credit_invoice"]
    assert (invoice.totals.gross, invoice.totals.payable, invoice.due_date) == (12_300, 12_300, "2026-11-15")
    assert invoice.payment_reference == history.account.payment_reference and invoice.means == "30"
    assert history.store.get_item(*keys.open_invoice(history.acc, invoice.number)) is not None
    history.clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    assert billing.overdue_scan(history.store, date(2026, 11, 20)) == {"overdue_announced": 1}
    assert billing.overdue_scan(history.store, date(2026, 11, 21)) == {"overdue_announced": 1 - 1}
    history.transfer(12_300)  # pays the invoice: no tax document (the invoice is the tax document)
    docs = kinds(history.documents())
    assert "tax_document" not in docs
    assert billing.paid_amount(history.store, invoice) == 12_300
    assert history.store.get_item(*keys.open_invoice(history.acc, invoice.number)) is None
    paid = [e for e in history.store.items.values() if e.get("kind") == "event" and e["type"] == "invoice.paid"]
    assert [e["payload"]["number"] for e in paid] == [invoice.number]


def test_a_card_order_gets_a_paid_invoice_and_its_cancellation_a_credit_note(
    history: History, store: MemoryStore
) -> None:
    set_up(store, history.account, credit_limit=0, card_token="tok_visa")
    history.order("c1")
    (invoice,) = kinds(history.documents())["card_invoice"]
    assert (invoice.totals.gross, invoice.totals.payable, invoice.means) == (12_300, 0, "48")
    history.cancel("c1")
    (note,) = kinds(history.documents())["credit_note"]
    assert (note.type_code, note.corrects, note.totals.gross) == ("381", invoice.number, 12_300)


def test_a_gift_card_order_is_invoiced_like_a_card_order(history: History, store: MemoryStore) -> None:
    set_up(store, history.account, credit_limit=0)
    code = gift_cards.create(store, "GC-BILL-0001", 50_000, history.account.currency, "operator:op-1")["code"]
    pm = gift_cards.add_to_account(store, history.acc, history.account.currency, code)[0].payment_method_id
    payment_methods.set_preferences(store, history.acc, pm, None)
    assert history.order("g1")["payment"]["method"] == "gift_card"
    (invoice,) = kinds(history.documents())["card_invoice"]
    assert (invoice.totals.gross, invoice.totals.payable) == (12_300, 0), "paid"
    history.cancel("g1")
    (note,) = kinds(history.documents())["credit_note"]
    assert (note.corrects, note.totals.gross) == (invoice.number, 12_300)
    assert gift_cards.get(store, code)["remaining"] == 50_000  # type: ignore[index]


def test_an_order_cancelled_the_next_month_gets_a_credit_note_against_its_statement(history: History) -> None:
    history.transfer(50_000)
    history.order("o1")
    billing.run_month(history.store, history.acc, "2026-10", date(2026, 11, 1))
    history.clock.set(datetime(2026, 11, 5, 9, 0, tzinfo=UTC))
    history.cancel("o1")
    billing.run_month(history.store, history.acc, "2026-11", date(2026, 12, 1))
    docs = kinds(history.documents())
    (statement,) = docs["statement"]
    (note,) = docs["credit_note"]
    assert (note.corrects, note.totals.gross) == (statement.number, 12_300)


def test_a_card_orders_refund_gets_a_credit_note_against_its_invoice_at_once(
    history: History, store: MemoryStore
) -> None:
    set_up(store, history.account, credit_limit=0, card_token="tok_visa")
    history.order("c1", quantity=5)
    (invoice,) = kinds(history.documents())["card_invoice"]
    history.refund("c1", 2)
    (note,) = kinds(history.documents())["credit_note"]
    assert (note.type_code, note.corrects, note.totals.gross) == ("381", invoice.number, 2 * 12_300)
    assert [(x.quantity, x.description) for x in note.lines] == [(2, "OV SSL: 2 of 5 refunded")]
    entry = billing.ledger(store, history.acc)[-1]
    assert entry.type == "order_refund" and entry.documents == (note.number,)
    history.refund("c1", 3)
    notes = kinds(history.documents())["credit_note"]
    assert sum(n.totals.gross for n in notes) == invoice.totals.gross
    assert [n.number for n in notes] == ["CN-2026-000001", "CN-2026-000002"]


def test_a_balance_orders_refund_is_credited_against_the_statement_that_lists_the_order(history: History) -> None:
    history.transfer(100_000)
    history.order("o1", quantity=5)
    history.refund("o1", 2)  # the same month: the statement is not issued yet
    assert "credit_note" not in kinds(history.documents())
    billing.run_month(history.store, history.acc, "2026-10", date(2026, 11, 1))
    docs = kinds(history.documents())
    (statement,) = docs["statement"]
    (note,) = docs["credit_note"]
    assert statement.totals.gross == 5 * 12_300
    assert (note.corrects, note.totals.gross, note.totals.net) == (statement.number, 2 * 12_300, 2 * PRICE)
    history.clock.set(datetime(2026, 11, 4, 9, 0, tzinfo=UTC))
    history.refund("o1", 1)  # the statement exists: its credit note is issued at once
    notes = sorted(kinds(history.documents())["credit_note"], key=lambda d: d.number)
    assert [(n.corrects, n.totals.gross) for n in notes] == [(statement.number, 24_600), (statement.number, 12_300)]
    rerun = billing.run_month(history.store, history.acc, "2026-11", date(2026, 12, 1))
    assert rerun.issued == [] and rerun.existing == [notes[1].number]


def test_a_refund_of_a_draw_on_credit_is_credited_against_the_credit_invoice(history: History) -> None:
    history.order("o1", quantity=3, credit=True)
    billing.run_month(history.store, history.acc, "2026-10", date(2026, 11, 1))
    (invoice,) = kinds(history.documents())["credit_invoice"]
    history.clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    history.refund("o1", 1)
    (note,) = kinds(history.documents())["credit_note"]
    assert (note.corrects, note.totals.gross) == (invoice.number, 12_300)


def test_the_month_must_be_over_and_well_formed(history: History) -> None:
    from account_credit.kernel.errors import InvalidInput

    with pytest.raises(InvalidInput, match="not over"):
        billing.run_month(history.store, history.acc, "2026-10", date(2026, 10, 31))
    with pytest.raises(InvalidInput, match="YYYY-MM"):
        billing.run_month(history.store, history.acc, "2026-13", date(2026, 11, 1))


# --------------------------------------------------------------------------- reconciliation over random histories

steps = st.lists(
    st.one_of(
        st.tuples(st.just("transfer"), st.integers(1_000, 40_000)),
        st.tuples(st.just("order"), st.integers(1, 3)),
        st.tuples(st.just("credit"), st.integers(1, 2)),
        st.tuples(st.just("cancel"), st.integers(0, 20)),
        st.tuples(st.just("refund"), st.integers(0, 20)),
        st.tuples(st.just("reverse"), st.integers(0, 20)),
        st.tuples(st.just("next_month"), st.just(0)),
    ),
    min_size=1,
    max_size=18,
)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_documents_reconcile_with_the_ledger_per_month(history: History, plan: list[tuple[str, int]]) -> None:
    h = History(history.store.__class__(), history.account, history.clock)
    h.store.items.update(copy.deepcopy(history.store.items))  # a fresh copy of the set-up account and catalog
    set_up(h.store, h.account, credit_limit=500_000, card_token="tok_visa")  # short balance: the card pays
    h.clock.set(datetime(2026, 10, 3, 9, 0, tzinfo=UTC))
    paid: list[str] = []
    deposits: list[tuple[str, int]] = []
    for i, (step, value) in enumerate(plan):
        h.clock.tick(minutes=5)
        try:
            if step == "transfer":
                h.transfer(value)
                entry = billing.ledger(h.store, h.acc)[-1]
                deposits.append((entry.reference["deposit_id"], entry.amount))
            elif step in ("order", "credit"):
                h.order(f"o{i}", quantity=value, credit=step == "credit")
                paid.append(f"o{i}")
            elif step == "cancel" and paid:
                h.cancel(paid.pop(value % len(paid)))
            elif step == "refund" and paid:
                order_id = paid[value % len(paid)]
                if h.refund(order_id)["state"] == "refunded":
                    paid.remove(order_id)
            elif step == "reverse" and deposits:
                deposit_id, amount = deposits.pop(value % len(deposits))
                h.reverse(deposit_id, amount)
            elif step == "next_month":
                h.clock.set(datetime(h.clock.now.year, h.clock.now.month, 1, 9, tzinfo=UTC) + timedelta(days=35))
                h.clock.set(h.clock.now.replace(day=2))
        except Exception as exc:  # a decline (insufficient funds) writes nothing
            if type(exc).__name__ != "InsufficientFunds":
                raise
    months = sorted({e.created_at[:7] for e in billing.ledger(h.store, h.acc)})
    for month in months:
        end = date.fromisoformat(f"{month}-01") + timedelta(days=32)
        billing.run_month(h.store, h.acc, month, end.replace(day=1))
    docs = h.documents()
    entries = billing.ledger(h.store, h.acc)
    assert sum(e.amount for e in entries) == (h.store.get_account(h.acc) or h.account).balance

    def month_of(doc: Document) -> str:
        return (doc.period_start or doc.issue_date)[:7]

    by_number = {d.number: d for d in docs}
    for month in months:
        in_month = [e for e in entries if e.created_at[:7] == month]
        draws = -sum(e.amount for e in in_month if e.type in ("order_balance", "order_credit"))
        returned = sum(e.amount for e in in_month if e.type in ("order_cancellation", "order_refund"))
        charged = sum(
            d.totals.gross for d in docs if d.kind in ("statement", "credit_invoice") and month_of(d) == month
        )
        credited = sum(
            d.totals.gross
            for d in docs
            if d.kind == "credit_note"
            and by_number[d.corrects or ""].kind in ("statement", "credit_invoice")
            and d.issue_date[:7] > month_of(by_number[d.corrects or ""])
            and any(e.entry_id in d.movements for e in in_month)
        )
        assert charged - credited == draws - returned, month
        deposited = sum(e.amount for e in in_month if e.type == "deposit_bank_transfer")
        tax_docs = sum(
            d.totals.gross
            for d in docs
            if d.kind == "tax_document" and any(e.entry_id in d.movements for e in in_month)
        )
        payments = sum(
            int(r["amount"])
            for r in h.store.items.values()
            if r.get("kind") == "document_payment" and any(e.entry_id == r["entry_id"] for e in in_month)
        )
        repaid_reversals = deposited - tax_docs - payments
        assert repaid_reversals >= 0, month
        card_orders = sum(int(e.reference["card_amount"]) for e in in_month if e.type == "order_card")
        refunds = sum(
            int((h.store.get_item(*keys.order(h.acc, e.reference["order_id"])) or {})["total"])
            for e in in_month
            if e.type == "order_cancellation" and e.amount == 0
        ) + sum(
            int(e.reference.get("card_amount") or e.reference.get("gift_card_amount") or 0)
            for e in in_month
            if e.type == "order_refund" and e.amount == 0
        )
        invoiced = sum(
            d.totals.gross
            for d in docs
            if d.kind == "card_invoice" and any(e.entry_id in d.movements for e in in_month)
        )
        refunded = sum(
            d.totals.gross
            for d in docs
            if d.kind == "credit_note"
            and by_number[d.corrects or ""].kind == "card_invoice"
            and any(e.entry_id in d.movements for e in in_month)
        )
        assert invoiced - refunded == card_orders - refunds, month
    # per series and year: numbers 1..n, no gap, none twice
    series: dict[str, list[int]] = defaultdict(list)
    for d in docs:
        prefix, year, n = d.number.split("-")
        series[f"{prefix}-{year}"].append(int(n))
    for numbers in series.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
