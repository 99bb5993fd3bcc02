"""The read side of billing documents: the list (kind and period filters, cursor paging) and one document with
its VAT breakdown, the movements it covers and the payments it received."""

from __future__ import annotations

from datetime import date
from typing import Any

from account_credit.billing.document import Document, Kind
from account_credit.billing.files import has_einvoice
from account_credit.billing.service import issued_doc, payments
from account_credit.kernel.errors import InvalidInput
from account_credit.platform.store import Store, keys
from account_credit.platform.store.codec import decode_cursor, encode_cursor


def status(store: Store, doc: Document, today: date) -> str:
    if doc.kind == Kind.PAYMENT_REQUEST:  # paid once its top-up is (the deposit's state)
        deposit = store.get_item(*keys.deposit(doc.account_id, doc.deposit_id or "")) or {}
        if deposit.get("state") not in ("pending", "partly_paid"):
            return "paid"
        return "overdue" if doc.due_date and doc.due_date < today.isoformat() else "due"
    if doc.kind != Kind.CREDIT_INVOICE or doc.totals.payable <= 0:
        return "paid"
    paid = sum(int(p["amount"]) for p in payments(store, doc))
    if paid >= doc.totals.gross:
        return "paid"
    return "overdue" if doc.due_date and doc.due_date < today.isoformat() else "due"


def summary(store: Store, doc: Document, today: date) -> dict[str, Any]:
    d = doc.as_dict()
    return {
        **{k: d[k] for k in ("number", "kind", "type_code", "currency", "issue_date", "due_date")},
        **{k: d[k] for k in ("period_start", "period_end", "totals", "corrects")},
        "status": status(store, doc, today),
    }


def detail(store: Store, account_id: str, number: str, today: date) -> dict[str, Any]:
    doc = issued_doc(store, account_id, number)
    d = doc.as_dict()
    totals = doc.totals
    base = f"/accounts/{account_id}/documents/{number}"
    return {
        **d,
        **summary(store, doc, today),
        "payment_means": doc.means,
        "vat_breakdown": [
            {
                "category": str(doc.treatment.category),
                "rate_bp": doc.treatment.rate_bp,
                "taxable": totals.net,
                "vat": totals.vat,
                "exemption_code": doc.treatment.exemption_code,
                "exemption_reason": doc.treatment.exemption_reason,
            }
        ],
        "payments": [
            {"entry_id": p["entry_id"], "amount": int(p["amount"]), "received_at": p["received_at"]}
            for p in payments(store, doc)
        ],
        "links": {"pdf": f"{base}/pdf", **({"xml": f"{base}/xml"} if has_einvoice(doc) else {})},
    }


def listing(
    store: Store,
    account_id: str,
    *,
    kind: str | None,
    since: str | None,
    until: str | None,
    cursor: str | None,
    limit: int,
    today: date,
) -> dict[str, Any]:
    """Newest first (by issue time); ``since``/``until`` bound the issue date, inclusive."""
    pk, prefix = keys.documents_prefix(account_id)
    after = None
    docs: list[Document] = []
    while True:
        rows = store.query_prefix(pk, prefix, limit=200, after=after)
        docs.extend(Document.from_dict(r) for r in rows)
        if len(rows) < 200:
            break
        after = rows[-1]["sk"]
    chosen = [
        d
        for d in docs
        if (kind is None or d.kind == kind)
        and (since is None or d.issue_date >= since)
        and (until is None or d.issue_date <= until)
    ]
    chosen.sort(key=lambda d: (d.issued_at, d.number), reverse=True)
    if cursor:
        try:
            last = decode_cursor(cursor, None)
            position = (str(last["issued_at"]), str(last["number"]))
        except (ValueError, KeyError, TypeError):
            raise InvalidInput("cursor is not one this API issued", field="cursor") from None
        chosen = [d for d in chosen if (d.issued_at, d.number) < position]
    page = chosen[:limit]
    more = len(chosen) > limit
    return {
        "items": [summary(store, d, today) for d in page],
        "next_cursor": encode_cursor({"issued_at": page[-1].issued_at, "number": page[-1].number}) if more else None,
    }
