"""Statements over a store: the summary read from the ledger, an export job paging through the entries with its
progress and the archived file, and the routes over the real handler (memory store, a folder archive)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from _support import Api, Clock, account_request, load_function

from account_credit.kernel.domain import Account, Floor, Movement
from account_credit.kernel.money import Money
from account_credit.platform import archive as archive_mod
from account_credit.platform.archive import FolderArchive
from account_credit.platform.commit import commit
from account_credit.platform.store import Store
from account_credit.platform.store.memory import MemoryStore
from account_credit.statements import service as svc
from account_credit.statements.summary import Period


def move(store: Store, account: Account, kind: str, amount: int, **reference: str) -> None:
    uow = store.unit_of_work()
    uow.move(Movement(account.account_id, Money(amount, account.currency), kind, Floor.NONE, reference=reference))
    commit(uow, None, lambda _p: {})


def history(store: Store, account: Account, clock: Clock) -> None:
    clock.set(datetime(2026, 1, 20, 9, tzinfo=UTC))
    move(store, account, "deposit_card", 50_000)  # January: the opening of February
    clock.set(datetime(2026, 2, 1, 0, 0, 1, tzinfo=UTC))
    move(store, account, "deposit_bank_transfer", 20_000)
    move(store, account, "order_balance", -12_345, order_id="ord_1", channel="web")
    move(store, account, "order_balance", -5_000, order_id="ord_2", channel="renewal")
    move(store, account, "order_cancellation", 12_345, order_id="ord_1")
    move(store, account, "deposit_reversal", -1_000)
    move(store, account, "adjustment_debit", -10)
    clock.set(datetime(2026, 3, 2, tzinfo=UTC))
    move(store, account, "adjustment_credit", 999)  # March: after the period


def test_the_summary_of_a_month_from_the_ledger(store: MemoryStore, open_account: Any, clock: Clock) -> None:
    account = open_account()
    history(store, account, clock)
    s = svc.summary(store, account.account_id, svc.period_of("2026-02-01", "2026-02-28")).as_dict()
    assert s["opening_balance"] == 50_000
    assert s["deposits"] == {"card": 0, "bank_transfer": 20_000, "total": 20_000}
    assert s["draws"] == {"orders": -12_345, "renewals": -5_000, "total": -17_345}
    assert (s["refunds"], s["reversals"], s["adjustments"]["total"]) == (12_345, -1_000, -10)
    assert s["closing_balance"] == 50_000 + 20_000 - 17_345 + 12_345 - 1_000 - 10
    assert s["closing_balance"] + 999 == store.get_account(account.account_id).balance


@pytest.fixture
def folder(tmp_path: Path) -> FolderArchive:
    return FolderArchive(tmp_path)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_job_pages_reports_progress_and_archives_the_file(
    store: MemoryStore, open_account: Any, clock: Clock, folder: FolderArchive, fmt: str
) -> None:
    account = open_account()
    history(store, account, clock)
    acc = account.account_id
    queued = svc.request_export(
        store, acc, since="2026-02-01", until="2026-02-28", fmt=fmt, kind="transactions", actor="t"
    )
    assert queued["state"] == "queued" and queued["download"] is None
    with pytest.raises(Exception, match="not ready"):
        svc.export_file(store, folder, acc, queued["export_id"])
    done = svc.run_export(store, folder, acc, queued["export_id"], page_size=2)
    assert (done["state"], done["done"], done["total"], done["pages"]) == ("done", 6, 6, 3)
    assert done["download"] == f"/accounts/{acc}/exports/{queued['export_id']}/file"
    body, media, name = svc.export_file(store, folder, acc, queued["export_id"])
    assert name == f"transactions-{acc}-2026-02-01-2026-02-28.{fmt}"
    if fmt == "csv":
        assert media.startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
        amounts = [int(Decimal(r["amount"]) * 100) for r in rows]
    else:
        rows = json.loads(body)["entries"]
        amounts = [r["amount"] for r in rows]
    assert amounts == [20_000, -12_345, -5_000, 12_345, -1_000, -10]  # oldest first
    assert 50_000 + sum(amounts) + 999 == store.get_account(acc).balance
    # Safe to repeat: a finished job is left as it is.
    assert svc.run_export(store, folder, acc, queued["export_id"]) == done


def test_a_summary_export_and_a_failed_job(
    store: MemoryStore, open_account: Any, clock: Clock, folder: FolderArchive
) -> None:
    account = open_account()
    history(store, account, clock)
    acc = account.account_id
    queued = svc.request_export(
        store, acc, since="2026-02-01", until="2026-02-28", fmt="csv", kind="summary", actor="t"
    )
    done = svc.run_export(store, folder, acc, queued["export_id"], page_size=3)
    assert done["done"] == done["total"] == 7  # the period's entries and the one before it
    rows = {
        r["row"]: r
        for r in csv.DictReader(
            io.StringIO(svc.export_file(store, folder, acc, done["export_id"])[0].decode("utf-8-sig"))
        )
    }
    assert rows["opening_balance"]["amount"] == "500.00" and rows["renewals"]["amount"] == "-50.00"
    assert rows["closing_balance"]["amount"] == "639.90"

    class Broken(FolderArchive):
        def put_once(self, key: str, body: bytes, content_type: str) -> bool:
            raise OSError("disk full")

    failing = svc.request_export(
        store, acc, since="2026-02-01", until="2026-02-28", fmt="csv", kind="summary", actor="t"
    )
    with pytest.raises(OSError):
        svc.run_export(store, Broken(folder.root), acc, failing["export_id"])
    failed = svc.get_export(store, acc, failing["export_id"])
    assert failed["state"] == "failed" and "disk full" in failed["error"]


def test_a_new_export_item_on_the_stream_runs_its_job(
    store: MemoryStore, open_account: Any, clock: Clock, folder: FolderArchive
) -> None:
    account = open_account()
    history(store, account, clock)
    acc = account.account_id
    queued = svc.request_export(
        store, acc, since="2026-01-01", until="2026-12-31", fmt="json", kind="summary", actor="t"
    )
    image = {"kind": {"S": "export"}, "account_id": {"S": acc}, "export_id": {"S": queued["export_id"]}}
    assert svc.on_stream_record(store, folder, {"eventName": "MODIFY", "dynamodb": {"NewImage": image}}) is None
    result = svc.on_stream_record(store, folder, {"eventName": "INSERT", "dynamodb": {"NewImage": image}})
    assert result is not None and result["state"] == "done"
    summary = json.loads(svc.export_file(store, folder, acc, queued["export_id"])[0])
    assert summary["closing_balance"] == store.get_account(acc).balance


def test_periods_are_checked() -> None:
    with pytest.raises(Exception, match="before it starts"):
        svc.period_of("2026-02-02", "2026-02-01")
    with pytest.raises(Exception, match="not a date"):
        svc.period_of("2026-02-30", "2026-03-01")
    assert svc.period_of("2026-02-01", "2026-02-01") == Period(datetime(2026, 2, 1).date(), datetime(2026, 2, 1).date())


# --------------------------------------------------------------------------- the routes


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Api, MemoryStore]]:
    from account_credit.platform.store import process

    monkeypatch.setenv("STORE", "memory")
    monkeypatch.setenv("LOCAL_DOCUMENTS_DIR", str(tmp_path))
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "statements")
    monkeypatch.delenv("DOCUMENTS_BUCKET", raising=False)
    process.store.cache_clear()
    archive_mod.archive.cache_clear()
    module: ModuleType = load_function("statements")
    yield Api(module), process.store()  # type: ignore[misc]
    process.store.cache_clear()
    archive_mod.archive.cache_clear()


def test_export_over_http(api: tuple[Api, MemoryStore], clock: Clock) -> None:
    from account_credit.accounts import service as accounts

    http, store = api
    account = accounts.open_account(store, account_request())
    history(store, account, clock)
    acc = account.account_id
    owner = {"claims": {"sub": f"cust-{acc}", "custom:role": "customer", "custom:account_id": acc}}
    summary = http.request("GET", f"/accounts/{acc}/summary", query={"from": "2026-02-01", "to": "2026-02-28"}, **owner)
    assert summary.status == 200, summary.raw_body
    assert summary.json["from"] == "2026-02-01" and summary.json["opening_balance"] == 50_000
    bad = http.request(
        "POST", f"/accounts/{acc}/exports", body={"from": "2026-02-01", "to": "2026-02-28", "format": "xls"}
    )
    assert bad.status == 422
    unknown = http.request(
        "POST",
        f"/accounts/{acc}/exports",
        body={"from": "2026-02-01", "to": "2026-02-28", "conventions": "fr"},
        **owner,
    )
    assert unknown.status == 422, unknown.raw_body
    posted = http.request("POST", f"/accounts/{acc}/exports", body={"from": "2026-02-01", "to": "2026-02-28"}, **owner)
    assert posted.status == 202, posted.raw_body
    export_id = posted.json["export_id"]
    assert posted.json["state"] == "queued" and posted.json["from"] == "2026-02-01"
    assert posted.json["conventions"] == "en"  # the account's language (English)
    assert http.request("GET", f"/accounts/{acc}/exports/{export_id}/file", **owner).status == 404
    record = {
        "eventName": "INSERT",
        "dynamodb": {"NewImage": {"kind": {"S": "export"}, "account_id": {"S": acc}, "export_id": {"S": export_id}}},
    }
    out = http.module.lambda_handler(
        {"Records": [{**record, "eventID": "1", "eventSource": "aws:dynamodb"}]}, http.context
    )
    assert out == {"batchItemFailures": []}
    status = http.request("GET", f"/accounts/{acc}/exports/{export_id}", **owner)
    assert status.json["state"] == "done" and status.json["done"] == status.json["total"] == 6
    got = http.request("GET", status.json["download"], **owner)
    assert got.status == 200 and got.content_type.startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    other = {"claims": {"sub": "cust-x", "custom:role": "customer", "custom:account_id": "acc_other"}}
    assert http.request("GET", f"/accounts/{acc}/exports/{export_id}", **other).status == 404
