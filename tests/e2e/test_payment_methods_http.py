"""Real HTTP against the local server: a new user's two cards (default + alternate), the default made to decline
in the sandbox from the command line, and the order paid by the alternate with every attempt recorded."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from tools import localauth

from .conftest import Api, LocalServer
from .test_accounts_http import assert_problem
from .test_orders_http import PRICE, funded, place, product

pytestmark = pytest.mark.e2e
__all__ = ["product"]  # the fixture

ADDRESS = {"line1": "Hlavna 1", "city": "Bratislava", "postal_code": "81101", "country": "SK"}


def card(token: str) -> dict[str, object]:
    return {"token": token, "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2099}


def sandbox_declines(server: LocalServer, token: str, *flags: str) -> None:
    env = {**os.environ, "LOCAL_STATE_DIR": str(server.state)}
    subprocess.run([sys.executable, "-m", "tools.sandbox", "card-declines", token, *flags], env=env, check=True)


def test_the_alternate_card_pays_when_the_default_declines(
    api: Api, operator: str, product: str, local_server: LocalServer
) -> None:
    acc, customer = funded(api, operator, 0)
    base = f"/accounts/{acc}/payment-methods"
    tokens = [f"pm_e2e_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    ids = []
    for token in tokens:
        r = api.call("POST", base, customer, json={**card(token), "billing_address": ADDRESS})
        assert r.status_code == 201, r.text
        ids.append(r.json()["payment_method_id"])
    r = api.call("PUT", f"{base}/preferences", customer, json={"default": ids[0], "alternate": ids[1]})
    assert r.status_code == 200 and r.json() == {"default": ids[0], "alternate": ids[1]}, r.text
    roles = {m["payment_method_id"]: m["role"] for m in api.call("GET", base, customer).json()["items"]}
    assert roles == {"balance": None, ids[0]: "default", ids[1]: "alternate"}

    sandbox_declines(local_server, tokens[0], "--code", "card_declined")
    try:
        r = place(api, customer, acc, "alt-1", product)
        assert r.status_code == 201, r.text
        payment = r.json()["payment"]
        assert payment["method"] == "card" and payment["card"]["payment_method_id"] == ids[1]
        assert [(a["payment_method_id"], a["outcome"], a["decline_code"]) for a in payment["attempts"]] == [
            ("balance", "insufficient", None),
            (ids[0], "declined", "card_declined"),
            (ids[1], "paid", None),
        ]
        assert api.call("GET", f"/accounts/{acc}/orders/alt-1", customer).json()["payment"] == payment

        sandbox_declines(local_server, tokens[1], "--code", "expired_card")
        declined = place(api, customer, acc, "alt-2", product)
        problem = assert_problem(declined, 402)
        assert [a["decline_code"] for a in problem["attempts"]] == [None, "card_declined", "expired_card"]
    finally:
        sandbox_declines(local_server, tokens[0], "--off")
        sandbox_declines(local_server, tokens[1], "--off")
    assert place(api, customer, acc, "alt-3", product).json()["payment"]["card"]["payment_method_id"] == ids[0]


def test_update_delete_and_gift_cards(api: Api, operator: str, product: str) -> None:
    acc, customer = funded(api, operator, 0)
    base = f"/accounts/{acc}/payment-methods"
    pm = api.call("POST", base, customer, json=card(f"pm_e2e_{uuid.uuid4().hex[:10]}")).json()["payment_method_id"]
    r = api.call("PATCH", f"{base}/{pm}", customer, json={"exp_month": 6, "exp_year": 2031, "billing_address": ADDRESS})
    assert r.status_code == 200 and (r.json()["exp_month"], r.json()["exp_year"]) == (6, 2031), r.text
    assert api.call("DELETE", f"{base}/{pm}", customer).status_code == 204
    assert_problem(api.call("DELETE", f"{base}/{pm}", customer), 404)

    assert_problem(api.call("POST", "/gift-cards", customer, json={"amount": PRICE, "currency": "EUR"}), 403)
    gift = api.call("POST", "/gift-cards", operator, json={"amount": PRICE + 100, "currency": "EUR"})
    assert gift.status_code == 201, gift.text
    added = api.call("POST", base, customer, json={"type": "gift_card", "code": gift.json()["code"]})
    assert added.status_code == 201, added.text
    gid = added.json()["payment_method_id"]
    api.call("PUT", f"{base}/preferences", customer, json={"default": gid})
    r = place(api, customer, acc, "gift-1", product)
    assert r.status_code == 201 and r.json()["payment"]["gift_card"]["remaining"] == 100, r.text
    assert_problem(place(api, customer, acc, "gift-2", product), 402)
    other = localauth.mint("customer", account_id=funded(api, operator, 0)[0])
    assert_problem(api.call("GET", base, other), 404)
