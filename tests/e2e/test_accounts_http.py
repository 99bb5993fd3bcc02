"""Real HTTP against the local server: the accounts API end to end."""

from __future__ import annotations

import uuid

import pytest

from tools import localauth

from .conftest import Api, placed_transactions

pytestmark = pytest.mark.e2e

NEW_ACCOUNT = {
    "currency": "EUR",
    "company": {
        "name": "Certs & Co s.r.o.",
        "address_line1": "Hlavna 1",
        "city": "Bratislava",
        "postal_code": "81101",
        "country": "SK",
    },
    "billing_emails": ["billing@certs.test"],
}


def open_account(api: Api, token: str, **overrides: object) -> dict:
    r = api.call("POST", "/accounts", token, json={**NEW_ACCOUNT, **overrides})
    assert r.status_code == 201, r.text
    return r.json()


def assert_problem(r, status: int, field: str | None = None, slug: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    if field is not None:
        assert body["field"] == field
    if slug is not None:
        assert body["type"] == f"/problems/{slug}"
    return body


def test_open_adjust_read_balance_and_transactions(api: Api, operator: str) -> None:
    account = open_account(api, operator)
    assert account["credit_limit"] == 200000 and account["balance"] == 0
    acc = account["account_id"]

    credit = api.call(
        "POST",
        f"/accounts/{acc}/adjustments",
        operator,
        json={"type": "credit", "amount": 12_345, "reason": "bank payment received"},
        headers={"Idempotency-Key": "e2e-credit-1"},
    )
    assert credit.status_code == 201, credit.text
    assert credit.json()["entry"]["amount"] == 12_345
    debit = api.call(
        "POST",
        f"/accounts/{acc}/adjustments",
        operator,
        json={"type": "debit", "amount": 345, "reason": "manual correction"},
        headers={"Idempotency-Key": "e2e-debit-1"},
    )
    assert debit.status_code == 201 and debit.json()["entry"]["amount"] == -345

    customer = localauth.mint("customer", account_id=acc)
    got = api.call("GET", f"/accounts/{acc}", customer)
    assert got.status_code == 200
    body = got.json()
    assert (body["balance"], body["available"]) == (12_000, 212_000)

    tx = api.call("GET", f"/accounts/{acc}/transactions", customer, params={"limit": 1})
    assert tx.status_code == 200
    first = tx.json()
    assert [e["amount"] for e in first["items"]] == [-345]
    rest = api.call("GET", f"/accounts/{acc}/transactions", customer, params={"cursor": first["next_cursor"]}).json()
    assert [e["amount"] for e in rest["items"]] == [12_345] and rest["next_cursor"] is None
    typed = api.call("GET", f"/accounts/{acc}/transactions", customer, params={"type": "adjustment_credit"}).json()
    assert [e["type"] for e in typed["items"]] == ["adjustment_credit"]

    # The server's stream poller runs the ledger sequencer, which places each entry in the account's commit order
    # with the exact balance after it, shortly after the commit.
    listed = placed_transactions(api, customer, acc)["items"]
    assert [(e["seq"], e["balance_after"]) for e in listed] == [(2, 12_000), (1, 12_345)]


def test_replay_returns_first_answer_and_reuse_is_refused(api: Api, operator: str) -> None:
    acc = open_account(api, operator)["account_id"]
    req = {"type": "credit", "amount": 500, "reason": "promo credit"}
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    first = api.call("POST", f"/accounts/{acc}/adjustments", operator, json=req, headers=key)
    again = api.call("POST", f"/accounts/{acc}/adjustments", operator, json=req, headers=key)
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    other = api.call("POST", f"/accounts/{acc}/adjustments", operator, json={**req, "amount": 501}, headers=key)
    assert_problem(other, 422, field="Idempotency-Key", slug="idempotency-key-reused")
    assert api.call("GET", f"/accounts/{acc}", operator).json()["balance"] == 500


def test_foreign_account_is_404_like_a_missing_one(api: Api, operator: str) -> None:
    mine = open_account(api, operator)["account_id"]
    theirs = open_account(api, operator)["account_id"]
    customer = localauth.mint("customer", account_id=mine)
    foreign = assert_problem(api.call("GET", f"/accounts/{theirs}", customer), 404, slug="not-found")
    missing = assert_problem(api.call("GET", "/accounts/acc_doesnotexist", customer), 404, slug="not-found")
    assert foreign.keys() == missing.keys()
    assert api.call("GET", f"/accounts/{theirs}/transactions", customer).status_code == 404
    partner = localauth.mint("partner", partner_id="p-e2e")
    managed = open_account(api, partner)
    assert managed["partner_id"] == "p-e2e"
    assert api.call("GET", f"/accounts/{managed['account_id']}", partner).status_code == 200
    assert api.call("GET", f"/accounts/{mine}", partner).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW_ACCOUNT, "currency": "EURO"}, "currency"),
        ({**NEW_ACCOUNT, "company": {"city": "Nowhere"}}, "company.name"),
        ({**NEW_ACCOUNT, "billing_emails": ["not-an-email"]}, "billing_emails.0"),
        ({**NEW_ACCOUNT, "colour": "blue"}, "colour"),
    ],
)
def test_bad_bodies_get_422_naming_the_field(api: Api, operator: str, body: dict, field: str) -> None:
    assert_problem(api.call("POST", "/accounts", operator, json=body), 422, field=field, slug="validation-error")


def test_bad_adjustments_change_nothing(api: Api, operator: str) -> None:
    acc = open_account(api, operator)["account_id"]
    url = f"/accounts/{acc}/adjustments"
    assert_problem(
        api.call("POST", url, operator, json={"type": "credit", "amount": 5, "reason": "x y z"}),
        422,
        field="Idempotency-Key",
    )
    assert_problem(
        api.call(
            "POST",
            url,
            operator,
            json={"type": "credit", "amount": -5, "reason": "neg"},
            headers={"Idempotency-Key": "neg"},
        ),
        422,
        field="amount",
    )
    assert_problem(
        api.call(
            "POST",
            url,
            operator,
            json={"type": "credit", "amount": 1.5, "reason": "float"},
            headers={"Idempotency-Key": "float"},
        ),
        422,
        field="amount",
    )
    assert_problem(
        api.call(
            "POST",
            url,
            operator,
            data="{not json",
            headers={"Idempotency-Key": "junk", "content-type": "application/json"},
        ),
        422,
    )
    assert_problem(
        api.call(
            "POST",
            url,
            operator,
            json={"type": "credit", "amount": 5, "reason": "usd", "currency": "USD"},
            headers={"Idempotency-Key": "usd"},
        ),
        422,
        field="currency",
        slug="currency-mismatch",
    )
    short = assert_problem(
        api.call(
            "POST",
            url,
            operator,
            json={"type": "debit", "amount": 200_001, "reason": "too much"},
            headers={"Idempotency-Key": "big"},
        ),
        402,
        slug="insufficient-funds",
    )
    assert short["shortfall"] == 1
    customer = localauth.mint("customer", account_id=acc)
    assert_problem(
        api.call(
            "POST",
            url,
            customer,
            json={"type": "credit", "amount": 5, "reason": "self service"},
            headers={"Idempotency-Key": "self"},
        ),
        403,
        slug="forbidden",
    )
    after = api.call("GET", f"/accounts/{acc}", operator).json()
    assert after["balance"] == 0
    assert api.call("GET", f"/accounts/{acc}/transactions", operator).json()["items"] == []


def test_settings_credit_limit_and_details(api: Api, operator: str) -> None:
    acc = open_account(api, operator)["account_id"]
    customer = localauth.mint("customer", account_id=acc)
    r = api.call(
        "PUT",
        f"/accounts/{acc}/settings",
        customer,
        json={
            "bill_to_balance": True,
            "cards_enabled": False,
            "low_balance_threshold": 5_000,
        },
    )
    assert r.status_code == 200 and r.json()["settings"]["low_balance_threshold"] == 5_000
    assert_problem(
        api.call(
            "PUT",
            f"/accounts/{acc}/settings",
            customer,
            # which method pays is the payment preferences (payment methods), no longer a setting
            json={"bill_to_balance": True, "cards_enabled": False, "default_method": "card"},
        ),
        422,
    )
    assert_problem(api.call("PUT", f"/accounts/{acc}/credit-limit", customer, json={"credit_limit": 1}), 403)
    r = api.call("PUT", f"/accounts/{acc}/credit-limit", operator, json={"credit_limit": 500_000})
    assert r.status_code == 200 and r.json()["available"] == 500_000
    r = api.call("PATCH", f"/accounts/{acc}", customer, json={"company": {"city": "Kosice"}})
    assert r.status_code == 200
    assert r.json()["company"]["city"] == "Kosice" and r.json()["company"]["name"] == "Certs & Co s.r.o."


def test_auth_is_enforced_like_api_gateway(api: Api) -> None:
    assert api.call("GET", "/accounts/acc_x").status_code == 401
    assert api.call("GET", "/accounts/acc_x", "not-a-jwt").status_code == 401
    assert api.call("GET", "/openapi.json").status_code == 200
    doc = api.call("GET", "/openapi.json").json()
    assert "/accounts/{account_id}/adjustments" in doc["paths"]
