"""Reconciliation over real HTTP on the local stack: money moves on an account, the job runs on demand
(``python -m tools.schedule Reconciliation``, a process of its own with the server's settings), and an operator
reads the day's report over the API; customers and partners are refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

from tools import localauth
from tools.template import ROOT

from .conftest import Api, LocalServer, placed_transactions
from .test_accounts_http import assert_problem, open_account


def run_reconciliation(server: LocalServer, payload: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tools.schedule", "Reconciliation", "--input", json.dumps(payload)],
        cwd=ROOT,
        env={**os.environ, **server.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return {"stdout": out.stdout}


def test_an_operator_reads_the_days_report_over_http(api: Api, operator: str, local_server: LocalServer) -> None:
    acc = open_account(api, operator)["account_id"]
    for n, (kind, amount) in enumerate([("credit", 20_000), ("debit", 1_500)]):
        r = api.call(
            "POST",
            f"/accounts/{acc}/adjustments",
            operator,
            json={"type": kind, "amount": amount, "reason": "reconciliation test"},
            headers={"Idempotency-Key": f"recon-{acc}-{n}"},
        )
        assert r.status_code == 201, r.text
    placed_transactions(api, operator, acc)
    today = datetime.now(UTC).date().isoformat()
    run_reconciliation(local_server, {"day": today, "account_id": acc})

    got = api.call("GET", f"/reconciliation/reports/{today}", operator)
    assert got.status_code == 200, got.text
    report = got.json()
    assert (report["day"], report["accounts"], report["mismatches"], report["findings"]) == (today, 1, 0, [])

    listed = api.call("GET", "/reconciliation/reports", operator, params={"from": today, "to": today})
    assert listed.status_code == 200, listed.text
    assert [i["run_id"] for i in listed.json()["items"]] == [report["run_id"]]

    for token in (localauth.mint("customer", account_id=acc), localauth.mint("partner", partner_id="partner-x")):
        assert_problem(api.call("GET", f"/reconciliation/reports/{today}", token), 403)
    assert_problem(api.call("GET", "/reconciliation/reports/1999-01-01", operator), 404)
    assert_problem(api.call("GET", "/reconciliation/reports/yesterday", operator), 422, field="day")
