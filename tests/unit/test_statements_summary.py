"""The accounting summary (statements/summary.py) and its files (statements/render.py): every entry type lands in
its row, and over random histories opening + rows = closing to the minor unit, and closing is the balance after the
period's last entry."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from account_credit.kernel.domain import EntryType, LedgerEntry
from account_credit.kernel.errors import InvalidInput
from account_credit.kernel.ids import iso
from account_credit.statements import render
from account_credit.statements.summary import ROW_KEYS, Period, credit_drawn, row_of, summarize

START = datetime(2026, 1, 1, tzinfo=UTC)


def entry(n: int, kind: str, amount: int, at: datetime, after: int | None = None, **reference: str) -> LedgerEntry:
    return LedgerEntry(
        entry_id=f"ent_{n:05d}",
        account_id="acc_1",
        type=kind,
        amount=amount,
        currency="USD",
        created_at=iso(at),
        reference=reference,
        seq=n if after is not None else None,
        balance_after=after,
    )


@pytest.mark.parametrize(
    ("kind", "amount", "reference", "row"),
    [
        (EntryType.DEPOSIT_CARD, 5000, {}, "deposit_card"),
        (EntryType.DEPOSIT_BANK_TRANSFER, 5000, {}, "deposit_bank_transfer"),
        (EntryType.DEPOSIT_REVERSAL, -5000, {}, "reversals"),
        (EntryType.ORDER_BALANCE, -1000, {"channel": "web"}, "orders"),
        (EntryType.ORDER_CREDIT, -1000, {"channel": "api"}, "orders"),
        (EntryType.ORDER_BALANCE, -1000, {"channel": "renewal"}, "renewals"),
        (EntryType.ORDER_CANCELLATION, 1000, {}, "refunds"),
        ("order_refund", 400, {"order_id": "o1", "refund_id": "r1"}, "refunds"),  # partial refund to the balance
        ("order_refund", 0, {"order_id": "o1", "refund_id": "r2", "card_amount": "400"}, "refunds"),  # card: 0
        (EntryType.ADJUSTMENT_CREDIT, 300, {}, "adjustments_credit"),
        (EntryType.ADJUSTMENT_DEBIT, -300, {}, "adjustments_debit"),
        (EntryType.ORDER_CARD, 0, {}, None),
        (EntryType.ORDER_GIFT_CARD, 0, {}, None),
        ("something_new", 7, {}, "other"),
    ],
)
def test_every_entry_type_lands_in_its_row(kind: str, amount: int, reference: dict[str, str], row: str | None) -> None:
    e = entry(1, kind, amount, START + timedelta(days=3), 10_000 + amount, **reference)
    assert row_of(e) == row
    s = summarize("USD", Period(date(2026, 1, 1), date(2026, 1, 31)), [entry(0, "deposit_card", 10_000, START), e])
    assert s.opening_balance == 0
    for key in ROW_KEYS:
        expected = (10_000 if key == "deposit_card" else 0) + (amount if key == row else 0)
        assert s.rows[key] == expected, key
    assert s.closing_balance == 10_000 + amount
    assert (s.paid_by_card, s.paid_by_gift_card) == (int(kind == "order_card"), int(kind == "order_gift_card"))


def test_the_period_is_two_utc_days_inclusive_and_earlier_entries_open_it() -> None:
    period = Period(date(2026, 2, 1), date(2026, 2, 28))
    entries = [
        entry(1, "deposit_card", 10_000, datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC), 10_000),
        entry(2, "order_balance", -2_500, datetime(2026, 2, 1, tzinfo=UTC), 7_500),
        entry(3, "order_balance", -1_000, datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC), 6_500),
        entry(4, "adjustment_credit", 100, datetime(2026, 3, 1, tzinfo=UTC), 6_600),
    ]
    s = summarize("USD", period, entries)
    assert (s.opening_balance, s.rows["orders"], s.closing_balance, s.entries) == (10_000, -3_500, 6_500, 2)
    with pytest.raises(InvalidInput):
        Period(date(2026, 2, 2), date(2026, 2, 1))


def test_credit_drawn_is_how_far_a_debit_went_below_zero() -> None:
    assert credit_drawn(entry(1, "order_credit", -3_000, START, -1_000)) == 1_000  # 2000 -> -1000
    assert credit_drawn(entry(1, "order_credit", -3_000, START, -4_000)) == 3_000  # -1000 -> -4000
    assert credit_drawn(entry(1, "order_balance", -3_000, START, 1_000)) == 0
    assert credit_drawn(entry(1, "deposit_card", 3_000, START, -1_000)) == 0
    assert credit_drawn(entry(1, "order_credit", -3_000, START)) == 0  # unplaced: not known yet


MOVES = st.sampled_from(
    [
        ("deposit_card", 1),
        ("deposit_bank_transfer", 1),
        ("deposit_reversal", -1),
        ("order_balance", -1),
        ("order_credit", -1),
        ("order_balance:renewal", -1),
        ("order_cancellation", 1),
        ("adjustment_credit", 1),
        ("adjustment_debit", -1),
        ("order_card", 0),
        ("order_gift_card", 0),
    ]
)
HISTORY = st.lists(
    st.tuples(MOVES, st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=200_000)),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(history=HISTORY, first=st.integers(0, 40), length=st.integers(0, 40))
def test_opening_plus_rows_is_closing_to_the_cent(history: list, first: int, length: int) -> None:
    entries: list[LedgerEntry] = []
    balance, at = 0, START
    for n, ((kind, sign), size, gap) in enumerate(history, start=1):
        at += timedelta(seconds=gap)
        amount = sign * size
        balance += amount
        kind, _, channel = kind.partition(":")
        entries.append(entry(n, kind, amount, at, balance, **({"channel": channel} if channel else {})))
    period = Period(START.date() + timedelta(days=first), START.date() + timedelta(days=first + length))
    shuffled = list(reversed(entries))  # pages arrive newest first: the order must not matter
    s = summarize("USD", period, shuffled)
    assert s.opening_balance + sum(s.rows.values()) == s.closing_balance
    before = [e for e in entries if period.before(e)]
    inside = [e for e in entries if period.contains(e)]
    assert s.opening_balance == (before[-1].balance_after if before else 0)
    assert s.closing_balance == (inside[-1].balance_after if inside else s.opening_balance)
    assert s.entries == len(inside)
    d = s.as_dict()
    assert (
        d["opening_balance"]
        + d["deposits"]["total"]
        + d["reversals"]
        + d["draws"]["total"]
        + d["refunds"]
        + d["adjustments"]["total"]
        + d["other"]
        == d["closing_balance"]
    )
    # The files say the same: the CSV's amounts, read back as decimals, add up to the closing balance.
    rows = list(csv.DictReader(io.StringIO(render.summary_csv(s).decode())))
    cents = {r["row"]: int(Decimal(r["amount"]) * 100) for r in rows}
    assert cents["opening_balance"] + sum(cents[k] for k in ROW_KEYS) == cents["closing_balance"] == s.closing_balance
    tx = list(csv.DictReader(io.StringIO(render.transactions_csv(inside).decode())))
    assert s.opening_balance + sum(int(Decimal(r["amount"]) * 100) for r in tx) == s.closing_balance


def test_csv_conventions() -> None:
    e = entry(7, "order_balance", -123_450, START, -5, order_id="ord_1", channel="web")
    e = LedgerEntry(**{**e.__dict__, "description": 'Order "1", 2 items', "documents": ("INV-2026-1",)})
    text = render.transactions_csv([e]).decode()
    assert text.splitlines()[0] == ",".join(render.TRANSACTION_COLUMNS)
    assert text.endswith("\r\n")
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["amount"] == "-1234.50" and row["balance_after"] == "-0.05" and row["currency"] == "USD"
    assert row["description"] == 'Order "1", 2 items' and row["order_id"] == "ord_1" and row["seq"] == "7"
    assert row["created_at"] == "2026-01-01T00:00:00.000000Z" and row["row"] == "orders"
    assert (
        render.decimal(-5, "JPY") == "-5"
        and render.decimal(1234, "KWD") == "1.234"
        and render.decimal(7, "EUR") == "0.07"
    )
    as_json = render.transaction_json(e)
    assert as_json["amount"] == -123_450 and as_json["amount_decimal"] == "-1234.50"
    s = summarize("USD", Period(date(2026, 1, 1), date(2026, 1, 1)), [e])
    assert json.loads(render.summary_json(s))["closing_balance"] == -123_450
