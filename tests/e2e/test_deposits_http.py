"""Real HTTP against the local server with the sandbox provider: card and bank-transfer top-ups end to end."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest

from tools import localauth, sandbox
from tools.template import ROOT

from .conftest import Api
from .test_accounts_http import assert_problem, open_account

pytestmark = pytest.mark.e2e


def customer(account: dict[str, Any]) -> str:
    return localauth.mint("customer", account_id=account["account_id"])


def top_up(api: Api, token: str, account_id: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.call(
        "POST",
        f"/accounts/{account_id}/deposits",
        token,
        json=body,
        headers={"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def balance(api: Api, token: str, account_id: str) -> int:
    return int(api.call("GET", f"/accounts/{account_id}", token).json()["balance"])


def test_card_top_up_credited_once_by_the_signed_webhook(api: Api, operator: str) -> None:
    account = open_account(api, operator)
    acc, token = account["account_id"], customer(account)
    dep = top_up(api, token, acc, {"method": "card", "amount": 25_000})
    assert dep["state"] == "pending" and dep["checkout"]["client_secret"]
    assert balance(api, token, acc) == 0

    event = sandbox.card_event(dep, "pay")
    status, ack = sandbox.deliver_card_event(api.base, event)
    assert (status, ack["outcome"]) == (200, "credited")
    for _ in range(3):  # the provider retries: nothing changes
        assert sandbox.deliver_card_event(api.base, event)[1]["outcome"] == "duplicate"
    assert balance(api, token, acc) == 25_000
    got = api.call("GET", f"/accounts/{acc}/deposits/{dep['deposit_id']}", token).json()
    assert (got["state"], got["credited_amount"]) == ("credited", 25_000)
    tx = api.call("GET", f"/accounts/{acc}/transactions", token).json()["items"]
    assert [(e["type"], e["amount"]) for e in tx] == [("deposit_card", 25_000)]

    status, ack = sandbox.deliver_card_event(api.base, sandbox.card_event(dep, "refund", 10_000))
    assert (status, ack["outcome"]) == (200, "reversed")
    assert sandbox.deliver_card_event(api.base, event)[1]["outcome"] == "duplicate"
    assert balance(api, token, acc) == 15_000
    listed = api.call("GET", f"/accounts/{acc}/deposits", token).json()
    assert listed["items"][0]["state"] == "partially_reversed"
    assert listed["flags"][0]["amount"] == 10_000


def test_sandbox_command_completes_or_fails_a_checkout(api: Api, operator: str) -> None:
    """The README's command: python -m tools.sandbox pay ACCOUNT DEPOSIT [--fail]."""
    account = open_account(api, operator)
    acc, token = account["account_id"], customer(account)
    paid = top_up(api, token, acc, {"method": "card", "amount": 1_500})
    failed = top_up(api, token, acc, {"method": "card", "amount": 2_000})

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tools.sandbox", "--base", api.base, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = cli("pay", acc, paid["deposit_id"])
    assert done.returncode == 0, done.stderr
    assert "payment_intent.succeeded" in done.stdout and '"outcome": "credited"' in done.stdout
    declined = cli("pay", acc, failed["deposit_id"], "--fail")
    assert declined.returncode == 0, declined.stderr
    states = {d["deposit_id"]: d["state"] for d in api.call("GET", f"/accounts/{acc}/deposits", token).json()["items"]}
    assert states == {paid["deposit_id"]: "credited", failed["deposit_id"]: "failed"}
    assert balance(api, token, acc) == 1_500


def test_bank_transfer_top_up_with_a_proforma(api: Api, operator: str) -> None:
    account = open_account(api, operator)
    acc, token, ref = account["account_id"], customer(account), account["payment_reference"]
    assert ref and len(ref) == 10
    dep = top_up(api, token, acc, {"method": "bank_transfer", "amount": 50_000})
    pf = dep["proforma"]
    assert pf["number"].startswith("PF-") and pf["payment_reference"] == ref and pf["status"] == "unpaid"
    assert pf["seller"]["iban"] and pf["amount"] == 50_000

    first = sandbox.bank_transfer(ref, 20_000, "EUR")
    status, ack = sandbox.deliver_bank_transfer(api.base, first)
    assert (status, ack["outcome"], ack["deposit_id"]) == (200, "credited", dep["deposit_id"])
    assert sandbox.deliver_bank_transfer(api.base, first)[1]["outcome"] == "duplicate"
    got = api.call("GET", f"/accounts/{acc}/deposits/{dep['deposit_id']}", token).json()
    assert (got["state"], got["proforma"]["status"], got["proforma"]["paid_amount"]) == (
        "partly_paid",
        "partly_paid",
        20_000,
    )
    sandbox.deliver_bank_transfer(api.base, sandbox.bank_transfer(ref, 30_000, "EUR"))
    got = api.call("GET", f"/accounts/{acc}/deposits/{dep['deposit_id']}", token).json()
    assert (got["state"], got["proforma"]["status"], len(got["transfers"])) == ("credited", "paid", 2)
    assert balance(api, token, acc) == 50_000
    tx = api.call("GET", f"/accounts/{acc}/transactions", token, params={"type": "deposit_bank_transfer"}).json()
    assert sorted(e["amount"] for e in tx["items"]) == [20_000, 30_000]


def test_unmatched_transfer_is_kept_and_assigned_by_an_operator(api: Api, operator: str) -> None:
    account = open_account(api, operator)
    acc, token = account["account_id"], customer(account)
    transfer = sandbox.bank_transfer("1111111111", 12_345, "EUR", payer="Someone Unknown")
    status, ack = sandbox.deliver_bank_transfer(api.base, transfer)
    assert (status, ack["outcome"]) == (200, "suspense")
    assert balance(api, token, acc) == 0

    assert_problem(api.call("GET", "/bank-transfers/suspense", token), 403, slug="forbidden")
    open_items = api.call("GET", "/bank-transfers/suspense", operator).json()["items"]
    mine = next(i for i in open_items if i["transfer_id"] == transfer["transfer_id"])
    assert (mine["state"], mine["transfer"]["payer_name"]) == ("open", "Someone Unknown")

    path = f"/bank-transfers/suspense/{transfer['transfer_id']}/assign"
    headers = {"Idempotency-Key": f"assign-{uuid.uuid4().hex}"}
    assigned = api.call("POST", path, operator, json={"account_id": acc}, headers=headers)
    assert assigned.status_code == 201, assigned.text
    replay = api.call("POST", path, operator, json={"account_id": acc}, headers=headers)
    assert replay.json() == assigned.json() and replay.headers.get("idempotent-replayed") == "true"
    again = api.call("POST", path, operator, json={"account_id": acc}, headers={"Idempotency-Key": "other"})
    assert_problem(again, 409)
    assert sandbox.deliver_bank_transfer(api.base, transfer)[1]["outcome"] == "duplicate"
    assert balance(api, token, acc) == 12_345
    deposit = api.call("GET", f"/accounts/{acc}/deposits/{assigned.json()['deposit_id']}", token).json()
    assert (deposit["method"], deposit["state"], deposit["credited_amount"]) == ("bank_transfer", "credited", 12_345)


@pytest.mark.parametrize("skew", [-400, 400])
def test_stale_or_future_signatures_and_wrong_ones_are_400_and_change_nothing(
    api: Api, operator: str, skew: int
) -> None:
    account = open_account(api, operator)
    acc, token = account["account_id"], customer(account)
    dep = top_up(api, token, acc, {"method": "card", "amount": 3_000})
    event = sandbox.card_event(dep, "pay")
    status, body = sandbox.deliver_card_event(api.base, event, timestamp=int(time.time()) + skew)
    assert status == 400 and body["type"] == "/problems/invalid-signature"
    payload = json.dumps(event).encode()
    forged = api.call(
        "POST",
        "/webhooks/sandbox",
        data=payload,
        headers={"Stripe-Signature": f"t={int(time.time())},v1={'0' * 64}", "Content-Type": "application/json"},
    )
    assert_problem(forged, 400, slug="invalid-signature")
    assert_problem(api.call("POST", "/webhooks/sandbox", data=payload), 400, slug="invalid-signature")
    assert balance(api, token, acc) == 0
    # The genuine delivery still works afterwards: nothing was recorded for the refused ones.
    assert sandbox.deliver_card_event(api.base, event)[1]["outcome"] == "credited"


def test_openapi_lists_the_deposit_routes(api: Api) -> None:
    paths = api.call("GET", "/openapi.json").json()["paths"]
    for path in (
        "/accounts/{account_id}/deposits",
        "/accounts/{account_id}/deposits/{deposit_id}",
        "/webhooks/{provider}",
        "/bank-transfers",
        "/bank-transfers/suspense",
        "/bank-transfers/suspense/{transfer_id}/assign",
        "/bank-transfers/suspense/{transfer_id}/return",
    ):
        assert path in paths, path
