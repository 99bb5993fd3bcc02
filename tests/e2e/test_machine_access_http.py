"""Real HTTP against the local server: an ordering system's client, made by the command, orders on credit.

The command (``python -m tools.ordering_client create``) runs as its own process against the server's table, as a
developer runs it against ``make run``; the token is what Cognito's client-credentials grant issues (no ``aud``,
``client_id`` + ``scope``), signed by the local key the server verifies.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

import pytest

from tools import localauth
from tools.template import ROOT

from .conftest import Api, LocalServer
from .test_accounts_http import assert_problem, open_account

pytestmark = pytest.mark.e2e


def create_client(server: LocalServer, account_id: str, *scope: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "tools.ordering_client", "create", "--name", "SSLmarket shop", "--account", account_id]
        + (["--scope", *scope] if scope else []),
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    found = re.search(r"^client_id:\s+(\S+)$", out.stdout, re.MULTILINE)
    assert found, out.stdout
    assert f"make token ROLE=client CLIENT={found.group(1)}" in out.stdout
    return found.group(1)


def test_an_ordering_system_places_an_order_paid_from_credit(
    api: Api, operator: str, local_server: LocalServer
) -> None:
    code = f"dv-ssl-1y-{uuid.uuid4().hex[:6]}"
    r = api.call(
        "PUT",
        f"/catalog/products/{code}",
        operator,
        json={"name": "DV SSL", "term_months": 12, "prices": {"EUR": 4_000, "USD": 4_500}},
    )
    assert r.status_code == 201, r.text
    acc = open_account(api, operator)["account_id"]
    other = open_account(api, operator)["account_id"]
    token = localauth.mint_client(create_client(local_server, acc))

    order = {"order_id": "shop-1001", "channel": "api", "lines": [{"product_code": code, "quantity": 1}]}
    paid = api.call("POST", f"/accounts/{acc}/orders", token, json={**order, "may_use_credit": True})
    assert paid.status_code == 201, paid.text
    assert paid.json()["payment"]["method"] == "credit" and paid.json()["actor"].startswith("client:local-")
    account = api.call("GET", f"/accounts/{acc}", token)
    assert account.status_code == 200 and account.json()["balance"] == -4_000
    assert api.call("GET", f"/accounts/{acc}/orders/shop-1001", token).json()["state"] == "paid"

    free_money = {"type": "credit", "amount": 4_000, "reason": "nice try"}
    adjust = api.call("POST", f"/accounts/{acc}/adjustments", token, json=free_money, headers={"Idempotency-Key": "a"})
    assert_problem(adjust, 403, slug="forbidden")
    assert_problem(api.call("GET", f"/accounts/{other}", token), 404, slug="not-found")
    assert api.call("GET", f"/accounts/{acc}", operator).json()["balance"] == -4_000

    reader = localauth.mint_client(create_client(local_server, acc, "read"), "account-credit/read")
    assert api.call("GET", f"/accounts/{acc}/orders", reader).status_code == 200
    again = api.call("POST", f"/accounts/{acc}/orders", reader, json={**order, "order_id": "shop-1002"})
    assert_problem(again, 403, slug="forbidden")
    stranger = api.call("GET", f"/accounts/{acc}", localauth.mint_client("local-unknown-0000"))
    assert_problem(stranger, 403, slug="forbidden")
