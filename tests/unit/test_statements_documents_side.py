"""The summary from the documents side (statements/documents_side.py): over random histories driven through the
real services (bank transfers, orders from the balance, on credit and by card, cancellations, reversals) and the
monthly billing run, every row of every month's summary (and of the whole span) reconciles to the documents with
zero difference; a tampered document shows as a difference in its row; a month not billed yet is pending."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from _billing_support import vat_seller
from _order_support import add_product, set_up
from _support import Clock
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from test_billing_service import PRICE, History, steps

from account_credit.billing import service as billing
from account_credit.billing.document import Kind
from account_credit.platform.store import keys
from account_credit.platform.store.memory import MemoryStore
from account_credit.statements import service as svc
from account_credit.statements.documents_side import DocumentsSide
from account_credit.statements.summary import Period


@pytest.fixture(autouse=True)
def _seller(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from vat_seller(monkeypatch)


@pytest.fixture
def history(store: MemoryStore, open_account: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> History:
    monkeypatch.setattr("account_credit.kernel.ids.utc_now", clock)
    monkeypatch.setattr("account_credit.billing.issuing.utc_now", clock)
    clock.set(datetime(2026, 10, 3, 9, 0, tzinfo=UTC))
    add_product(store, "ov", {"EUR": PRICE})
    account = open_account("EUR", name="Žltá ťava s.r.o.", country="SK")
    set_up(store, account, credit_limit=500_000, card_token="tok_visa")  # short balance: the card pays
    return History(store, store.get_account(account.account_id) or account, clock)


def bill_every_month(h: History) -> list[str]:
    months = sorted({e.created_at[:7] for e in billing.ledger(h.store, h.acc)})
    for month in months:
        first_of_next = (date.fromisoformat(f"{month}-01") + timedelta(days=32)).replace(day=1)
        billing.run_month(h.store, h.acc, month, first_of_next)
    return months


def month_period(month: str) -> Period:
    start = date.fromisoformat(f"{month}-01")
    return Period(start, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1))


def assert_matches_the_summary(h: History, period: Period, side: DocumentsSide) -> None:
    """The documents side checks the summary's own rows (the same ledger money, seen from the documents)."""
    s = svc.summary(h.store, h.acc, period)
    c = side.checks
    assert c["deposits"].ledger == s.deposits
    assert c["reversals"].ledger == -s.rows["reversals"]
    assert c["draws"].ledger == -(s.draws + s.rows["adjustments_debit"])
    assert c["refunds"].ledger == s.rows["refunds"]


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_every_months_summary_reconciles_to_its_documents(history: History, plan: list[tuple[str, int]]) -> None:
    h = History(history.store.__class__(), history.account, history.clock)
    h.store.items.update(copy.deepcopy(history.store.items))  # a fresh copy of the set-up account and catalog
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
            elif step == "reverse" and deposits:
                deposit_id, amount = deposits.pop(value % len(deposits))
                h.reverse(deposit_id, amount)
            elif step == "next_month":
                h.clock.set(datetime(h.clock.now.year, h.clock.now.month, 1, 9, tzinfo=UTC) + timedelta(days=35))
                h.clock.set(h.clock.now.replace(day=2))
        except Exception as exc:  # a decline (insufficient funds) writes nothing
            if type(exc).__name__ != "InsufficientFunds":
                raise
    months = bill_every_month(h)
    if not months:  # nothing happened
        return
    periods = [month_period(m) for m in months] + [Period(month_period(months[0]).start, month_period(months[-1]).end)]
    for period in periods:
        side = svc.documents_side_of(h.store, h.acc, period)
        assert side.differences == {}, side.as_dict()
        assert all(c.pending == 0 for c in side.checks.values()), side.as_dict()  # every month is billed
        assert_matches_the_summary(h, period, side)


def test_a_tampered_document_shows_as_a_difference_and_an_unbilled_month_as_pending(history: History) -> None:
    h = history
    h.transfer(15_000)  # one order's worth (12,300 gross) and a little
    h.order("o1")  # from the balance
    h.order("o2")  # the balance is short: the saved card pays
    h.store.update_account(h.acc, {"settings": {"bill_to_balance": True, "cards_enabled": False}})
    h.order("o3", credit=True)  # no card now: mostly on credit
    h.clock.set(datetime(2026, 11, 4, 9, tzinfo=UTC))
    h.cancel("o1")  # the next month: a credit note against October's statement
    h.transfer(30_000)  # repays the credit draw: a payment of October's credit invoice
    bill_every_month(h)
    october, november = month_period("2026-10"), month_period("2026-11")
    for period in (october, november):
        side = svc.documents_side_of(h.store, h.acc, period)
        assert side.differences == {} and side.as_dict()["reconciled"], side.as_dict()
    checks = svc.documents_side_of(h.store, h.acc, october).checks
    assert checks["draws"].ledger == 2 * 12_300 and len(checks["draws"].numbers) == 2  # a statement and the CI
    assert checks["card_orders"].ledger == checks["card_orders"].documents == 12_300
    nov = svc.documents_side_of(h.store, h.acc, november).checks
    assert nov["refunds"].ledger == nov["refunds"].documents == 12_300
    assert nov["deposits"].documents == 30_000 and any(n.startswith("CI-") for n in nov["deposits"].numbers)

    # Tamper with October's statement: one line's VAT off by a cent.
    statement = next(
        i for i in h.store.items.values() if i.get("kind") == "statement" and i.get("period_start") == "2026-10-01"
    )
    statement["lines"][0]["vat"] += 1
    side = svc.documents_side_of(h.store, h.acc, october)
    assert side.differences == {"draws": -1} and not side.as_dict()["reconciled"]

    # December's draw before its month is billed: pending, not a difference.
    h.clock.set(datetime(2026, 12, 5, 9, tzinfo=UTC))
    h.transfer(20_000)
    h.order("o4")
    dec = svc.documents_side_of(h.store, h.acc, month_period("2026-12"))
    assert dec.differences == {}
    assert dec.checks["draws"].pending == dec.checks["draws"].ledger == 12_300
    assert dec.checks["deposits"].documents == 20_000  # the tax document is issued at once
    # billed: the pending draw is on December's statement
    billing.run_month(h.store, h.acc, "2026-12", date(2027, 1, 1))
    dec = svc.documents_side_of(h.store, h.acc, month_period("2026-12"))
    assert dec.differences == {} and dec.checks["draws"].documents == 12_300 and dec.checks["draws"].pending == 0
    assert replace(dec.period) == month_period("2026-12")
    assert h.store.get_item(*keys.billing_run(h.acc, "2026-12")) is not None
    assert {d.kind for d in h.documents()} >= {Kind.STATEMENT, Kind.CREDIT_INVOICE, Kind.CARD_INVOICE}
