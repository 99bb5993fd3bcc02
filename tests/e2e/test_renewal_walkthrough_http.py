"""The README's "Walkthrough: cards, a subscription and its renewal" over real HTTP on the local stack: a new user adds
two cards (default + alternate), creates a backdated subscription and sees the prorated charge, adds inventory
mid-term, makes the default card decline in the sandbox (``python -m tools.sandbox card-declines``), runs the
renewal schedule (``python -m tools.schedule RenewalRun``, a process of its own that must see the same sandbox
cards file as the server) and sees the renewal paid by the alternate, with its email in the outbox - once, however
often the schedule runs."""

from __future__ import annotations

import ast
import email
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from account_credit.kernel.proration import prorate
from tools import localauth
from tools.template import ROOT

from .conftest import Api, LocalServer
from .test_accounts_http import open_account
from .test_billing_http import wait_for

pytestmark = pytest.mark.e2e

PRICE = 12_000  # EUR cents, one year


def sandbox_declines(server: LocalServer, token: str, *flags: str) -> None:
    """``python -m tools.sandbox card-declines`` as the README runs it, in the server's state directory."""
    env = {**os.environ, "LOCAL_STATE_DIR": str(server.state)}
    subprocess.run([sys.executable, "-m", "tools.sandbox", "card-declines", token, *flags], env=env, check=True)


def renewal_run(server: LocalServer, today: str, account_id: str) -> dict[str, Any]:
    """``python -m tools.schedule RenewalRun --input ...`` in a process of its own, with the server's settings only
    (LOCAL_STATE_DIR, the table, DynamoDB): what it prints last is the run's report."""
    payload = json.dumps({"today": today, "account_id": account_id})
    out = subprocess.run(
        [sys.executable, "-m", "tools.schedule", "RenewalRun", "--input", payload],
        cwd=ROOT,
        env={**os.environ, **server.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    report: dict[str, Any] = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    return report


def emails(outbox: Path, subject_part: str) -> list[EmailMessage]:
    """The outbox's emails whose subject (unfolded) contains ``subject_part``."""
    found = []
    for path in outbox.glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        if subject_part in str(msg["Subject"]):
            found.append(msg)
    return found


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None, "no text part"
    return str(part.get_content())


def test_cards_a_backdated_subscription_and_its_renewal_paid_by_the_alternate(
    api: Api, operator: str, local_server: LocalServer
) -> None:
    # an operator puts a 12-month product and opens the account; the customer signs in
    code = f"walk-ov-1y-{uuid.uuid4().hex[:6]}"
    r = api.call(
        "PUT",
        f"/catalog/products/{code}",
        operator,
        json={"name": "OV SSL", "term_months": 12, "prices": {"EUR": PRICE}},
    )
    assert r.status_code == 201, r.text
    acc = open_account(api, operator)["account_id"]
    customer = localauth.mint("customer", account_id=acc)

    # two cards; the customer makes card A the default and card B the alternate (the balance stays at 0: the
    # subscription names no method, so the default pays, then the alternate)
    base = f"/accounts/{acc}/payment-methods"
    token_a, token_b = (f"pm_walk_{uuid.uuid4().hex[:10]}" for _ in range(2))
    card_a = api.call(
        "POST",
        base,
        customer,
        json={"token": token_a, "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2099},
    )
    card_b = api.call(
        "POST",
        base,
        customer,
        json={
            "type": "card",
            "token": token_b,
            "brand": "mastercard",
            "last4": "4444",
            "exp_month": 6,
            "exp_year": 2099,
        },
    )
    assert card_a.status_code == card_b.status_code == 201, card_a.text + card_b.text
    pm_a, pm_b = card_a.json()["payment_method_id"], card_b.json()["payment_method_id"]
    prefs = api.call("PUT", f"{base}/preferences", customer, json={"default": pm_a, "alternate": pm_b})
    assert prefs.status_code == 200 and prefs.json() == {"default": pm_a, "alternate": pm_b}, prefs.text

    # a subscription backdated 60 days: its first order is the prorated rest of the term, paid by the default card
    today = datetime.now(UTC).date()
    start = today - timedelta(days=60)
    subs = f"/accounts/{acc}/subscriptions"
    created = api.call(
        "POST",
        subs,
        customer,
        json={"term_months": 12, "lines": [{"product_code": code, "quantity": 2}], "start_date": start.isoformat()},
        headers={"Idempotency-Key": "walk-sub-1"},
    )
    assert created.status_code == 201, created.text
    sub = created.json()
    sid = sub["subscription_id"]
    expected = prorate(2 * PRICE, start, 12, today)
    assert (sub["term"], sub["renewal_date"], sub["payment_method_id"]) == (1, expected.term_end.isoformat(), None)
    first = api.call("GET", f"/accounts/{acc}/orders/{sub['orders'][0]}", customer).json()
    assert first["net"] == expected.amount < 2 * PRICE
    assert first["payment"]["method"] == "card" and first["payment"]["card"]["payment_method_id"] == pm_a

    # inventory added mid-term: charged for the rest of the term from today
    added = api.call(
        "POST",
        f"{subs}/{sid}/inventory",
        customer,
        json={"lines": [{"product_code": code, "quantity": 1}]},
        headers={"Idempotency-Key": "walk-inv-1"},
    )
    assert added.status_code == 201, added.text
    assert added.json()["subscription"]["inventory"] == [{"product_code": code, "quantity": 3}]
    inv_order = api.call("GET", f"/accounts/{acc}/orders/{added.json()['order_id']}", customer).json()
    assert inv_order["net"] == prorate(PRICE, start, 12, today).amount
    assert inv_order["payment"]["card"]["payment_method_id"] == pm_a
    assert api.call("GET", f"/accounts/{acc}", customer).json()["balance"] == 0  # the cards paid, not the balance
    # added inventory is this term's; the next term renews the renewal inventory (2) unless it is changed too
    assert added.json()["subscription"]["renewal_inventory"] == [{"product_code": code, "quantity": 2}]
    changed = api.call(
        "PATCH", f"{subs}/{sid}", customer, json={"renewal_items": [{"product_code": code, "quantity": 3}]}
    )
    assert changed.status_code == 200 and changed.json()["renewal_inventory"] == [{"product_code": code, "quantity": 3}]

    # the default card declines from now on; the renewal run on the renewal date pays with the alternate
    renewal_date = expected.term_end.isoformat()
    sandbox_declines(local_server, token_a, "--code", "card_declined")
    try:
        report = renewal_run(local_server, renewal_date, acc)
        assert report["renewed"] == [f"{sid}#2"] and report["paid_with_alternate"] == [f"{sid}#2"], report
        assert report["errors"] == [] and report["failed"] == [], report

        renewed = api.call("GET", f"{subs}/{sid}", customer).json()
        assert (renewed["state"], renewed["term"], renewed["term_start"]) == ("active", 2, renewal_date)
        assert renewed["inventory"] == [{"product_code": code, "quantity": 3}]
        renewal_id = f"renewal-{sid}-2"
        assert renewed["orders"][-1] == renewal_id and len(renewed["orders"]) == 3
        order = api.call("GET", f"/accounts/{acc}/orders/{renewal_id}", customer).json()
        # the whole term's catalog price of the renewal inventory
        assert order["channel"] == "renewal" and order["net"] == 3 * PRICE
        payment = order["payment"]
        assert payment["method"] == "card" and payment["card"]["payment_method_id"] == pm_b
        assert [(a["payment_method_id"], a["outcome"], a["decline_code"]) for a in payment["attempts"]] == [
            (pm_a, "declined", "card_declined"),
            (pm_b, "paid", None),
        ]

        # the email, from the notify stream a moment later
        outbox = Path(local_server.env["EMAIL_OUTBOX_DIR"])
        subject = f"Subscription {sid} renewed with your alternate payment method"
        mailed = wait_for("the renewal email", lambda: emails(outbox, subject))
        body = text_of(mailed[0])
        assert "card_declined" in body and "mastercard ending 4444" in body and renewal_id in body, body

        # the schedule again (the same day, and the next): nothing is charged or mailed twice
        for day in (renewal_date, (expected.term_end + timedelta(days=1)).isoformat()):
            again = renewal_run(local_server, day, acc)
            assert again["renewed"] == [] and again["paid_with_alternate"] == [] and again["errors"] == [], again
        after = api.call("GET", f"{subs}/{sid}", customer).json()
        assert (after["term"], after["orders"]) == (2, renewed["orders"])
        assert api.call("GET", f"/accounts/{acc}/orders/{renewal_id}", customer).json()["payment"] == payment
        assert len(emails(outbox, subject)) == 1
        assert not emails(outbox, f"Subscription {sid} renewed:")  # no "renewed" email next to the alternate one
    finally:
        sandbox_declines(local_server, token_a, "--off")
