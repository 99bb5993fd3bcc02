"""The accounting summary of a period: pure arithmetic over ledger entries, no I/O (docs/STATEMENTS.md).

A period is ``[from, to]``, two UTC days inclusive, over the entries' ``created_at``. The opening balance is the sum
of every entry before ``from`` (the balance starts at zero); each entry of the period falls in exactly one row;
``closing = opening + sum of the rows``, to the minor unit, always (an entry of a type this module does not know
lands in ``other``, so the identity never depends on the list below being complete).

Rows (signed minor units, + credit to the balance, - debit):

* deposits by method: ``deposit_card``, ``deposit_bank_transfer``; ``reversals`` (deposits taken back);
* draws: ``orders`` (orders paid from the balance or the credit line), ``renewals`` (those whose channel is
  ``renewal``: a subscription's term paid from the balance);
* ``refunds`` (orders cancelled, or refunded in part: money back);
* ``adjustments_credit`` and ``adjustments_debit`` (operators);
* ``other``.

Beside the rows, what does not move the balance: orders paid by card or gift card (record-only entries: counted),
and the credit line: in use at the opening and the closing (``max(0, -balance)``) and ``credit_drawn``, how much of
the period's debits went below zero (from each placed entry's ``balance_after``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from account_credit.kernel.domain import EntryType, LedgerEntry
from account_credit.kernel.errors import InvalidInput
from account_credit.kernel.ids import iso

RENEWAL_CHANNEL = "renewal"

# The rows in the order a statement prints them: (key, label).
ROWS: tuple[tuple[str, str], ...] = (
    ("deposit_card", "Deposits by card"),
    ("deposit_bank_transfer", "Deposits by bank transfer"),
    ("reversals", "Deposits reversed"),
    ("orders", "Orders"),
    ("renewals", "Renewals"),
    ("refunds", "Refunds of orders"),
    ("adjustments_credit", "Adjustments (credit)"),
    ("adjustments_debit", "Adjustments (debit)"),
    ("other", "Other movements"),
)
ROW_KEYS = tuple(k for k, _ in ROWS)

# A refund of some certificates: + for balance and credit orders, 0 (record-only) for card and gift-card ones.
ORDER_REFUND = EntryType.ORDER_REFUND
_BY_TYPE: dict[str, str] = {
    EntryType.DEPOSIT_CARD: "deposit_card",
    EntryType.DEPOSIT_BANK_TRANSFER: "deposit_bank_transfer",
    EntryType.DEPOSIT_REVERSAL: "reversals",
    EntryType.ORDER_BALANCE: "orders",
    EntryType.ORDER_CREDIT: "orders",
    EntryType.ORDER_CANCELLATION: "refunds",
    ORDER_REFUND: "refunds",
    EntryType.ADJUSTMENT_CREDIT: "adjustments_credit",
    EntryType.ADJUSTMENT_DEBIT: "adjustments_debit",
}
RECORD_ONLY = (EntryType.ORDER_CARD, EntryType.ORDER_GIFT_CARD)


def row_of(entry: LedgerEntry) -> str | None:
    """The summary row an entry of the period counts in; None for a record-only entry (it moves no money)."""
    if entry.type in RECORD_ONLY:
        return None
    row = _BY_TYPE.get(entry.type, "other")
    if row == "orders" and entry.reference.get("channel") == RENEWAL_CHANNEL:
        return "renewals"
    return row


@dataclass(frozen=True)
class Period:
    """Two UTC days, inclusive. ``low``/``high``: the ``created_at`` bounds (fixed-width ISO, compare as strings)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput(f"the period ends ({self.end}) before it starts ({self.start})", field="to")

    @property
    def low(self) -> str:
        return iso(datetime.combine(self.start, time.min, tzinfo=UTC))

    @property
    def high(self) -> str:
        return iso(datetime.combine(self.end, time.max, tzinfo=UTC))

    def before(self, entry: LedgerEntry) -> bool:
        return entry.created_at < self.low

    def contains(self, entry: LedgerEntry) -> bool:
        return self.low <= entry.created_at <= self.high


def credit_drawn(entry: LedgerEntry) -> int:
    """How far below zero a placed debit took the balance (0 for a credit, an unplaced entry, or one that stayed
    above zero): ``max(0, -after) - max(0, -before)`` when it grew."""
    if entry.balance_after is None or entry.amount >= 0:
        return 0
    after = entry.balance_after
    before = after - entry.amount
    return max(0, max(0, -after) - max(0, -before))


@dataclass
class Accumulator:
    """Folds entries in any order (pages come newest first) into a summary: ``add`` each entry of the period, give
    the opening balance (or ``add_before`` each earlier entry)."""

    currency: str
    period: Period
    opening: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROW_KEYS, 0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROW_KEYS, 0))
    paid_by_card: int = 0
    paid_by_gift_card: int = 0
    credit_drawn: int = 0
    entries: int = 0
    unplaced: int = 0

    def add_before(self, entry: LedgerEntry) -> None:
        self.opening += entry.amount

    def add(self, entry: LedgerEntry) -> None:
        if entry.currency != self.currency:
            raise InvalidInput(f"entry {entry.entry_id} is in {entry.currency}, not {self.currency}", field="currency")
        self.entries += 1
        if entry.seq is None:
            self.unplaced += 1
        row = row_of(entry)
        if row is None:
            if entry.type == EntryType.ORDER_CARD:
                self.paid_by_card += 1
            else:
                self.paid_by_gift_card += 1
            return
        self.rows[row] += entry.amount
        self.counts[row] += 1
        self.credit_drawn += credit_drawn(entry)

    def summary(self) -> Summary:
        closing = self.opening + sum(self.rows.values())
        return Summary(
            currency=self.currency,
            period=self.period,
            opening_balance=self.opening,
            rows=dict(self.rows),
            counts=dict(self.counts),
            closing_balance=closing,
            paid_by_card=self.paid_by_card,
            paid_by_gift_card=self.paid_by_gift_card,
            credit_in_use_opening=max(0, -self.opening),
            credit_in_use_closing=max(0, -closing),
            credit_drawn=self.credit_drawn,
            entries=self.entries,
            unplaced=self.unplaced,
        )


@dataclass(frozen=True)
class Summary:
    currency: str
    period: Period
    opening_balance: int
    rows: dict[str, int]
    counts: dict[str, int]
    closing_balance: int
    paid_by_card: int  # record-only entries: orders paid by card (the balance did not move)
    paid_by_gift_card: int
    credit_in_use_opening: int
    credit_in_use_closing: int
    credit_drawn: int
    entries: int  # entries of the period, record-only ones included
    unplaced: int  # entries the sequencer has not numbered yet (their credit_drawn is not known yet)

    @property
    def deposits(self) -> int:
        return self.rows["deposit_card"] + self.rows["deposit_bank_transfer"]

    @property
    def draws(self) -> int:
        return self.rows["orders"] + self.rows["renewals"]

    @property
    def adjustments(self) -> int:
        return self.rows["adjustments_credit"] + self.rows["adjustments_debit"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "opening_balance": self.opening_balance,
            "deposits": {
                "card": self.rows["deposit_card"],
                "bank_transfer": self.rows["deposit_bank_transfer"],
                "total": self.deposits,
            },
            "reversals": self.rows["reversals"],
            "draws": {"orders": self.rows["orders"], "renewals": self.rows["renewals"], "total": self.draws},
            "refunds": self.rows["refunds"],
            "adjustments": {
                "credit": self.rows["adjustments_credit"],
                "debit": self.rows["adjustments_debit"],
                "total": self.adjustments,
            },
            "other": self.rows["other"],
            "closing_balance": self.closing_balance,
            "credit": {
                "in_use_opening": self.credit_in_use_opening,
                "in_use_closing": self.credit_in_use_closing,
                "drawn": self.credit_drawn,
            },
            "paid_outside_balance": {"card_orders": self.paid_by_card, "gift_card_orders": self.paid_by_gift_card},
            "rows": [
                {"row": key, "label": label, "amount": self.rows[key], "entries": self.counts[key]}
                for key, label in ROWS
            ],
            "entries": self.entries,
            "unplaced": self.unplaced,
        }


def summarize(currency: str, period: Period, entries: list[LedgerEntry]) -> Summary:
    """The summary of ``period`` from entries of any order: those before it make the opening balance, those after
    it are ignored."""
    acc = Accumulator(currency, period)
    for entry in entries:
        if period.before(entry):
            acc.add_before(entry)
        elif period.contains(entry):
            acc.add(entry)
    return acc.summary()
