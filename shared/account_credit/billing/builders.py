"""Drafts of every document kind, from the ledger's attribution and the orders. Pure: no store, no clock.

A draft has no number yet (``billing/issuing.py`` gives it one). Amounts come from what was paid and debited: an
order's lines carry the net and VAT frozen on the order, and a part of an order drawn from one top-up takes its
share of them (``tax.share``; the parts of one order add up to it exactly, ``tax.allocate``).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from account_credit.billing.document import MEANS_CARD, MEANS_CLEARING, MEANS_TRANSFER, Document, Kind, Line, Party
from account_credit.billing.tax import Treatment, allocate, share, split_gross


@dataclass(frozen=True)
class Context:
    """Who and how: the same for every document of one account issued at one time."""

    account_id: str
    currency: str
    language: str
    seller: Party
    buyer: Party
    treatment: Treatment  # the account's treatment now (for what has no order: top-ups, operator debits)
    issue_date: str  # YYYY-MM-DD
    payment_reference: str | None = None
    due_days: int = 14


def month_bounds(month: str) -> tuple[str, str]:
    """("2026-11-01", "2026-11-30") of "2026-11"."""
    year, mon = int(month[:4]), int(month[5:7])
    return f"{month}-01", f"{month}-{calendar.monthrange(year, mon)[1]:02d}"


def _draft(ctx: Context, kind: Kind, treatment: Treatment, lines: list[Line], prepaid: int, **extra: Any) -> Document:
    return Document(
        number="",
        kind=kind,
        account_id=ctx.account_id,
        currency=ctx.currency,
        language=ctx.language,
        issue_date=ctx.issue_date,
        seller=ctx.seller,
        buyer=ctx.buyer,
        treatment=treatment,
        lines=tuple(lines),
        prepaid=prepaid,
        **extra,
    )


def _notes(treatment: Treatment, *more: str) -> tuple[str, ...]:
    return tuple(x for x in (treatment.exemption_reason, *more) if x)


def order_treatment(order: dict[str, Any] | None, fallback: Treatment) -> Treatment:
    raw = (order or {}).get("tax")
    return Treatment.from_dict(raw) if raw else fallback


def _gross(line: dict[str, Any]) -> int:
    return int(line.get("gross") or int(line["amount"]) + int(line.get("vat") or 0))


def _shares(
    order: dict[str, Any], picks: list[tuple[dict[str, Any], int, int, str]], part: int, entry_id: str | None
) -> list[Line]:
    """Lines for ``part`` of what ``picks`` are worth: each pick is (order line, its worth, quantity, description),
    ``part`` is spread over the worths (``tax.allocate``; all of it: exactly the worths), and each piece carries
    its share of the order line's net and VAT (``tax.share``)."""
    worths = [worth for _line, worth, _qty, _what in picks]
    parts = allocate(part, worths) if part != sum(worths) else worths
    day = str(order.get("created_at", ""))[:10] or None
    out = []
    for (line, worth, quantity, what), piece in zip(picks, parts, strict=True):
        if piece == 0:
            continue
        net, vat = share(piece, _gross(line), int(line["amount"]), int(line.get("vat") or 0))
        out.append(
            Line(
                description=what + ("" if piece == worth else " (part)"),
                quantity=quantity,
                net=net,
                vat=vat,
                product_code=line.get("product_code"),
                order_id=order["order_id"],
                order_date=day,
                entry_id=entry_id,
            )
        )
    return out


def order_lines(order: dict[str, Any], part: int, entry_id: str | None) -> list[Line]:
    """The order's lines for ``part`` of its gross total (all of it: exactly its lines)."""
    lines = order.get("lines") or []
    return _shares(order, [(x, _gross(x), int(x["quantity"]), str(x["name"])) for x in lines], part, entry_id)


def refund_lines(order: dict[str, Any], number: int, part: int, entry_id: str) -> list[Line]:
    """The lines of refund ``number`` of ``order`` for ``part`` of its gross (all of it: exactly its lines): each
    names the certificates refunded and carries its share of the order line's net and VAT."""
    refund = next(r for r in order.get("refunds") or [] if int(r["number"]) == number)
    picks = []
    for x in refund["lines"]:
        line = order["lines"][int(x["line"]) - 1]
        what = f"{line['name']}: {x['quantity']} of {line['quantity']} refunded"
        picks.append((line, int(x["amount"]), int(x["quantity"]), what))
    return _shares(order, picks, part, entry_id)


def draw_lines(
    draw: dict[str, Any], part: int, order: dict[str, Any] | None, fallback: Treatment
) -> tuple[Treatment, list[Line]]:
    """Lines for ``part`` of a draw (an order, or an operator's debit split by the account's treatment)."""
    if order is not None:
        return order_treatment(order, fallback), order_lines(order, part, draw["entry_id"])
    net, vat = split_gross(part, fallback)
    return fallback, [
        Line(
            description=draw.get("description") or "Debit",
            quantity=1,
            net=net,
            vat=vat,
            order_date=str(draw.get("created_at", ""))[:10] or None,
            entry_id=draw["entry_id"],
        )
    ]


def tax_document(ctx: Context, top_up: dict[str, Any], amount: int, card: bool) -> Document:
    """A tax document (386) for ``amount`` of a payment received: the prepayment, VAT broken out, already paid."""
    net, vat = split_gross(amount, ctx.treatment)
    what = "card payment" if card else "bank transfer"
    line = Line(
        description=f"Prepayment received ({what}, deposit {top_up.get('deposit_id') or top_up['entry_id']})",
        quantity=1,
        net=net,
        vat=vat,
        order_date=str(top_up["created_at"])[:10],
        entry_id=top_up["entry_id"],
    )
    return _draft(
        ctx,
        Kind.TAX_DOCUMENT,
        ctx.treatment,
        [line],
        prepaid=amount,
        means=MEANS_CARD if card else MEANS_TRANSFER,
        payment_reference=ctx.payment_reference,
        deposit_id=top_up.get("deposit_id"),
        movements=(top_up["entry_id"],),
        notes=_notes(ctx.treatment, "Paid in full: this document records a prepayment received."),
    )


def statement(
    ctx: Context, month: str, source: dict[str, Any], treatment: Treatment, lines: list[Line], source_number: str | None
) -> Document:
    """A top-up's statement for ``month`` (380): what it paid for, the prepayment deducted, nothing due."""
    start, end = month_bounds(month)
    gross = sum(x.gross for x in lines)
    paid_by = f"top-up {source.get('deposit_id') or source['entry_id']}" + (
        f" (tax document {source_number})" if source_number else ""
    )
    return _draft(
        ctx,
        Kind.STATEMENT,
        treatment,
        lines,
        prepaid=gross,
        period_start=start,
        period_end=end,
        means=MEANS_CLEARING,
        deposit_id=source.get("deposit_id"),
        movements=tuple(dict.fromkeys([source["entry_id"], *(x.entry_id for x in lines if x.entry_id)])),
        notes=_notes(treatment, f"Paid from the prepayment of {paid_by}; nothing is due."),
    )


def credit_invoice(
    ctx: Context, month: str, treatment: Treatment, lines: list[Line], repaid: int, repaid_by: Iterable[str]
) -> Document:
    """Draws no top-up covered in ``month`` (380): due by bank transfer quoting the account's reference, less
    what later top-ups already repaid (``repaid``)."""
    start, end = month_bounds(month)
    due = (date.fromisoformat(ctx.issue_date) + timedelta(days=ctx.due_days)).isoformat()
    return _draft(
        ctx,
        Kind.CREDIT_INVOICE,
        treatment,
        lines,
        prepaid=repaid,
        period_start=start,
        period_end=end,
        due_date=due,
        means=MEANS_TRANSFER,
        payment_reference=ctx.payment_reference,
        movements=tuple(dict.fromkeys([*(x.entry_id for x in lines if x.entry_id), *repaid_by])),
        notes=_notes(treatment, "Purchases on credit: pay by bank transfer quoting the payment reference."),
    )


def card_invoice(ctx: Context, order: dict[str, Any], entry: dict[str, Any], *, gift_card: bool = False) -> Document:
    """An order paid by card or gift card (380): its lines, paid."""
    treatment = order_treatment(order, ctx.treatment)
    lines = order_lines(order, int(order["total"]), entry["entry_id"])
    gross = sum(x.gross for x in lines)
    return _draft(
        ctx,
        Kind.CARD_INVOICE,
        treatment,
        lines,
        prepaid=gross,
        means=MEANS_CLEARING if gift_card else MEANS_CARD,
        movements=(entry["entry_id"],),
        notes=_notes(treatment, "Paid by gift card." if gift_card else "Paid by card."),
    )


def credit_note(ctx: Context, corrects: Document, lines: list[Line], reason: str, entry_id: str) -> Document:
    """A credit note (381) for ``lines`` of ``corrects``: money given back (nothing more is due)."""
    gross = sum(x.gross for x in lines)
    return _draft(
        ctx,
        Kind.CREDIT_NOTE,
        corrects.treatment,
        lines,
        prepaid=gross,
        means=MEANS_CLEARING,
        corrects=corrects.number,
        corrects_date=corrects.issue_date,
        deposit_id=corrects.deposit_id,
        movements=(entry_id,),
        notes=_notes(corrects.treatment, f"Corrects {corrects.number}: {reason}"),
    )


def payment_request(ctx: Context, number: str, deposit_id: str, amount: int, due_date: str, issued_at: str) -> Document:
    """A proforma (325): the top-up asked for, payable by bank transfer quoting the account's reference. Not a tax
    document: the tax document follows the payment (its VAT is shown here as it will be charged)."""
    net, vat = split_gross(amount, ctx.treatment)
    line = Line(description="Top-up of prepaid credit", quantity=1, net=net, vat=vat)
    return replace(
        _draft(
            ctx,
            Kind.PAYMENT_REQUEST,
            ctx.treatment,
            [line],
            prepaid=0,
            due_date=due_date,
            means=MEANS_TRANSFER,
            payment_reference=ctx.payment_reference,
            deposit_id=deposit_id,
            notes=_notes(ctx.treatment, "Not a tax document: the tax document is issued when the payment arrives."),
        ),
        number=number,
        issued_at=issued_at,
    )


def portion_of(doc: Document, amount: int, entry_id: str, description: str) -> list[Line]:
    """Lines for ``amount`` of ``doc``'s gross, in proportion to its lines (a reversal or a part given back)."""
    gross = [x.gross for x in doc.lines]
    parts = allocate(min(amount, sum(gross)), gross)
    out = []
    for line, piece in zip(doc.lines, parts, strict=True):
        if piece:
            net, vat = share(piece, line.gross, line.net, line.vat)
            out.append(
                Line(
                    description=f"{description}: {line.description}",
                    quantity=line.quantity,
                    net=net,
                    vat=vat,
                    product_code=line.product_code,
                    order_id=line.order_id,
                    order_date=line.order_date,
                    entry_id=entry_id,
                )
            )
    return out
