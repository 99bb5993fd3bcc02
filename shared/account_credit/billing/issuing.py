"""Issuing a document: numbered without gaps, written once, for one purpose, with its ``document.issued`` event.

One transaction (no money moves): the series counter and the number's own item (``platform/numbering.py``), the
document (immutable from then on), the *purpose* item that says what it was issued for (must not exist: a rerun, a
redelivered stream record or a second concurrent issuer never issues it twice), and the event the renderer and the
emails follow. Afterwards the ledger entries it covers get its number (``Store.link_document``): derived data,
written idempotently, and written again by any rerun that finds the document already issued.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from account_credit.billing.document import SERIES, Document
from account_credit.kernel.errors import DomainError
from account_credit.kernel.ids import iso, utc_now
from account_credit.platform import numbering
from account_credit.platform.commit import commit
from account_credit.platform.events import DomainEvent, EventType
from account_credit.platform.store import Record, Store, keys


class _AlreadyIssued(DomainError):
    status = 409

    def __init__(self, old: dict[str, Any]) -> None:
        super().__init__("already issued")
        self.old = old


def issued_for(store: Store, account_id: str, purpose: str) -> Document | None:
    """The document issued for ``purpose``, if any."""
    marker = store.get_item(*keys.document_purpose(account_id, purpose))
    return load(store, account_id, marker["number"]) if marker else None


def load(store: Store, account_id: str, number: str) -> Document | None:
    item = store.get_item(*keys.document(account_id, number))
    return Document.from_dict(item) if item else None


def issue(
    store: Store,
    draft: Document,
    purpose: str,
    *,
    entries: Iterable[tuple[str, str]] = (),
    event: dict[str, Any] | None = None,
) -> tuple[Document, bool]:
    """Issue ``draft`` once for ``purpose``: (the document, whether it was issued now). ``entries`` are the
    (created_at, entry_id) of the ledger entries it covers (linked to its number); ``event`` adds to the
    ``document.issued`` payload."""
    account_id = draft.account_id
    done = issued_for(store, account_id, purpose)
    if done is not None:
        _link(store, done, entries)
        return done, False
    series = SERIES[draft.kind]

    def attempt() -> Document:
        issued = utc_now()
        year = int(draft.issue_date[:4]) if draft.issue_date else issued.year
        uow = store.unit_of_work()
        _n, number = numbering.take(store, uow, series, year, {"kind": "document_number", "account_id": account_id})
        doc = draft.numbered(number, iso(issued))
        for record in records_of(doc, purpose, event):
            uow.put(record)
        commit(uow, None, lambda _posting: {})
        return doc

    try:
        doc = numbering.retry_numbered(attempt, "documents")
    except _AlreadyIssued as exc:  # a concurrent issuer for the same purpose won: its document stands
        raced = load(store, account_id, exc.old["number"])
        if raced is None:  # pragma: no cover - the marker is committed with its document
            raise
        doc, fresh = raced, False
    else:
        fresh = True
    _link(store, doc, entries)
    return doc, fresh


def records_of(doc: Document, purpose: str, event: dict[str, Any] | None = None) -> list[Record]:
    """What issuing ``doc`` writes besides its number: the document, its purpose (must not exist) and its
    ``document.issued`` event. A proforma adds them to its own transaction (its number is the proforma's)."""
    totals = doc.totals
    issued_event = DomainEvent(
        account_id=doc.account_id,
        type=EventType.DOCUMENT_ISSUED,
        payload={
            "number": doc.number,
            "kind": str(doc.kind),
            "currency": doc.currency,
            "gross": totals.gross,
            "payable": totals.payable,
            "due_date": doc.due_date,
            **(event or {}),
        },
    )
    attrs = {"kind": "document", "purpose": purpose, **doc.as_dict()}
    return [
        Record(*keys.document(doc.account_id, doc.number), attrs=attrs),
        Record(
            *keys.document_purpose(doc.account_id, purpose),
            attrs={"kind": "document_purpose", "number": doc.number, "issued_at": doc.issued_at},
            on_exists=lambda old: _AlreadyIssued(old),
        ),
        issued_event.record(),
    ]


def _link(store: Store, doc: Document, entries: Iterable[tuple[str, str]]) -> None:
    """The document's number on every ledger entry and every order it covers (idempotent)."""
    for created_at, entry_id in entries:
        store.link_document(keys.account_pk(doc.account_id), keys.entry_sk(created_at, entry_id), doc.number)
    for order_id in dict.fromkeys(line.order_id for line in doc.lines if line.order_id):
        store.link_document(*keys.order(doc.account_id, order_id), doc.number)


def with_movements(draft: Document, entry_ids: Iterable[str]) -> Document:
    return replace(draft, movements=tuple(dict.fromkeys(entry_ids)))
