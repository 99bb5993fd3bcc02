"""Statements over real HTTP on the local stack: a customer's summary of today, and an export of a Slovak account
requested over HTTP, run by the statements function from the table stream, polled until done and downloaded as a
CSV in Slovak conventions (semicolons, decimal comma, a byte-order mark)."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from decimal import Decimal

from tools import localauth

from .conftest import Api, placed_transactions
from .test_accounts_http import assert_problem, open_account


def test_request_poll_and_download_an_export(api: Api, operator: str) -> None:
    acc = open_account(api, operator, language="sk")["account_id"]
    for n, (kind, amount) in enumerate([("credit", 50_000), ("debit", 1_234), ("credit", 99), ("debit", 5)]):
        r = api.call(
            "POST",
            f"/accounts/{acc}/adjustments",
            operator,
            json={"type": kind, "amount": amount, "reason": "statement test"},
            headers={"Idempotency-Key": f"stmt-{n}"},
        )
        assert r.status_code == 201, r.text
    placed_transactions(api, operator, acc)
    customer = localauth.mint("customer", account_id=acc)
    today = datetime.now(UTC).date().isoformat()

    summary = api.call("GET", f"/accounts/{acc}/summary", customer, params={"from": today, "to": today})
    assert summary.status_code == 200, summary.text
    s = summary.json()
    assert (s["opening_balance"], s["closing_balance"]) == (0, 48_860)
    assert s["adjustments"] == {
        "credit": 50_099,
        "debit": -1_239,
        "total": 48_860,
        "card": None,
        "bank_transfer": None,
        "orders": None,
        "renewals": None,
    }

    assert_problem(api.call("POST", f"/accounts/{acc}/exports", customer, json={"from": today}), 422)
    posted = api.call("POST", f"/accounts/{acc}/exports", customer, json={"from": today, "to": today, "format": "csv"})
    assert posted.status_code == 202, posted.text
    assert posted.json()["conventions"] == "sk"
    export_id = posted.json()["export_id"]
    deadline = time.monotonic() + 60
    while True:
        status = api.call("GET", f"/accounts/{acc}/exports/{export_id}", customer).json()
        if status["state"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert status["state"] == "done", status
    assert status["done"] == status["total"] == 4
    got = api.call("GET", status["download"], customer)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert got.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig")), delimiter=";"))
    assert sum(int(Decimal(r["amount"].replace(",", ".")) * 100) for r in rows) == 48_860
    assert rows[-1]["balance_after"] == "488,60"
    stranger = localauth.mint("customer", account_id="acc_someone_else")
    assert api.call("GET", f"/accounts/{acc}/exports/{export_id}/file", stranger).status_code == 404
