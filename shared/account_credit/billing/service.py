"""When each document is issued, and for what (docs/BILLING.md).

* A ledger entry placed by the sequencer (``on_entry_placed``, fed by the table's stream): a deposit gets its tax
  document (386) for the part that is a prepayment, and the part that repaid credit is recorded as a payment of
  the credit invoices it pays; an order paid by card gets its invoice; a deposit reversal and a card order's
  cancellation get a credit note against the document they undo.
* The monthly run (``run_month``, EventBridge on the 1st, or on demand): per top-up that paid for something in the
  month a statement, a credit invoice for what no top-up covered, and credit notes for cancellations of orders a
  document of an earlier month listed.
* The daily overdue scan (``overdue_scan``): credit invoices past their due date, once each.

Every document is issued once per *purpose* (``billing/issuing.py``), so reruns, redeliveries and crashes halfway
issue nothing twice and, run again, miss nothing. Everything is derived from the placed ledger
(``billing/attribution.py``) and the orders; nothing here moves money.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from account_credit.billing import builders
from account_credit.billing.attribution import DEPOSITS, DRAWS, Attribution, attribute
from account_credit.billing.builders import Context, month_bounds
from account_credit.billing.document import Document, Line
from account_credit.billing.issuing import issue, issued_for
from account_credit.billing.parties import buyer_party, seller_party, treatment_of
from account_credit.billing.tax import Treatment
from account_credit.kernel.domain import Account, EntryType, LedgerEntry
from account_credit.kernel.errors import DomainError, InvalidInput, NotFound, ServiceUnavailable
from account_credit.kernel.ids import iso, utc_now
from account_credit.platform.config import seller
from account_credit.platform.events import DomainEvent, EventType, announce_once
from account_credit.platform.store import Store, keys


class NotReady(ServiceUnavailable):
    """Entries the run depends on are not placed by the sequencer yet: try again shortly (nothing was issued)."""


# --------------------------------------------------------------------------- reading the ledger


def ledger(store: Store, account_id: str) -> list[LedgerEntry]:
    """Every entry of the account, in commit order (placed entries by ``seq``; unplaced ones last)."""
    out: list[LedgerEntry] = []
    cursor = None
    while True:
        page = store.list_entries(account_id, since=None, until=None, entry_type=None, cursor=cursor, limit=500)
        out.extend(page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return sorted(out, key=lambda e: (e.seq is None, e.seq or 0, e.created_at))


def register(store: Store, account_id: str) -> None:
    """Put the account in the billing registry the monthly run walks (once; idempotent)."""
    store.put_if_absent(
        keys.billing_registration(account_id),
        {"kind": "billing", "account_id": account_id, "gsi1pk": keys.BILLING_INDEX_PK, "gsi1sk": account_id},
    )


def context(account: Account, today: date) -> Context:
    cfg = seller()
    language = account.language if account.language in cfg.languages else cfg.languages[0]
    return Context(
        account_id=account.account_id,
        currency=account.currency,
        language=language,
        seller=seller_party(cfg),
        buyer=buyer_party(account),
        treatment=treatment_of(account, cfg),
        issue_date=today.isoformat(),
        payment_reference=account.payment_reference,
        due_days=cfg.invoice_due_days,
    )


def _account(store: Store, account_id: str) -> Account:
    account = store.get_account(account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    return account


def _order(store: Store, account_id: str, order_id: str | None) -> dict[str, Any] | None:
    return store.get_item(*keys.order(account_id, order_id)) if order_id else None


def _entry_dict(e: LedgerEntry) -> dict[str, Any]:
    return {
        "entry_id": e.entry_id,
        "created_at": e.created_at,
        "description": e.description,
        "deposit_id": e.reference.get("deposit_id"),
    }


def _covers(entries: list[LedgerEntry], doc: Document) -> list[tuple[str, str]]:
    by_id = {e.entry_id: e for e in entries}
    return [(by_id[x].created_at, x) for x in doc.movements if x in by_id]


# --------------------------------------------------------------------------- per entry (the stream)


# What each kind of placed entry calls for; any other entry only registers its account for the monthly run.
_PER_ENTRY = (
    *DEPOSITS,
    EntryType.ORDER_CARD,
    EntryType.ORDER_GIFT_CARD,
    EntryType.DEPOSIT_REVERSAL,
    EntryType.ORDER_CANCELLATION,
    EntryType.ORDER_REFUND,
)
_registered: set[str] = set()  # accounts this process registered already (the registry item is idempotent anyway)


def on_entry_placed(
    store: Store, account_id: str, entry_id: str, entry_type: str | None = None, today: date | None = None
) -> list[str]:
    """Issue what a newly placed entry calls for; the numbers issued (or found issued before).

    ``entry_type`` (from the stream image) spares the reads for the entries that call for nothing. Only a deposit
    replays the ledger (its tax document covers what it did not repay of credit); the others need only the entry."""
    if account_id not in _registered:
        register(store, account_id)
        _registered.add(account_id)
    if entry_type is not None and entry_type not in _PER_ENTRY:
        return []
    entries = ledger(store, account_id)
    entry = next((e for e in entries if e.entry_id == entry_id), None)
    if entry is None:
        raise NotFound(f"entry {entry_id} of account {account_id} not found")
    if entry.seq is None:
        raise NotReady(f"entry {entry_id} is not placed yet")
    if entry.type not in _PER_ENTRY:
        return []
    account = _account(store, account_id)
    ctx = context(account, today or date.fromisoformat(entry.created_at[:10]))
    if entry.type in DEPOSITS:
        attr = attribute(e for e in entries if e.seq is not None and e.seq <= (entry.seq or 0))
        return _deposit(store, ctx, entries, entry, attr)
    if entry.type in (EntryType.ORDER_CARD, EntryType.ORDER_GIFT_CARD):
        return _card_order(store, ctx, entries, entry)
    if entry.type == EntryType.DEPOSIT_REVERSAL:
        return _reversal(store, ctx, entries, entry)
    if entry.type == EntryType.ORDER_REFUND:
        if entry.amount == 0:
            return _card_refund(store, ctx, entries, entry)
        placed = [e for e in entries if e.seq is not None and e.seq <= (entry.seq or 0)]
        return [doc.number for doc, _ in _refund_notes(store, ctx, placed, attribute(placed), entry)]
    return _card_cancellation(store, ctx, entries, entry)


def _deposit(
    store: Store, ctx: Context, entries: list[LedgerEntry], entry: LedgerEntry, attr: Attribution
) -> list[str]:
    out = []
    prepayment = attr.tax_base.get(entry.entry_id, 0)
    if prepayment > 0:
        draft = builders.tax_document(ctx, _entry_dict(entry), prepayment, card=entry.type == EntryType.DEPOSIT_CARD)
        doc, _ = issue(store, draft, f"tax_document#{entry.entry_id}", entries=_covers(entries, draft))
        out.append(doc.number)
    # What it repaid of credit: a payment of the credit invoices that list those draws (once issued).
    paid: dict[str, int] = defaultdict(int)
    for r in attr.repayments:
        if r.top_up == entry.entry_id:
            owed = next((e for e in entries if e.entry_id == r.owed), None)
            for number in owed.documents if owed else ():
                if number.startswith("CI-"):
                    paid[number] += r.amount
    for number, amount in paid.items():
        record_payment(store, ctx.account_id, number, entry, amount)
    return out


def record_payment(store: Store, account_id: str, number: str, top_up: LedgerEntry, amount: int) -> None:
    """Record ``amount`` of ``top_up`` as paid on credit invoice ``number`` (once); when that pays it in full,
    it leaves the open invoices and ``invoice.paid`` is emitted (once)."""
    invoice = issued_doc(store, account_id, number)
    if top_up.entry_id in invoice.movements:  # counted as paid when the invoice was issued
        return
    _payment_record(store, invoice, top_up, amount)
    if paid_amount(store, invoice) >= invoice.totals.gross:
        store.delete_record(*keys.open_invoice(account_id, number))
        announce_once(
            store,
            keys.document_purpose(account_id, f"paid#{number}"),
            {"kind": "document_purpose", "number": number},
            DomainEvent(
                account_id=account_id,
                type=EventType.INVOICE_PAID,
                payload={"number": number, "currency": invoice.currency, "gross": invoice.totals.gross},
            ),
        )


def _payment_record(store: Store, invoice: Document, top_up: LedgerEntry, amount: int) -> None:
    store.put_if_absent(
        keys.document_payment(invoice.account_id, invoice.number, top_up.entry_id),
        {
            "kind": "document_payment",
            "number": invoice.number,
            "entry_id": top_up.entry_id,
            "amount": amount,
            "received_at": top_up.created_at,
        },
    )


def payments(store: Store, invoice: Document) -> list[dict[str, Any]]:
    """Every payment recorded on an invoice (those it was issued with included)."""
    return store.query_prefix(*keys.document_payments_prefix(invoice.account_id, invoice.number), limit=1000)


def paid_amount(store: Store, invoice: Document) -> int:
    """What was paid of an invoice: the payments it was issued with and every one recorded since."""
    return sum(int(r["amount"]) for r in payments(store, invoice))


def issued_doc(store: Store, account_id: str, number: str) -> Document:
    item = store.get_item(*keys.document(account_id, number))
    if item is None:
        raise NotFound(f"document {number} not found")
    return Document.from_dict(item)


def _card_order(store: Store, ctx: Context, entries: list[LedgerEntry], entry: LedgerEntry) -> list[str]:
    order_id = entry.reference.get("order_id")
    order = _order(store, ctx.account_id, order_id)
    if order is None:
        raise NotReady(f"order {order_id} not found yet")
    draft = builders.card_invoice(ctx, order, _entry_dict(entry), gift_card=entry.type == EntryType.ORDER_GIFT_CARD)
    doc, _ = issue(store, draft, f"card_invoice#{order_id}", entries=_covers(entries, draft))
    return [doc.number]


def _reversal(store: Store, ctx: Context, entries: list[LedgerEntry], entry: LedgerEntry) -> list[str]:
    deposit = next(
        (
            e
            for e in entries
            if e.type in DEPOSITS and e.reference.get("deposit_id") == entry.reference.get("deposit_id")
        ),
        None,
    )
    tax_doc = issued_for(store, ctx.account_id, f"tax_document#{deposit.entry_id}") if deposit else None
    if tax_doc is None:  # the deposit only repaid credit: no tax document to correct
        return []
    lines = builders.portion_of(tax_doc, -entry.amount, entry.entry_id, "Payment returned")
    draft = builders.credit_note(ctx, tax_doc, lines, entry.description or "payment returned", entry.entry_id)
    doc, _ = issue(store, draft, f"credit_note#{entry.entry_id}#{tax_doc.number}", entries=_covers(entries, draft))
    return [doc.number]


def _card_cancellation(store: Store, ctx: Context, entries: list[LedgerEntry], entry: LedgerEntry) -> list[str]:
    if entry.amount != 0:  # balance and credit orders: the monthly run
        return []
    invoice = issued_for(store, ctx.account_id, f"card_invoice#{entry.reference.get('order_id')}")
    if invoice is None:
        return []
    lines = builders.portion_of(invoice, invoice.totals.gross, entry.entry_id, "Refunded")
    draft = builders.credit_note(ctx, invoice, lines, entry.description or "order cancelled", entry.entry_id)
    doc, _ = issue(store, draft, f"credit_note#{entry.entry_id}#{invoice.number}", entries=_covers(entries, draft))
    return [doc.number]


def _card_refund(store: Store, ctx: Context, entries: list[LedgerEntry], entry: LedgerEntry) -> list[str]:
    """A credit note against the invoice of a card or gift-card order for the certificates one refund gave back."""
    order_id = entry.reference.get("order_id")
    invoice = issued_for(store, ctx.account_id, f"card_invoice#{order_id}")
    order = _order(store, ctx.account_id, order_id)
    if invoice is None or order is None:
        raise NotReady(f"the invoice of order {order_id} is not issued yet")
    number = int(entry.reference.get("refund") or 0)
    lines = builders.refund_lines(order, number, int(_refund_of(order, number)["amount"]), entry.entry_id)
    draft = builders.credit_note(ctx, invoice, lines, _refund_reason(order_id, number), entry.entry_id)
    doc, _ = issue(store, draft, f"credit_note#{entry.entry_id}#{invoice.number}", entries=_covers(entries, draft))
    return [doc.number]


def _refund_of(order: dict[str, Any], number: int) -> dict[str, Any]:
    return next(r for r in order.get("refunds") or [] if int(r["number"]) == number)


def _refund_reason(order_id: str | None, number: int) -> str:
    return f"refund {number} of order {order_id}"


def _refund_notes(
    store: Store, ctx: Context, placed: list[LedgerEntry], attr: Attribution, r: LedgerEntry
) -> list[tuple[Document, bool]]:
    """Credit notes for a refund of a balance or credit order: against each statement (per top-up) and credit
    invoice that listed the order, for what the refund took back of it. A document not issued yet (its month is not
    billed) gets its credit note from that month's run, after the document itself."""
    order_id = r.reference.get("order_id")
    draw_id = attr.order_draw.get(order_id or "")
    order = _order(store, ctx.account_id, order_id)
    if draw_id is None or order is None:
        return []
    d = next(e for e in placed if e.entry_id == draw_id)
    back: dict[str | None, int] = defaultdict(int)
    for portion in attr.taken_back.get(r.entry_id, []):
        back[portion.source] += portion.amount
    number = int(r.reference.get("refund") or 0)
    treatment = builders.order_treatment(order, ctx.treatment)
    out = []
    for source, amount in back.items():
        purpose = (
            f"statement#{d.created_at[:7]}#{source}#{treatment.category}"
            if source
            else f"credit_invoice#{d.created_at[:7]}#{treatment.category}"
        )
        corrected = issued_for(store, ctx.account_id, purpose)
        if corrected is None:
            continue
        lines = builders.refund_lines(order, number, amount, r.entry_id)
        draft = builders.credit_note(ctx, corrected, lines, _refund_reason(order_id, number), r.entry_id)
        out.append(issue(store, draft, f"credit_note#{r.entry_id}#{corrected.number}", entries=_covers(placed, draft)))
    return out


# --------------------------------------------------------------------------- the monthly run


@dataclass
class MonthResult:
    account_id: str
    month: str
    issued: list[str] = field(default_factory=list)  # numbers issued by this run
    existing: list[str] = field(default_factory=list)  # numbers an earlier run had issued

    def as_dict(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "month": self.month, "issued": self.issued, "existing": self.existing}


def parse_month(month: str) -> str:
    try:
        date.fromisoformat(f"{month}-01")
    except ValueError:
        raise InvalidInput(f"month must be YYYY-MM, not {month!r}", field="month") from None
    if len(month) != 7:
        raise InvalidInput(f"month must be YYYY-MM, not {month!r}", field="month")
    return month


def previous_month(today: date) -> str:
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def run_month(store: Store, account_id: str, month: str, today: date) -> MonthResult:
    """Issue the account's statements, credit invoice and credit notes for ``month`` (once; reruns complete)."""
    start, end = month_bounds(parse_month(month))
    if today.isoformat() <= end:
        raise InvalidInput(f"{month} is not over yet", field="month")
    account = _account(store, account_id)
    register(store, account_id)
    entries = ledger(store, account_id)
    if any(e.seq is None and e.created_at[:10] <= end for e in entries):
        raise NotReady(f"entries of {month} are still being placed; run again shortly")
    placed = [e for e in entries if e.seq is not None]
    attr = attribute(placed)
    by_id = {e.entry_id: e for e in placed}

    def in_month(e: LedgerEntry) -> bool:
        return start <= e.created_at[:10] <= end

    ctx = context(account, today)
    result = MonthResult(account_id, month)

    def issued(doc: Document, fresh: bool) -> None:
        (result.issued if fresh else result.existing).append(doc.number)

    same_month = {d for d, c in attr.cancelled_by.items() if in_month(by_id[c]) and in_month(by_id[d])}
    groups: dict[tuple[str | None, Treatment], list[Line]] = defaultdict(list)
    for d in placed:
        if d.type not in DRAWS or not in_month(d) or d.entry_id in same_month:
            continue
        order = _order(store, account_id, d.reference.get("order_id"))
        for portion in attr.portions.get(d.entry_id, []):
            treatment, lines = builders.draw_lines(_entry_dict(d), portion.amount, order, ctx.treatment)
            groups[(portion.source, treatment)].extend(lines)
    order_of_sources = list(attr.sources)
    for (source, treatment), lines in sorted(
        groups.items(), key=lambda kv: (kv[0][0] is None, order_of_sources.index(kv[0][0]) if kv[0][0] else 0)
    ):
        if source is not None:
            src = attr.sources[source]
            tax_doc = issued_for(store, account_id, f"tax_document#{source}")
            draft = builders.statement(
                ctx,
                month,
                {"entry_id": source, "deposit_id": src.deposit_id},
                treatment,
                lines,
                tax_doc.number if tax_doc else None,
            )
            issued(
                *issue(store, draft, f"statement#{month}#{source}#{treatment.category}", entries=_covers(placed, draft))
            )
            continue
        draws = {x.entry_id for x in lines}
        repayments = [r for r in attr.repayments if r.owed in draws]
        gross = sum(x.gross for x in lines)
        repaid = min(gross, sum(r.amount for r in repayments))
        draft = builders.credit_invoice(ctx, month, treatment, lines, repaid, [r.top_up for r in repayments])
        doc, fresh = issue(store, draft, f"credit_invoice#{month}#{treatment.category}", entries=_covers(placed, draft))
        issued(doc, fresh)
        by_top_up: dict[str, int] = defaultdict(int)
        for r in repayments:
            by_top_up[r.top_up] += r.amount
        for top_up, amount in by_top_up.items():  # the payments it was issued with, one record each
            _payment_record(store, doc, by_id[top_up], amount)
        if paid_amount(store, doc) < doc.totals.gross:
            _open(store, doc)
    for c in placed:
        if c.type == EntryType.ORDER_CANCELLATION and in_month(c) and c.amount > 0:
            for doc, fresh in _cancellation_notes(store, ctx, placed, attr, c, same_month):
                issued(doc, fresh)
        if c.type == EntryType.ORDER_REFUND and in_month(c) and c.amount > 0:
            for doc, fresh in _refund_notes(store, ctx, placed, attr, c):
                issued(doc, fresh)
    store.put_if_absent(
        keys.billing_run(account_id, month),
        {"kind": "billing_run", "month": month, "completed_at": iso(utc_now()), "issued": result.issued},
    )
    return result


def _open(store: Store, doc: Document) -> None:
    store.put_if_absent(
        keys.open_invoice(doc.account_id, doc.number),
        {
            "kind": "open_invoice",
            "account_id": doc.account_id,
            "number": doc.number,
            "due_date": doc.due_date,
            "gsi1pk": keys.OPEN_INVOICES_PK,
            "gsi1sk": f"{doc.due_date}#{doc.account_id}#{doc.number}",
        },
    )


def _cancellation_notes(
    store: Store, ctx: Context, placed: list[LedgerEntry], attr: Attribution, c: LedgerEntry, same_month: set[str]
) -> list[tuple[Document, bool]]:
    """Credit notes for an order cancelled in a later month than it was drawn: against the statement (per top-up)
    and the credit invoice that listed it, for what went back to each."""
    draw = next((d for d, by in attr.cancelled_by.items() if by == c.entry_id), None)
    if draw is None or draw in same_month:
        return []
    d = next(e for e in placed if e.entry_id == draw)
    order = _order(store, ctx.account_id, d.reference.get("order_id"))
    draw_month = d.created_at[:7]
    back: dict[str | None, int] = defaultdict(int)  # what each document listed of the order: all of it goes back
    for portion in attr.portions.get(draw, []):
        back[portion.source] += portion.amount
    out = []
    for source, amount in back.items():
        treatment, lines = builders.draw_lines(_entry_dict(d), amount, order, ctx.treatment)
        purpose = (
            f"statement#{draw_month}#{source}#{treatment.category}"
            if source
            else f"credit_invoice#{draw_month}#{treatment.category}"
        )
        corrected = issued_for(store, ctx.account_id, purpose)
        if corrected is None:  # its month was never run: the draw and its return are both on no document
            continue
        reason = f"order {d.reference.get('order_id')} cancelled"
        draft = builders.credit_note(ctx, corrected, lines, reason, c.entry_id)
        out.append(issue(store, draft, f"credit_note#{c.entry_id}#{corrected.number}", entries=_covers(placed, draft)))
    return out


def run_all(store: Store, month: str, today: date) -> dict[str, Any]:
    """The monthly run for every registered account that has not completed ``month`` (the daily run calls it
    again, so an account that was not ready, or a run that stopped halfway, is completed the next day)."""
    done, waiting, failed = 0, [], []
    for account_id in registered(store):
        if store.get_item(*keys.billing_run(account_id, month)) is not None:
            continue
        try:
            run_month(store, account_id, month, today)
            done += 1
        except NotReady:
            waiting.append(account_id)
        except DomainError:
            failed.append(account_id)
    return {"month": month, "accounts": done, "not_ready": waiting, "failed": failed}


def registered(store: Store) -> Iterator[str]:
    """Every account in the billing registry (the sparse index ``BILLING``), page by page."""
    cursor = None
    while True:
        rows, cursor = store.index_page(keys.BILLING_INDEX_PK, cursor=cursor, limit=100)
        yield from (str(row["account_id"]) for row in rows)
        if cursor is None:
            return


# --------------------------------------------------------------------------- overdue invoices


def overdue_scan(store: Store, today: date) -> dict[str, Any]:
    """``invoice.overdue`` once for every credit invoice past its due date and not paid."""
    announced = 0
    cursor = None
    yesterday = (today - timedelta(days=1)).isoformat()
    while True:
        rows, cursor = store.index_page(keys.OPEN_INVOICES_PK, until=f"{yesterday}#~", cursor=cursor, limit=100)
        for row in rows:
            invoice = issued_doc(store, row["account_id"], row["number"])
            due = invoice.totals.gross - paid_amount(store, invoice)
            if due <= 0:
                store.delete_record(*keys.open_invoice(invoice.account_id, invoice.number))
                continue
            announced += announce_once(
                store,
                keys.document_purpose(invoice.account_id, f"overdue#{invoice.number}"),
                {"kind": "document_purpose", "number": invoice.number},
                DomainEvent(
                    account_id=invoice.account_id,
                    type=EventType.INVOICE_OVERDUE,
                    payload={
                        "number": invoice.number,
                        "currency": invoice.currency,
                        "due": due,
                        "due_date": invoice.due_date,
                        "payment_reference": invoice.payment_reference,
                    },
                ),
            )
        if cursor is None:
            break
    return {"overdue_announced": announced}
