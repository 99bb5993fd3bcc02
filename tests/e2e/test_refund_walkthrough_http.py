"""The README's "Walkthrough: a refund, its credit note, the month's summary and reconciliation" over real HTTP on the
local stack: a new user tops up by bank transfer, buys 5 certificates, refunds 2 of them within the window, is refused
(as a customer) a refund of an order placed 31 days ago (``python -m tools.sandbox age-order``) that an operator may
still make, gets the credit note as a PDF and as XML that passes the official EN 16931 and Peppol rules after the
month's billing run, downloads the month's summary as CSV that sums to the balance, and the reconciliation job
(``python -m tools.schedule Reconciliation``) finds nothing wrong with the account."""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.einvoice import rules
from tools import localauth
from tools.template import ROOT

from .conftest import Api, LocalServer, placed_transactions
from .test_accounts_http import assert_problem, open_account
from .test_billing_http import documents, download, run_monthly, wait_for
from .test_renewal_walkthrough_http import emails, text_of

pytestmark = pytest.mark.e2e

NET = 10_000  # EUR cents per certificate, net of the seller's 23 % VAT
# The summary's rows of money movements, between its opening and closing balance (docs/STATEMENTS.md).
MOVEMENT_ROWS = (
    "deposit_card",
    "deposit_bank_transfer",
    "reversals",
    "orders",
    "renewals",
    "refunds",
    "adjustments_credit",
    "adjustments_debit",
    "other",
)


def tool(server: LocalServer, *args: str) -> str:
    """``python -m tools.<...>`` as the README runs it, with the server's settings only; its output."""
    out = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env={**os.environ, **server.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_buy_five_refund_two_credit_note_summary_and_reconciliation(vat_server: LocalServer, operator: str) -> None:
    local_server = vat_server  # a VAT-registered seller, whose documents carry the identifiers Peppol requires
    api = Api(local_server.base)
    code = f"dv-{uuid.uuid4().hex[:6]}"
    product = {"name": "DV SSL", "term_months": 12, "prices": {"EUR": NET}}
    assert api.call("PUT", f"/catalog/products/{code}", operator, json=product).status_code == 201
    account = open_account(api, operator)
    acc = account["account_id"]
    customer = localauth.mint("customer", subject="e2e-refund", account_id=acc)
    tax = {"tax": {"country": "SK", "vat_id": "SK2020273893", "company_id": "35763469"}}  # a business with its VAT id
    assert api.call("PATCH", f"/accounts/{acc}", customer, json=tax).status_code == 200

    # a top-up by bank transfer, then 5 certificates from the balance
    transfer = {
        "transfer_id": f"tr-{uuid.uuid4().hex}",
        "amount": 100_000,
        "currency": "EUR",
        "reference": account["payment_reference"],
        "booked_date": date.today().isoformat(),
    }
    assert api.call("POST", "/bank-transfers", operator, json=transfer).status_code == 201
    order = {"order_id": "o-5", "channel": "portal", "lines": [{"product_code": code, "quantity": 5}]}
    paid = api.call("POST", f"/accounts/{acc}/orders", customer, json=order)
    assert paid.status_code == 201, paid.text
    total = paid.json()["total"]

    # refund 2 of the 5, within the window: 2/5 of the line back to the balance, once per key
    ask = {"lines": [{"line": 1, "quantity": 2}], "reason": "two domains fell through"}
    path = f"/accounts/{acc}/orders/o-5/refunds"
    refunded = api.call("POST", path, customer, json=ask, headers={"Idempotency-Key": "refund-o5-1"})
    assert refunded.status_code == 201, refunded.text
    body = refunded.json()
    line = body["lines"][0]
    assert (body["state"], line["quantity"], line["refunded"], line["refundable"]) == ("partly_refunded", 5, 2, 3)
    back = body["refunds"][0]["amount"]
    assert back == total * 2 // 5 and body["refunds"][0]["to"] == {"balance": back}
    again = api.call("POST", path, customer, json=ask, headers={"Idempotency-Key": "refund-o5-1"})
    assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true" and again.json() == body
    too_many = api.call(
        "POST", path, customer, json={"lines": [{"line": 1, "quantity": 4}]}, headers={"Idempotency-Key": "r2"}
    )
    assert_problem(too_many, 422, field="lines[0].quantity")
    balance = api.call("GET", f"/accounts/{acc}", customer).json()["balance"]
    assert balance == 100_000 - total + back

    # an order placed 31 days ago: the customer is refused with a clear problem, an operator may refund it
    old = {"order_id": "o-old", "channel": "portal", "lines": [{"product_code": code, "quantity": 1}]}
    assert api.call("POST", f"/accounts/{acc}/orders", customer, json=old).status_code == 201
    tool(local_server, "tools.sandbox", "age-order", acc, "o-old", "--days", "31")
    old_path = f"/accounts/{acc}/orders/o-old/refunds"
    one = {"lines": [{"line": 1, "quantity": 1}]}
    refused = api.call("POST", old_path, customer, json=one, headers={"Idempotency-Key": "refund-old"})
    problem = assert_problem(refused, 403, slug="refund-window-closed")
    assert "more than 30 days ago" in problem["detail"] and "only an operator" in problem["detail"]
    by_operator = api.call("POST", old_path, operator, json=one, headers={"Idempotency-Key": "refund-old-op"})
    assert by_operator.status_code == 201 and by_operator.json()["state"] == "refunded", by_operator.text

    # the refunds are in the transaction list, and the customer got an email
    entries = placed_transactions(api, customer, acc)["items"]
    assert sorted(e["amount"] for e in entries if e["type"] == "order_refund") == sorted([back, total // 5])
    outbox = Path(local_server.env["EMAIL_OUTBOX_DIR"])
    mail = wait_for("the refund email", lambda: emails(outbox, "Order o-5:"))
    assert "2 certificate(s) of order o-5" in text_of(mail[0])

    # the month's billing run (as of the 1st of the next month): the statement lists o-5, a credit note gives back 2
    month = datetime.now(UTC).strftime("%Y-%m")
    first = date.fromisoformat(f"{month}-01")
    run_monthly(local_server, acc, month, date(first.year + (first.month == 12), first.month % 12 + 1, 1).isoformat())
    statements = wait_for("the statement", lambda: documents(api, customer, acc, "statement"))
    notes = wait_for("the credit notes", lambda: documents(api, customer, acc, "credit_note"))
    note = next(n for n in notes if n["totals"]["gross"] == back)
    assert note["corrects"] in {s["number"] for s in statements}
    pdf = download(api, customer, acc, note["number"], "pdf")
    xml = download(api, customer, acc, note["number"], "xml")
    assert pdf.startswith(b"%PDF")
    assert rules.fatal_findings(xml) == [] and rules.xsd_errors(xml) == [], note["number"]
    assert b"<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>" in xml and note["corrects"].encode() in xml

    # the month's summary as CSV: opening + movements = closing = the balance
    today = datetime.now(UTC).date().isoformat()
    request = {"from": f"{month}-01", "to": today, "format": "csv", "kind": "summary"}
    posted = api.call("POST", f"/accounts/{acc}/exports", customer, json=request)
    assert posted.status_code == 202, posted.text
    status = wait_for("the export", lambda: done(api, customer, acc, posted.json()["export_id"]))
    got = api.call("GET", status["download"], customer)
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig")), delimiter=status_delimiter(status)))
    amounts = {r[0]: cents(r[3]) for r in rows[1:]}
    movements = sum(amounts[k] for k in MOVEMENT_ROWS)
    assert (amounts["refunds"], amounts["orders"]) == (back + total // 5, -(total + total // 5))
    assert amounts["opening_balance"] + movements == amounts["closing_balance"] == balance
    assert api.call("GET", f"/accounts/{acc}", customer).json()["balance"] == balance

    # the nightly reconciliation, on demand for this account: nothing found
    report: dict[str, Any] = ast.literal_eval(
        tool(local_server, "tools.schedule", "Reconciliation", "--input", json.dumps({"day": today, "account_id": acc}))
        .strip()
        .splitlines()[-1]
    )
    assert report["accounts"] == 1 and report["mismatches"] == 0, report


def done(api: Api, token: str, acc: str, export_id: str) -> dict[str, Any] | None:
    status = api.call("GET", f"/accounts/{acc}/exports/{export_id}", token).json()
    assert status["state"] != "failed", status
    return status if status["state"] == "done" else None


def status_delimiter(status: dict[str, Any]) -> str:
    return ";" if status["conventions"] == "sk" else ","


def cents(text: str) -> int:
    return int(Decimal(text.replace(",", ".")) * 100)
