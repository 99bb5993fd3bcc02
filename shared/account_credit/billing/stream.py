"""The documents function's stream records: a placed ledger entry (issue what it calls for) and a
``document.issued`` event (render and archive the document). Decodes only the attributes it needs."""

from __future__ import annotations

from typing import Any

from account_credit.billing import service
from account_credit.billing.files import Renderers, store_files
from account_credit.platform.archive import Archive
from account_credit.platform.peppol import Delivery
from account_credit.platform.store import Store


def _s(image: dict[str, Any], name: str) -> str | None:
    value = image.get(name) or {}
    return value.get("S")


def on_stream_record(
    store: Store, archive: Archive, render: Renderers, raw: dict[str, Any], delivery: Delivery | None = None
) -> list[str]:
    """What the record called for: the numbers issued or stored (empty when it called for nothing)."""
    ddb = raw.get("dynamodb") or {}
    new, old = ddb.get("NewImage") or {}, ddb.get("OldImage") or {}
    kind = _s(new, "kind")
    if kind == "entry" and "seq" in new and "seq" not in old:
        account_id, entry_id = _s(new, "account_id"), _s(new, "entry_id")
        if account_id and entry_id:
            return service.on_entry_placed(store, account_id, entry_id, _s(new, "type"))
    if kind == "event" and _s(new, "type") == "document.issued":
        account_id = _s(new, "account_id")
        number = ((new.get("payload") or {}).get("M") or {}).get("number", {}).get("S")
        if account_id and number:
            store_files(store, archive, render, account_id, number, delivery)
            return [number]
    return []
