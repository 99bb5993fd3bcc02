"""An export job on DynamoDB Local: a few thousand placed entries, read a page at a time; the progress reaches the
total, and the file's amounts add up to the account's balance."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from account_credit.platform.archive import FolderArchive
from account_credit.platform.store import keys
from account_credit.platform.store.cache import AccountCache
from account_credit.platform.store.dynamo import DynamoStore
from account_credit.statements import service as statements
from bench.export import seed

N = 3000


def test_an_export_of_a_few_thousand_entries(own_table: str, dynamo_client: Any, tmp_path: Path) -> None:
    # The seeded ledger is written item by item, not by ledger writes: on a table of its own, so the shared
    # table's stream readers (the sequencer in other tests) never meet it.
    store = DynamoStore(own_table, dynamo_client=dynamo_client, cache=AccountCache())
    account_id = f"acc_exp_{uuid.uuid4().hex[:8]}"
    balance = seed(dynamo_client, own_table, account_id, N, datetime(2025, 1, 1, tzinfo=UTC))
    archive = FolderArchive(tmp_path)
    queued = statements.request_export(
        store, account_id, since="2025-01-01", until="2025-12-31", fmt="csv", kind="transactions", actor="t"
    )
    seen: list[int] = []
    original = store.update_record

    def watch(update: Any) -> None:  # record the progress the job writes after each page
        original(update)
        if "done" in update.changes:
            seen.append(int(update.changes["done"]))

    store.update_record = watch  # type: ignore[method-assign]
    done = statements.run_export(store, archive, account_id, queued["export_id"], page_size=1000)
    assert (done["state"], done["done"], done["total"], done["pages"]) == ("done", N, N, 3)
    assert seen[1:] == [1000, 2000, 3000, 3000]  # reset to 0, a page at a time, then the final count
    body = archive.get(statements.file_key(account_id, queued["export_id"], "csv"))
    assert body is not None
    assert body[0].startswith("\ufeff".encode())  # the account's conventions (English): a byte-order mark for Excel
    rows = list(csv.DictReader(io.StringIO(body[0].decode("utf-8-sig"))))
    assert len(rows) == N and [int(r["seq"]) for r in rows] == list(range(1, N + 1))
    assert sum(int(Decimal(r["amount"]) * 100) for r in rows) == balance
    assert rows[-1]["balance_after"] == f"{balance / 100:.2f}"
    summary = statements.summary(store, account_id, statements.period_of("2025-01-01", "2025-12-31"))
    assert summary.opening_balance == 0 and summary.closing_balance == balance
    assert store.get_item(*keys.export(account_id, queued["export_id"]))["state"] == "done"  # type: ignore[index]
