"""The reconciliation's checks: pure functions over plain data, each returning the findings it makes.

A finding is a mismatch an operator looks at; nothing here (or in the service) ever changes money. An empty list
means the account (or the series) is consistent. What each check covers is in docs/RECONCILIATION.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from account_credit.billing.attribution import DEPOSITS, DRAWS, TOP_UPS, attribute
from account_credit.kernel.domain import EntryType, LedgerEntry

BALANCE = "balance"
HOLDS = "holds"
DOCUMENTS = "documents"
ATTRIBUTION = "attribution"
SERIES = "series"
PAYMENTS = "payments"
CREDIT_NOTES = "credit_notes"

CARD_ORDERS = frozenset({EntryType.ORDER_CARD, EntryType.ORDER_GIFT_CARD})
# The entry types the attribution replays (everything the product posts); any other type is outside it.
ATTRIBUTED = (
    TOP_UPS | DRAWS | CARD_ORDERS | {EntryType.ORDER_CANCELLATION, EntryType.ORDER_REFUND, EntryType.DEPOSIT_REVERSAL}
)
NUMBER = re.compile(r"^([A-Z]+)-(\d{4})-(\d+)$")


@dataclass(frozen=True)
class Finding:
    check: str  # balance / holds / documents / attribution / series / payments / credit_notes
    subject: str  # the account id, or the series and year (``TD-2026``)
    detail: str  # what does not add up, in words
    refs: tuple[str, ...] = ()  # entry ids, document numbers... it concerns

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "subject": self.subject, "detail": self.detail, "refs": list(self.refs)}


@dataclass(frozen=True)
class AccountState:
    """What the checks need of an account item."""

    account_id: str
    balance: int
    held: int
    seq: int


@dataclass(frozen=True)
class DocumentFacts:
    """What the document check needs besides the ledger."""

    tax_document_expected: frozenset[str] = frozenset()  # deposit entry ids the attribution gives a prepayment part
    billed_months: frozenset[str] = frozenset()  # YYYY-MM whose monthly billing run completed
    same_month_cancelled: frozenset[str] = frozenset()  # draws cancelled within their month (on no document)
    documents: Mapping[str, Sequence[str]] = field(default_factory=dict)  # issued number -> the entry ids it covers


def ledger_balance(account: AccountState, entries: Sequence[LedgerEntry]) -> list[Finding]:
    """balance = the sum of the entries; the placed entries are numbered 1..n with no gap or repeat, each
    ``balance_after`` is the running sum, and once every entry is placed the last one's equals the balance."""
    out: list[Finding] = []
    total = sum(e.amount for e in entries)
    if total != account.balance:
        out.append(Finding(BALANCE, account.account_id, f"balance {account.balance} != sum of entries {total}"))
    if len(entries) != account.seq:
        out.append(Finding(BALANCE, account.account_id, f"{len(entries)} entries, the account counts {account.seq}"))
    placed = sorted((e for e in entries if e.seq is not None), key=lambda e: e.seq or 0)
    if [e.seq for e in placed] != list(range(1, len(placed) + 1)):
        out.append(
            Finding(BALANCE, account.account_id, "entry numbers (seq) are not 1..n", tuple(e.entry_id for e in placed))
        )
        return out
    running = 0
    for e in placed:
        running += e.amount
        if e.balance_after != running:
            out.append(
                Finding(
                    BALANCE,
                    account.account_id,
                    f"entry {e.seq}: balance_after {e.balance_after} != running sum {running}",
                    (e.entry_id,),
                )
            )
            break
    if placed and len(placed) == len(entries) and placed[-1].balance_after != account.balance:
        out.append(
            Finding(
                BALANCE,
                account.account_id,
                f"last balance_after {placed[-1].balance_after} != balance {account.balance}",
                (placed[-1].entry_id,),
            )
        )
    return out


def holds(account: AccountState, active: Iterable[tuple[str, int]]) -> list[Finding]:
    """held >= 0 and held = the sum of the active holds (``(hold id, amount)``)."""
    active = list(active)
    out = []
    if account.held < 0:
        out.append(Finding(HOLDS, account.account_id, f"held {account.held} is negative"))
    total = sum(amount for _, amount in active)
    if total != account.held:
        out.append(
            Finding(
                HOLDS,
                account.account_id,
                f"held {account.held} != sum of active holds {total}",
                tuple(h for h, _ in active),
            )
        )
    return out


def attribution(account: AccountState, entries: Sequence[LedgerEntry]) -> list[Finding]:
    """Replaying the placed ledger, the top-ups' money left minus what is owed equals what those entries add up to
    (the balance, when every entry is placed and of a type the attribution knows)."""
    placed = sorted((e for e in entries if e.seq is not None), key=lambda e: e.seq or 0)
    expected = sum(e.amount for e in placed if e.type in ATTRIBUTED)
    got = attribute(placed).balance()
    if got != expected:
        return [
            Finding(
                ATTRIBUTION,
                account.account_id,
                f"sources left - owed = {got}, the attributed entries add up to {expected}",
            )
        ]
    return []


def documents(account_id: str, entries: Sequence[LedgerEntry], facts: DocumentFacts) -> list[Finding]:
    """Every entry is on the documents it should be:

    * a deposit with a prepayment part: a tax document (``TD-``);
    * an order paid by card or gift card: its invoice (``IN-``);
    * a draw (balance, credit, operator debit) of a month whose billing run completed, unless cancelled within
      that month: a statement or credit invoice (``ST-`` / ``CI-``);
    * and every entry an issued document covers carries that document's number (the link back).
    """
    out: list[Finding] = []

    def on(e: LedgerEntry, *prefixes: str) -> bool:
        return any(n.startswith(prefixes) for n in e.documents)

    for e in entries:
        missing = None
        if e.type in DEPOSITS and e.entry_id in facts.tax_document_expected and not on(e, "TD-"):
            missing = "tax document"
        elif e.type in CARD_ORDERS and not on(e, "IN-"):
            missing = "invoice"
        elif (
            e.type in DRAWS
            and e.created_at[:7] in facts.billed_months
            and e.entry_id not in facts.same_month_cancelled
            and not on(e, "ST-", "CI-")
        ):
            missing = f"statement or credit invoice of {e.created_at[:7]}"
        if missing:
            out.append(Finding(DOCUMENTS, account_id, f"{e.type} entry is on no {missing}", (e.entry_id,)))
    by_id = {e.entry_id: e for e in entries}
    for number, covered in sorted(facts.documents.items()):
        for entry_id in covered:
            entry = by_id.get(entry_id)
            if entry is not None and number not in entry.documents:
                out.append(
                    Finding(
                        DOCUMENTS,
                        account_id,
                        f"{number} covers the entry, the entry does not name it",
                        (entry_id, number),
                    )
                )
    return out


@dataclass(frozen=True)
class InvoicePayments:
    """What the payments check needs of one credit invoice."""

    number: str
    gross: int
    paid: int  # the sum of every payment recorded on it (those it was issued with included)
    open: bool  # in the open-invoices index
    settling: bool = False  # issued or paid too recently: the open-invoices index may not follow yet


def invoice_payments(account_id: str, invoices: Iterable[InvoicePayments]) -> list[Finding]:
    """The payments recorded on a credit invoice never add up to more than its gross; one paid in full is not in
    the open-invoices index, one not paid in full is (unless ``settling``: the index is written just after)."""
    out = []
    for inv in invoices:
        if inv.paid > inv.gross:
            out.append(
                Finding(PAYMENTS, account_id, f"{inv.number}: paid {inv.paid} > gross {inv.gross}", (inv.number,))
            )
        if inv.settling:
            continue
        if inv.paid >= inv.gross and inv.open:
            out.append(Finding(PAYMENTS, account_id, f"{inv.number} is paid in full but listed as open", (inv.number,)))
        elif inv.paid < inv.gross and not inv.open:
            out.append(
                Finding(
                    PAYMENTS,
                    account_id,
                    f"{inv.number}: {inv.gross - inv.paid} still due but not listed as open",
                    (inv.number,),
                )
            )
    return out


@dataclass(frozen=True)
class DocumentSummary:
    """What the credit-note check needs of any issued document."""

    number: str
    account_id: str
    currency: str
    gross: int
    corrects: str | None = None  # a credit note: the number of the document it corrects


def credit_notes(
    account_id: str, documents: Mapping[str, DocumentSummary], notes: Iterable[DocumentSummary]
) -> list[Finding]:
    """Each credit note (``notes``) corrects a document of ``documents`` (the account's, by number) of the same
    account and currency, and the credit notes against one document never add up to more than its gross. Generic
    over documents: whatever a note was issued for (a cancellation, a reversal, a refund), it gives back at most
    what the document it corrects charged."""
    out: list[Finding] = []
    against: dict[str, list[DocumentSummary]] = {}
    for note in notes:
        if not note.corrects:
            out.append(
                Finding(CREDIT_NOTES, account_id, f"{note.number} names no document it corrects", (note.number,))
            )
            continue
        target = documents.get(note.corrects)
        if target is None:
            out.append(
                Finding(
                    CREDIT_NOTES,
                    account_id,
                    f"{note.number} corrects {note.corrects}, which is not a document of the account",
                    (note.number, note.corrects),
                )
            )
            continue
        if target.account_id != note.account_id or target.currency != note.currency:
            out.append(
                Finding(
                    CREDIT_NOTES,
                    account_id,
                    f"{note.number} ({note.account_id}, {note.currency}) corrects {target.number} of "
                    f"{target.account_id}, {target.currency}",
                    (note.number, target.number),
                )
            )
            continue
        against.setdefault(target.number, []).append(note)
    for number, group in sorted(against.items()):
        total = sum(n.gross for n in group)
        if total > documents[number].gross:
            out.append(
                Finding(
                    CREDIT_NOTES,
                    account_id,
                    f"credit notes against {number} add up to {total} > its gross {documents[number].gross}",
                    (number, *sorted(n.number for n in group)),
                )
            )
    return out


def series_of(number: str) -> tuple[str, int] | None:
    """(series, year) of a document number (``TD-2026-000012`` -> ("TD", 2026); proformas ``PF-`` -> "PROFORMA")."""
    m = NUMBER.match(number)
    if m is None:
        return None
    prefix = m.group(1)
    return ("PROFORMA" if prefix == "PF" else prefix), int(m.group(2))


def number_of(series: str, year: int, n: int) -> str:
    return f"{'PF' if series == 'PROFORMA' else series}-{year}-{n:06d}"


def series_gaps(series: str, year: int, counter: int | None, taken: Iterable[int]) -> list[Finding]:
    """Numbers 1..counter are all taken, and none beyond the counter is (``taken``: the numbers found, which the
    caller looked up for 1..counter + 1)."""
    subject = f"{series}-{year}"
    if counter is None:
        return [Finding(SERIES, subject, "numbers are in use but the series has no counter")]
    have = set(taken)
    missing = [n for n in range(1, counter + 1) if n not in have]
    out = []
    if missing:
        out.append(
            Finding(
                SERIES,
                subject,
                f"counter at {counter}, {len(missing)} number(s) missing",
                tuple(number_of(series, year, n) for n in missing[:50]),
            )
        )
    beyond = sorted(n for n in have if n > counter)
    if beyond:
        out.append(
            Finding(
                SERIES,
                subject,
                f"counter at {counter}, numbers beyond it are taken",
                tuple(number_of(series, year, n) for n in beyond),
            )
        )
    return out
