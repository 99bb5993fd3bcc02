"""The files of an issued document: its UBL e-invoice and its PDF, written once to the archive and kept.

Rendering is handed in (``Renderers``): the UBL and PDF libraries load only in the documents function, never in
a money-path function. ``store_files`` is idempotent: a redelivered ``document.issued`` renders the same bytes,
finds them archived, and announces ``document.stored`` only once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from account_credit.billing.document import Document, Kind
from account_credit.kernel.errors import NotFound
from account_credit.platform.archive import Archive
from account_credit.platform.events import DomainEvent, EventType, announce_once
from account_credit.platform.peppol import Delivery
from account_credit.platform.store import Store, keys

XML, PDF = "application/xml", "application/pdf"


@dataclass(frozen=True)
class Renderers:
    ubl: Callable[[Document], bytes]
    pdf: Callable[[Document], bytes]


def has_einvoice(doc: Document) -> bool:
    """Every document but a top-up's proforma (a PDF only) has its UBL e-invoice; a purchase order's invoice has
    one (as a 386), so a buyer on Peppol receives it."""
    return doc.kind != Kind.PAYMENT_REQUEST or bool(doc.order_reference)


def file_key(account_id: str, number: str, ext: str) -> str:
    return f"documents/{account_id}/{number}.{ext}"


def store_files(
    store: Store,
    archive: Archive,
    render: Renderers,
    account_id: str,
    number: str,
    delivery: Delivery | None = None,
) -> bool:
    """Render and archive the document's XML and PDF, hand the XML over for Peppol delivery when both parties
    have a Peppol address, and announce ``document.stored`` once. True if announced now."""
    item = store.get_item(*keys.document(account_id, number))
    if item is None:
        raise NotFound(f"document {number} not found")
    doc = Document.from_dict(item)
    if has_einvoice(doc):
        xml = render.ubl(doc)
        archive.put_once(file_key(account_id, number, "xml"), xml, XML)
        if delivery is not None and doc.seller.endpoint and doc.buyer.endpoint:
            delivery.hand_over(number, doc.seller.endpoint, doc.buyer.endpoint, xml)
    archive.put_once(file_key(account_id, number, "pdf"), render.pdf(doc), PDF)
    return announce_once(
        store,
        keys.document_purpose(account_id, f"stored#{number}"),
        {"kind": "document_purpose", "number": number},
        DomainEvent(
            account_id=account_id,
            type=EventType.DOCUMENT_STORED,
            payload={
                "number": number,
                "kind": str(doc.kind),
                "currency": doc.currency,
                "gross": doc.totals.gross,
                "payable": doc.totals.payable,
                "due_date": doc.due_date,
                "payment_reference": doc.payment_reference,
                "order_reference": doc.order_reference,
                "pdf": file_key(account_id, number, "pdf"),
            },
        ),
    )


def read_file(archive: Archive, account_id: str, number: str, ext: str) -> tuple[bytes, str]:
    """The archived file (NotFound while it is being rendered: it is written right after the document issues)."""
    got = archive.get(file_key(account_id, number, ext))
    if got is None:
        raise NotFound(f"the {ext.upper()} of document {number} is not ready yet; try again in a moment")
    return got
