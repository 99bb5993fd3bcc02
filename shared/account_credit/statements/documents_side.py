"""The accounting summary from the documents side: how the period's ledger rows reconcile to the billing documents
issued for them (docs/STATEMENTS.md, "The documents side"). Pure: no I/O.

Each check compares a row's money as the ledger has it (a magnitude, minor units) with what the documents state
(gross), and names what is on no document **by design** and what is **pending** (its document is not issued
yet); ``difference = ledger - documents - not_on_documents - pending`` is zero when the documents reconcile.

* ``deposits`` (deposit_card + deposit_bank_transfer): the tax documents (TD) of the period's deposits + the
  payments recorded on credit invoices (CI) by them. Pending: repayments of draws whose month is not billed yet
  (they become CI payments when it is). By design on none: what repaid a draw that was cancelled within its own
  month (that draw is on no CI, and the repaid part is not a prepayment).
* ``reversals`` (deposit_reversal): credit notes (CN) against the deposit's TD. By design on none: what exceeds
  the TD (the deposit had repaid credit, or had no TD at all).
* ``draws`` (order_balance, order_credit, adjustment_debit: the summary's orders + renewals + adjustments_debit):
  the gross of the statement (ST) and CI lines of the period's draws. Pending: draws of months not billed yet. By
  design on none: draws cancelled within their own month (neither the draw nor its cancellation is documented).
* ``refunds`` (order_cancellation and order_refund of balance and credit orders, amount > 0): CNs against a ST or
  CI listing the refund's entry. Pending: refunds of draws (or in months) not billed yet. By design on none:
  cancellations within the draw's month.
* ``card_orders`` (order_card, order_gift_card: record-only, the amount is the reference's ``card_amount`` /
  ``gift_card_amount``): their invoices (IN). ``card_refunds`` (the same types' refunds, amount 0): CNs against
  an IN.

Operators' credit adjustments are on no document (they are corrections, not payments) and are not checked here.
Entries not placed by the sequencer yet are pending in every row (their documents follow placement).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from account_credit.billing.attribution import DEPOSITS, DRAWS, attribute
from account_credit.billing.document import Document, Kind
from account_credit.kernel.domain import EntryType, LedgerEntry
from account_credit.statements.summary import ORDER_REFUND, Period

CHECKS = ("deposits", "reversals", "draws", "refunds", "card_orders", "card_refunds")
CARD_ORDERS = (EntryType.ORDER_CARD, EntryType.ORDER_GIFT_CARD)
REFUNDS = (EntryType.ORDER_CANCELLATION, ORDER_REFUND)


@dataclass(frozen=True)
class Payment:
    """A payment recorded on a credit invoice (``keys.document_payment``): ``amount`` of top-up ``entry_id``."""

    number: str
    entry_id: str
    amount: int


@dataclass
class Check:
    row: str
    ledger: int = 0
    documents: int = 0
    not_on_documents: int = 0
    pending: int = 0
    numbers: set[str] = field(default_factory=set)

    @property
    def difference(self) -> int:
        return self.ledger - self.documents - self.not_on_documents - self.pending

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "ledger": self.ledger,
            "documents": self.documents,
            "not_on_documents": self.not_on_documents,
            "pending": self.pending,
            "difference": self.difference,
            "numbers": sorted(self.numbers),
        }


@dataclass(frozen=True)
class DocumentsSide:
    currency: str
    period: Period
    checks: dict[str, Check]

    @property
    def differences(self) -> dict[str, int]:
        """The rows that do not reconcile, with their difference (empty when everything does)."""
        return {k: c.difference for k, c in self.checks.items() if c.difference}

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "checks": [self.checks[k].as_dict() for k in CHECKS],
            "reconciled": not self.differences,
        }


def _month(entry: LedgerEntry) -> str:
    return entry.created_at[:7]


def reconcile(
    currency: str,
    period: Period,
    entries: Iterable[LedgerEntry],
    documents: Iterable[Document],
    payments: Iterable[Payment],
    billed_months: Iterable[str],
) -> DocumentsSide:
    """The documents side of ``period``. ``entries``: the account's ledger up to the period's end at least (any
    order; the attribution replays the placed ones by ``seq``); ``documents``: those issued for the account;
    ``payments``: those recorded on its credit invoices; ``billed_months``: ``YYYY-MM`` whose monthly run completed."""
    everything = list(entries)
    placed = sorted((e for e in everything if e.seq is not None), key=lambda e: e.seq or 0)
    by_id = {e.entry_id: e for e in everything}
    billed = set(billed_months)
    docs = list(documents)
    by_number = {d.number: d for d in docs}
    attr = attribute(placed)
    draw_of_cancellation = {c: d for d, c in attr.cancelled_by.items()}
    in_period = [e for e in everything if period.contains(e)]
    ids = {e.entry_id for e in in_period}
    checks = {k: Check(k) for k in CHECKS}

    def same_month_cancelled(draw: str) -> bool:
        c = attr.cancelled_by.get(draw)
        return c is not None and _month(by_id[c]) == _month(by_id[draw])

    def corrected_kind(note: Document) -> Kind | None:
        corrected = by_number.get(note.corrects or "")
        return corrected.kind if corrected else None

    # --- the ledger side, and what is pending or on no document by design
    for e in in_period:
        unplaced = e.seq is None
        if e.type in DEPOSITS:
            c = checks["deposits"]
            c.ledger += e.amount
            if unplaced:
                c.pending += e.amount
                continue
            for r in attr.repayments:
                if r.top_up != e.entry_id or r.owed not in attr.portions:
                    continue  # repaying a reversal's shortfall is prepayment again: on the tax document
                owed = by_id[r.owed]
                if same_month_cancelled(r.owed):
                    c.not_on_documents += r.amount
                elif _month(owed) not in billed:
                    c.pending += r.amount
        elif e.type == EntryType.DEPOSIT_REVERSAL:
            c = checks["reversals"]
            c.ledger -= e.amount
            if unplaced:
                c.pending -= e.amount
                continue
            deposit = next(
                (
                    x
                    for x in placed
                    if x.type in DEPOSITS and x.reference.get("deposit_id") == e.reference.get("deposit_id")
                ),
                None,
            )
            tax_doc = next(
                (d for d in docs if d.kind == Kind.TAX_DOCUMENT and deposit and deposit.entry_id in d.movements), None
            )
            c.not_on_documents += -e.amount - min(-e.amount, tax_doc.totals.gross if tax_doc else 0)
        elif e.type in DRAWS:
            c = checks["draws"]
            c.ledger -= e.amount
            if unplaced or _month(e) not in billed:
                c.pending -= e.amount
            elif same_month_cancelled(e.entry_id):
                c.not_on_documents -= e.amount
        elif e.type in REFUNDS and e.amount > 0:
            c = checks["refunds"]
            c.ledger += e.amount
            draw = draw_of_cancellation.get(e.entry_id)
            if unplaced or _month(e) not in billed or (draw is not None and _month(by_id[draw]) not in billed):
                c.pending += e.amount
            elif draw is not None and _month(by_id[draw]) == _month(e):
                c.not_on_documents += e.amount
        elif e.type in CARD_ORDERS:
            c = checks["card_orders"]
            amount = _paid_elsewhere(e)
            c.ledger += amount
            if unplaced:
                c.pending += amount
        elif e.type in REFUNDS and e.amount == 0:
            c = checks["card_refunds"]
            amount = _paid_elsewhere(e)
            c.ledger += amount
            if unplaced:
                c.pending += amount

    # --- the documents side
    deposits = {e.entry_id for e in in_period if e.type in DEPOSITS}
    draws = {e.entry_id for e in in_period if e.type in DRAWS}
    for d in docs:
        if d.kind == Kind.TAX_DOCUMENT and deposits & set(d.movements):
            checks["deposits"].documents += d.totals.gross
            checks["deposits"].numbers.add(d.number)
        elif d.kind in (Kind.STATEMENT, Kind.CREDIT_INVOICE):
            part = sum(line.gross for line in d.lines if line.entry_id in draws)
            if part:
                checks["draws"].documents += part
                checks["draws"].numbers.add(d.number)
        elif d.kind == Kind.CARD_INVOICE and ids & set(d.movements):
            checks["card_orders"].documents += d.totals.gross
            checks["card_orders"].numbers.add(d.number)
        elif d.kind == Kind.CREDIT_NOTE and ids & set(d.movements):
            kind = corrected_kind(d)
            row = (
                {
                    Kind.TAX_DOCUMENT: "reversals",
                    Kind.STATEMENT: "refunds",
                    Kind.CREDIT_INVOICE: "refunds",
                    Kind.CARD_INVOICE: "card_refunds",
                }.get(kind)
                if kind
                else None
            )
            if row is not None:
                checks[row].documents += d.totals.gross
                checks[row].numbers.add(d.number)
    for p in payments:
        if p.entry_id in deposits:
            checks["deposits"].documents += p.amount
            checks["deposits"].numbers.add(p.number)
    return DocumentsSide(currency, period, checks)


def _paid_elsewhere(entry: LedgerEntry) -> int:
    """What a card or gift-card order (or its refund) moved outside the balance: the reference's amount."""
    raw = entry.reference.get("card_amount") or entry.reference.get("gift_card_amount") or "0"
    return int(raw)
