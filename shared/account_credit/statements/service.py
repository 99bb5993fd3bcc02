"""Statements: the accounting summary of a period read from the ledger, and export jobs that write the summary or
the transaction list of any period to a file in the document archive (docs/STATEMENTS.md).

An export is an item (``keys.export``: state ``queued`` -> ``running`` -> ``done`` | ``failed``, progress ``done``
of ``total`` entries) written by the API; its INSERT on the table stream starts the job (``run_export``, the
statements function), which pages through the entries ``PAGE`` at a time, updates the progress after each page and
archives the file once under ``exports/<account_id>/<export_id>.<csv|json>``. Nothing here moves money.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

from account_credit.billing.document import Document, Kind
from account_credit.kernel.domain import Account, LedgerEntry
from account_credit.kernel.errors import InvalidInput, NotFound
from account_credit.kernel.ids import iso, new_id, utc_now
from account_credit.platform.archive import Archive, content_type_of
from account_credit.platform.store import Store, keys
from account_credit.platform.store.base import Record, RecordUpdate
from account_credit.statements import documents_side, render
from account_credit.statements.summary import Accumulator, Period, Summary

PAGE = 1000  # entries per Query page of the export job
FORMATS = ("csv", "json")
KINDS = ("summary", "transactions")
CONVENTIONS = ("account", "neutral")  # the CSV's conventions: the account's language's, or the neutral ones
STATES = ("queued", "running", "done", "failed")
MAX_DAYS = 366 * 10  # the longest period one request may name


def day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)", field=name) from None


def period_of(since: str, until: str) -> Period:
    period = Period(day(since, "from"), day(until, "to"))
    if (period.end - period.start).days > MAX_DAYS:
        raise InvalidInput(f"a period is at most {MAX_DAYS} days", field="to")
    return period


def _account(store: Store, account_id: str) -> Account:
    account = store.get_account(account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    return account


def pages(
    store: Store, account_id: str, since: str | None, until: str | None, size: int = PAGE
) -> Iterator[list[LedgerEntry]]:
    """The entries created from ``since`` to ``until`` (inclusive ISO bounds), a page at a time, newest first."""
    cursor = None
    while True:
        page = store.list_entries(account_id, since=since, until=until, entry_type=None, cursor=cursor, limit=size)
        if page.items:
            yield page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def summary(store: Store, account_id: str, period: Period) -> Summary:
    """The summary of ``period``: reads every entry up to its end (the earlier ones make the opening balance)."""
    account = _account(store, account_id)
    acc = Accumulator(account.currency, period)
    for page in pages(store, account_id, None, period.high):
        _fold(acc, page)
    return acc.summary()


def _fold(acc: Accumulator, page: list[LedgerEntry]) -> None:
    for entry in page:
        if acc.period.before(entry):
            acc.add_before(entry)
        else:
            acc.add(entry)


def _all(store: Store, pk: str, prefix: str, size: int = 500) -> list[dict[str, Any]]:
    """Every item of a partition under a sort-key prefix, a Query page at a time."""
    out: list[dict[str, Any]] = []
    after = None
    while True:
        page = store.query_prefix(pk, prefix, limit=size, after=after)
        out.extend(page)
        if len(page) < size:
            return out
        after = str(page[-1]["sk"])


def documents_side_of(store: Store, account_id: str, period: Period) -> documents_side.DocumentsSide:
    """How the period's summary rows reconcile to the billing documents issued for them (documents_side.py): reads
    the ledger up to the period's end, the account's documents, the payments on its credit invoices and its
    completed monthly runs."""
    account = _account(store, account_id)
    entries = [e for page in pages(store, account_id, None, period.high) for e in page]
    docs = [Document.from_dict(i) for i in _all(store, *keys.documents_prefix(account_id))]
    pays = [
        documents_side.Payment(str(i["number"]), str(i["entry_id"]), int(i["amount"]))
        for d in docs
        if d.kind == Kind.CREDIT_INVOICE
        for i in _all(store, *keys.document_payments_prefix(account_id, d.number))
    ]
    billed = [str(i["month"]) for i in _all(store, *keys.billing_runs_prefix(account_id))]
    return documents_side.reconcile(account.currency, period, entries, docs, pays, billed)


# --------------------------------------------------------------------------- exports


def file_key(account_id: str, export_id: str, fmt: str) -> str:
    return f"exports/{account_id}/{export_id}.{fmt}"


def request_export(
    store: Store,
    account_id: str,
    *,
    since: str,
    until: str,
    fmt: str,
    kind: str,
    actor: str,
    conventions: str = "account",
) -> dict[str, Any]:
    """Queue an export (the stream starts its job); the export item as the status answers it. The CSV conventions
    are fixed here (the account's language at the time of the request), so a rerun of the job writes the same
    bytes."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", field="format")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if conventions not in CONVENTIONS:
        raise InvalidInput(f"conventions must be one of {', '.join(CONVENTIONS)}", field="conventions")
    period = period_of(since, until)
    account = _account(store, account_id)
    export_id = new_id("exp")
    attrs = {
        "kind": "export",
        "account_id": account_id,
        "export_id": export_id,
        "export_kind": kind,
        "format": fmt,
        "conventions": render.conventions_for(conventions, account.language).name,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "state": "queued",
        "done": 0,
        "pages": 0,
        "requested_by": actor,
        "created_at": iso(utc_now()),
    }
    store.put_record(Record(*keys.export(account_id, export_id), attrs=attrs))
    return status(attrs)


def _item(store: Store, account_id: str, export_id: str) -> dict[str, Any]:
    item = store.get_item(*keys.export(account_id, export_id))
    if item is None or item.get("kind") != "export":
        raise NotFound(f"export {export_id} of account {account_id} not found")
    return item


def status(item: dict[str, Any]) -> dict[str, Any]:
    """The status answer: state, progress, and when done the file's link."""
    done = int(item.get("done") or 0)
    total = item.get("total")
    link = None
    if item.get("state") == "done":
        link = f"/accounts/{item['account_id']}/exports/{item['export_id']}/file"
    return {
        "export_id": item["export_id"],
        "account_id": item["account_id"],
        "kind": item["export_kind"],
        "format": item["format"],
        "conventions": item.get("conventions", "neutral"),
        "from": item["from"],
        "to": item["to"],
        "state": item["state"],
        "done": done,
        "total": None if total is None else int(total),
        "pages": int(item.get("pages") or 0),
        "created_at": item["created_at"],
        "finished_at": item.get("finished_at"),
        "bytes": None if item.get("bytes") is None else int(item["bytes"]),
        "error": item.get("error"),
        "download": link,
    }


def get_export(store: Store, account_id: str, export_id: str) -> dict[str, Any]:
    return status(_item(store, account_id, export_id))


def export_file(store: Store, archive: Archive, account_id: str, export_id: str) -> tuple[bytes, str, str]:
    """(body, content type, file name) of a finished export; NotFound while it is not done."""
    item = _item(store, account_id, export_id)
    if item.get("state") != "done":
        raise NotFound(f"export {export_id} is {item.get('state')}: its file is not ready")
    key = str(item["file_key"])
    found = archive.get(key)
    if found is None:
        raise NotFound(f"the file of export {export_id} is not in the archive")
    name = f"{item['export_kind']}-{account_id}-{item['from']}-{item['to']}.{item['format']}"
    return found[0], found[1], name


def _progress(store: Store, item: dict[str, Any], changes: dict[str, Any]) -> None:
    pk, sk = keys.export(item["account_id"], item["export_id"])
    store.update_record(RecordUpdate(pk, sk, changes))


def run_export(
    store: Store, archive: Archive, account_id: str, export_id: str, page_size: int = PAGE
) -> dict[str, Any]:
    """Run one export job to the end (safe to repeat: a finished one is left as it is, an interrupted one starts
    over and archives the same bytes). The final status."""
    item = _item(store, account_id, export_id)
    if item["state"] == "done":
        return status(item)
    account = _account(store, account_id)
    period = Period(date.fromisoformat(item["from"]), date.fromisoformat(item["to"]))
    # The account's entry count is what the job may read at most: an upper bound until the job is done.
    _progress(store, item, {"state": "running", "done": 0, "pages": 0, "total": account.seq, "error": None})
    try:
        body = _build(store, account, period, item, page_size)
        key = file_key(account_id, export_id, item["format"])
        archive.put_once(key, body, content_type_of(key))
    except Exception as exc:
        _progress(store, item, {"state": "failed", "error": f"{type(exc).__name__}: {exc}"[:500]})
        raise
    _progress(store, item, {"state": "done", "file_key": key, "bytes": len(body), "finished_at": iso(utc_now())})
    return status(_item(store, account_id, export_id))


def _build(store: Store, account: Account, period: Period, item: dict[str, Any], page_size: int) -> bytes:
    # An export queued before conventions existed was neutral.
    conv = render.CONVENTIONS[item.get("conventions", "neutral")]
    read, count = 0, 0
    if item["export_kind"] == "summary":
        acc = Accumulator(account.currency, period)
        for count, page in enumerate(pages(store, account.account_id, None, period.high, page_size), start=1):
            _fold(acc, page)
            read += len(page)
            _progress(store, item, {"done": read, "pages": count})
        _progress(store, item, {"done": read, "pages": count, "total": read})
        result = acc.summary()
        return render.summary_csv(result, conv) if item["format"] == "csv" else render.summary_json(result)
    chunks: list[str] = []  # one per page, newest first; the file lists entries oldest first
    for count, page in enumerate(pages(store, account.account_id, period.low, period.high, page_size), start=1):
        if item["format"] == "csv":
            chunks.append(render.transactions_lines(reversed(page), conv))
        else:
            chunks.append(
                ",\n".join(json.dumps(render.transaction_json(e), ensure_ascii=False) for e in reversed(page))
            )
        read += len(page)
        _progress(store, item, {"done": read, "pages": count})
    _progress(store, item, {"done": read, "pages": count, "total": read})
    chunks.reverse()
    if item["format"] == "csv":
        return render.encode(render.transactions_header(conv) + "".join(chunks), conv)
    head = json.dumps(
        {"account_id": account.account_id, "currency": account.currency, "from": item["from"], "to": item["to"]}
    )[:-1]
    return (head + ', "entries": [\n' + ",\n".join(c for c in chunks if c) + "\n]}\n").encode()


def on_stream_record(store: Store, archive: Archive, raw: dict[str, Any]) -> dict[str, Any] | None:
    """The statements function's stream record: a new export item starts its job."""
    if raw.get("eventName") != "INSERT":
        return None
    new = (raw.get("dynamodb") or {}).get("NewImage") or {}
    if (new.get("kind") or {}).get("S") != "export":
        return None
    account_id, export_id = new["account_id"]["S"], new["export_id"]["S"]
    return run_export(store, archive, account_id, export_id)
