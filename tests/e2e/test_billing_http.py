"""Billing documents over real HTTP on the local stack, as the README walks through it: a VAT-registered seller,
a customer tops up by bank transfer, orders from the balance and on credit; the tax document appears by itself
(the documents function on the stream), the monthly job issues the statement and the credit invoice; every one
downloads as a PDF and as UBL XML that passes the official EN 16931 and Peppol rules, and its email carries the
PDF."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from tests.einvoice import rules
from tools import localauth
from tools.template import ROOT

from .conftest import Api, LocalServer
from .test_accounts_http import assert_problem

NET = 10_000


def wait_for(what: str, check, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.3)


def documents(api: Api, token: str, acc: str, kind: str) -> list[dict]:
    r = api.call("GET", f"/accounts/{acc}/documents", token, params={"type": kind})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def download(api: Api, token: str, acc: str, number: str, fmt: str) -> bytes:
    def ready() -> bytes | None:
        r = api.call("GET", f"/accounts/{acc}/documents/{number}/{fmt}", token)
        return r.content if r.status_code == 200 else None

    return bytes(wait_for(f"the {fmt} of {number}", ready))


def run_monthly(server: LocalServer, acc: str, month: str, today: str) -> dict:
    env = {**os.environ, **server.env}
    payload = json.dumps({"run": "monthly", "month": month, "account_id": acc, "today": today})
    out = subprocess.run(
        [sys.executable, "-m", "tools.schedule", "MonthlyBilling", "--input", payload],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return {"stdout": out.stdout}


def test_top_up_order_monthly_run_and_every_document_as_pdf_and_valid_xml(vat_server: LocalServer) -> None:
    api = Api(vat_server.base)
    op = localauth.mint("operator", subject="e2e-billing")
    code = f"ov-{uuid.uuid4().hex[:6]}"
    assert (
        api.call(
            "PUT",
            f"/catalog/products/{code}",
            op,
            json={"name": "OV SSL certifikát", "term_months": 12, "prices": {"EUR": NET}},
        ).status_code
        == 201
    )
    opened = api.call(
        "POST",
        "/accounts",
        op,
        json={
            "currency": "EUR",
            "company": {
                "name": "Žltá ťava s.r.o.",
                "address_line1": "Hlavná 5",
                "city": "Košice",
                "postal_code": "04001",
                "country": "SK",
            },
            "billing_emails": ["uctaren@zlta-tava.test"],
            "language": "sk",
        },
    )
    assert opened.status_code == 201, opened.text
    acc = opened.json()["account_id"]
    token = localauth.mint("customer", subject="e2e-billing-customer", account_id=acc)

    # the buyer's tax data: a wrong VAT number is refused naming the field, a valid one is kept compact
    bad = api.call("PATCH", f"/accounts/{acc}", token, json={"tax": {"country": "SK", "vat_id": "SK2020273894"}})
    assert_problem(bad, 422, field="tax.vat_id")
    ok = api.call(
        "PATCH",
        f"/accounts/{acc}",
        token,
        json={"tax": {"country": "SK", "vat_id": "sk 2020 273 893", "company_id": "35763469"}},
    )
    assert ok.status_code == 200 and ok.json()["tax"]["vat_id"] == "SK2020273893", ok.text
    api.call("PUT", f"/accounts/{acc}/credit-limit", op, json={"credit_limit": 100_000})

    # a bank top-up (the operator records the statement line) -> a tax document, issued by the stream
    reference = api.call("GET", f"/accounts/{acc}", token).json()["payment_reference"]
    transfer = {
        "transfer_id": f"tr-{uuid.uuid4().hex}",
        "amount": 20_000,
        "currency": "EUR",
        "reference": reference,
        "booked_date": date.today().isoformat(),
    }
    recorded = api.call("POST", "/bank-transfers", op, json=transfer)
    assert recorded.status_code == 201, recorded.text
    (tax_doc,) = wait_for("the tax document", lambda: documents(api, token, acc, "tax_document"))
    assert (tax_doc["type_code"], tax_doc["totals"]) == (
        "386",
        {"net": 16_260, "vat": 3_740, "gross": 20_000, "prepaid": 20_000, "payable": 0},
    )

    # an order from the balance, one on credit: net + 23 % VAT
    for order_id, credit in (("o-1", False), ("o-2", True)):
        body = {
            "order_id": order_id,
            "channel": "api",
            "lines": [{"product_code": code, "quantity": 1}],
            "may_use_credit": credit,
        }
        r = api.call("POST", f"/accounts/{acc}/orders", token, json=body, headers={"Idempotency-Key": order_id})
        assert r.status_code == 201, r.text
        assert (r.json()["net"], r.json()["vat"], r.json()["total"]) == (NET, 2_300, 12_300)

    # the monthly job for this month, as of the 1st of the next
    month = datetime.now(UTC).strftime("%Y-%m")
    first = date.fromisoformat(f"{month}-01")
    run_monthly(vat_server, acc, month, date(first.year + (first.month == 12), first.month % 12 + 1, 1).isoformat())
    (statement,) = wait_for("the statement", lambda: documents(api, token, acc, "statement"))
    (invoice,) = documents(api, token, acc, "credit_invoice")
    assert (statement["totals"]["gross"], statement["totals"]["payable"], statement["status"]) == (20_000, 0, "paid")
    assert (invoice["totals"]["gross"], invoice["totals"]["payable"], invoice["status"]) == (4_600, 4_600, "due")

    detail = api.call("GET", f"/accounts/{acc}/documents/{statement['number']}", token).json()
    assert [(x["order_id"], x["gross"]) for x in detail["lines"]] == [("o-1", 12_300), ("o-2", 7_700)]
    assert detail["vat_breakdown"][0]["category"] == "S" and detail["buyer"]["vat_id"] == "SK2020273893"
    transactions = api.call("GET", f"/accounts/{acc}/transactions", token).json()["items"]
    assert any(statement["number"] in e["documents"] for e in transactions)

    for doc in (tax_doc, statement, invoice):
        pdf = download(api, token, acc, doc["number"], "pdf")
        xml = download(api, token, acc, doc["number"], "xml")
        assert pdf.startswith(b"%PDF")
        assert rules.fatal_findings(xml) == [], doc["number"]
        assert rules.xsd_errors(xml) == [], doc["number"]

    # invoices between two Peppol addresses are handed over for delivery (locally: a folder per receiver)
    handed = Path(vat_server.env["LOCAL_STATE_DIR"]) / "peppol-outbox" / "9950_SK2020273893"
    assert {f"{d['number']}.xml" for d in (tax_doc, statement, invoice)} <= {p.name for p in handed.glob("*.xml")}

    # the email of each document carries its PDF
    outbox = Path(vat_server.env["EMAIL_OUTBOX_DIR"])

    def mailed() -> list[str]:
        names = []
        for path in outbox.glob("document.stored-*.eml"):
            msg = email.message_from_bytes(path.read_bytes())
            names += [p.get_filename() for p in msg.walk() if p.get_content_type() == "application/pdf"]
        return names if len(names) >= 3 else []

    assert {tax_doc["number"] + ".pdf", statement["number"] + ".pdf", invoice["number"] + ".pdf"} <= set(
        wait_for("the emails", mailed)
    )

    # a rerun issues nothing twice
    run_monthly(vat_server, acc, month, date(first.year + (first.month == 12), first.month % 12 + 1, 2).isoformat())
    assert len(documents(api, token, acc, "statement")) == 1 and len(documents(api, token, acc, "credit_invoice")) == 1


def run_schedule(server: LocalServer, name: str, payload: dict) -> None:
    env = {**os.environ, **server.env}
    out = subprocess.run(
        [sys.executable, "-m", "tools.schedule", name, "--input", json.dumps(payload)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_purchase_order_is_approved_paid_in_two_transfers_and_an_unpaid_one_is_reminded(
    vat_server: LocalServer,
) -> None:
    from tools import sandbox

    api = Api(vat_server.base)
    op = localauth.mint("operator", subject="e2e-po-operator")
    opened = api.call(
        "POST",
        "/accounts",
        op,
        json={
            "currency": "EUR",
            "company": {"name": "PO Buyer s.r.o.", "country": "SK"},
            "billing_emails": ["ap@po.test"],
        },
    )
    acc = opened.json()["account_id"]
    token = localauth.mint("customer", subject="e2e-po-customer", account_id=acc)
    api.call("PATCH", f"/accounts/{acc}", token, json={"tax": {"country": "SK", "vat_id": "SK2020273893"}})

    body = {"po_number": "PO-2026-17", "amount": 50_000, "note": "certificates for Q1"}
    submitted = api.call(
        "POST", f"/accounts/{acc}/purchase-orders", token, json=body, headers={"Idempotency-Key": "po-1"}
    )
    assert submitted.status_code == 201, submitted.text
    po_id = submitted.json()["po_id"]
    again = api.call("POST", f"/accounts/{acc}/purchase-orders", token, json=body, headers={"Idempotency-Key": "po-2"})
    assert_problem(again, 409, field="po_number")
    queue = api.call("GET", "/purchase-orders", op, params={"state": "submitted"}).json()["items"]
    assert po_id in {x["po_id"] for x in queue}
    assert_problem(api.call("POST", f"/accounts/{acc}/purchase-orders/{po_id}/approve", token), 403)

    approved = api.call("POST", f"/accounts/{acc}/purchase-orders/{po_id}/approve", op)
    assert approved.status_code == 200, approved.text
    invoice = approved.json()["invoice_number"]
    assert approved.json()["status"] in ("unpaid", "overdue") and approved.json()["paid"] == 0
    assert api.call("GET", f"/accounts/{acc}", token).json()["balance"] == 0  # nothing credited at approval
    xml = download(api, token, acc, invoice, "xml")  # a 386 with the customer's PO number, for Peppol
    assert rules.fatal_findings(xml) == [] and b"PO-2026-17" in xml

    reference = api.call("GET", f"/accounts/{acc}", token).json()["payment_reference"]
    sandbox.deliver_bank_transfer(vat_server.base, sandbox.bank_transfer(reference, 20_000, "EUR"))
    assert api.call("GET", f"/accounts/{acc}", token).json()["balance"] == 20_000
    partly = api.call("GET", f"/accounts/{acc}/purchase-orders/{po_id}", token).json()
    assert (partly["paid"], partly["outstanding"]) == (20_000, 30_000) and partly["status"] in (
        "partly_paid",
        "overdue",
    )
    # the second pays by quoting the invoice number only
    sandbox.deliver_bank_transfer(
        vat_server.base, sandbox.bank_transfer(None, 30_000, "EUR", message=f"invoice {invoice}")
    )
    paid = api.call("GET", f"/accounts/{acc}/purchase-orders/{po_id}", token).json()
    assert (paid["status"], paid["paid"], len(paid["payments"])) == ("paid", 50_000, 2)
    assert api.call("GET", f"/accounts/{acc}", token).json()["balance"] == 50_000

    # an approved order nobody pays is reminded when the daily run comes (its invoice is due at once here)
    other = api.call(
        "POST",
        f"/accounts/{acc}/purchase-orders",
        token,
        json={"po_number": "PO-2026-18", "amount": 9_900},
        headers={"Idempotency-Key": "po-3"},
    ).json()
    api.call("POST", f"/accounts/{acc}/purchase-orders/{other['po_id']}/approve", op)
    run_schedule(vat_server, "OverdueScan", {"run": "overdue"})
    outbox = Path(vat_server.env["EMAIL_OUTBOX_DIR"])

    def subjects() -> list[str]:
        return [email.message_from_bytes(p.read_bytes())["Subject"] for p in outbox.glob("*.eml")]

    wait_for("the reminder", lambda: [s for s in subjects() if "PO-2026-18" in s and "overdue" in s])
    assert any("PO-2026-17" in s and "approved" in s for s in subjects())  # with the invoice attached
    assert any("PO-2026-17" in s and "submitted" in s for s in subjects())  # to the operators
