"""Export of a busy account: ``PYTHONPATH=shared python -m bench.export [--entries N]`` (default 100,000).

Seeds N placed ledger entries of one account directly in DynamoDB Local (batch writes: the ledger as the sequencer
leaves it, a year of movements of every kind), then runs the export job (statements/service.py ``run_export``) for
the whole year, transactions as CSV and the summary, and prints entries per second and pages. Starts its own
DynamoDB Local unless ``DYNAMODB_ENDPOINT`` is set; the file goes to a temporary folder archive."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from account_credit.kernel.domain import Account, CompanyDetails, LedgerEntry, PaymentSettings
from account_credit.kernel.ids import iso
from account_credit.platform.archive import FolderArchive
from account_credit.platform.store import keys
from account_credit.platform.store.codec import to_item
from account_credit.platform.store.dynamo import DynamoStore
from account_credit.platform.store.items import entry_to_item

# (type, amount, channel): a repeating pattern whose running balance stays >= 0.
PATTERN: tuple[tuple[str, int, str], ...] = (
    ("deposit_card", 50_000, ""),
    ("order_balance", -12_345, "web"),
    ("deposit_bank_transfer", 30_000, ""),
    ("order_balance", -9_900, "renewal"),
    ("order_card", 0, "web"),
    ("order_cancellation", 12_345, ""),
    ("adjustment_debit", -100, ""),
    ("deposit_reversal", -50_000, ""),
    ("adjustment_credit", 100, ""),
    ("order_credit", -20_000, "api"),
)


def seed(client: Any, table: str, account_id: str, n: int, start: datetime, currency: str = "USD") -> int:
    """Write the account and ``n`` placed entries spread over a year from ``start``; the final balance."""
    from account_credit.platform.store.dynamo import DynamoStore as _Store

    store = _Store(table, dynamo_client=client)
    store.create_account(
        Account(account_id, currency, CompanyDetails("Busy Ltd"), ("b@busy.test",), None, PaymentSettings(), 10**9)
    )
    step = timedelta(days=365) / max(n, 1)
    balance, batch = 0, []
    for i in range(n):
        kind, amount, channel = PATTERN[i % len(PATTERN)]
        balance += amount
        entry = LedgerEntry(
            entry_id=f"ent_{i:08d}",
            account_id=account_id,
            type=kind,
            amount=amount,
            currency=currency,
            created_at=iso(start + step * i),
            description=f"{kind} {i}",
            reference={"channel": channel} if channel else {},
            seq=i + 1,
            balance_after=balance,
        )
        batch.append({"PutRequest": {"Item": to_item(entry_to_item(entry))}})
        if len(batch) == 25:
            _write(client, table, batch)
            batch = []
    if batch:
        _write(client, table, batch)
    store.update_account(account_id, {"balance": balance, "seq": n})
    return balance


def _write(client: Any, table: str, batch: list[dict[str, Any]]) -> None:
    request = {table: batch}
    while request:
        request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=1000)
    args = parser.parse_args()

    from account_credit.statements import service as statements
    from tools import ddb_local

    endpoint, proc = os.environ.get("DYNAMODB_ENDPOINT"), None
    if not endpoint:
        port = ddb_local.free_port()
        proc = ddb_local.start(port)
        endpoint = f"http://127.0.0.1:{port}"
    try:
        table = f"bench-export-{uuid.uuid4().hex[:8]}"
        ddb_local.ensure_table(endpoint, table)
        client = ddb_local.client(endpoint)
        account_id = f"acc_bench_{uuid.uuid4().hex[:8]}"
        t0 = time.perf_counter()
        balance = seed(client, table, account_id, args.entries, datetime(2025, 1, 1, tzinfo=UTC))
        print(f"seeded {args.entries:,} entries in {time.perf_counter() - t0:.1f} s (batch writes)")
        store = DynamoStore(table, dynamo_client=client)
        with tempfile.TemporaryDirectory() as folder:
            archive = FolderArchive(folder)
            for kind in ("transactions", "summary"):
                queued = statements.request_export(
                    store, account_id, since="2025-01-01", until="2025-12-31", fmt="csv", kind=kind, actor="bench"
                )
                t0 = time.perf_counter()
                done = statements.run_export(store, archive, account_id, queued["export_id"], page_size=args.page)
                took = time.perf_counter() - t0
                rate = done["done"] / took if took else 0.0
                print(
                    f"export {kind}: {done['done']:,} entries, {done['pages']} pages of <= {args.page}, "
                    f"{done['bytes']:,} bytes in {took:.1f} s = {rate:,.0f} entries/s"
                )
            item = store.get_item(*keys.export(account_id, queued["export_id"]))
            assert item is not None
            body = archive.get(str(item["file_key"]))
            assert body is not None
            closing = [line for line in body[0].decode().splitlines() if line.startswith("closing_balance,")]
            print(f"summary closing balance {closing[0].split(',')[3]} USD; the ledger's balance {balance / 100:.2f}")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(20)


if __name__ == "__main__":
    main()
