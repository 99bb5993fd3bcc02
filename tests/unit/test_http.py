"""The accounts Lambda end to end in-process: API Gateway HTTP API v2 events in, problem+json out."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from _support import Api, HttpResult, api_event, customer_claims, load_event, operator_claims, partner_claims

from account_credit import openapi
from account_credit.accounts.router import router as accounts_router
from account_credit.platform.store.memory import MemoryStore

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

PROBLEM = "application/problem+json"
NEW_ACCOUNT = {
    "currency": "USD",
    "company": {"name": "Acme Certificates Ltd", "city": "Leeds", "country": "GB"},
    "billing_emails": ["billing@acme.test"],
}
MISSING_ID = "acc_00000000000000000000000000"


def open_account(api: Api, body: dict[str, Any] | None = None, claims: dict[str, Any] | None = None) -> dict:
    res = api.request("POST", "/accounts", body=body or NEW_ACCOUNT, **({"claims": claims} if claims else {}))
    assert res.status == 201, res.raw_body
    return res.json


def adjust(api: Api, account_id: str, body: dict[str, Any], key: str | None, **kw: Any) -> HttpResult:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.request("POST", f"/accounts/{account_id}/adjustments", body=body, headers=headers, **kw)


def stored() -> dict:
    """Everything the in-memory store of the handler holds (to prove that a refused request wrote nothing)."""
    from account_credit.platform.http import resolver

    store = resolver.store()
    assert isinstance(store, MemoryStore)
    with store.lock:
        return copy.deepcopy(store.items)


def assert_problem(res: HttpResult, status: int, slug: str) -> dict:
    assert res.status == status, res.raw_body
    assert res.content_type == PROBLEM
    body = res.json
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# --------------------------------------------------------------------------- open and read


def test_open_account_201_and_read_it_back(api: Api) -> None:
    res = api.request("POST", "/accounts", body=NEW_ACCOUNT)
    assert res.status == 201
    assert res.content_type == "application/json"
    created = res.json
    assert created["currency"] == "USD"
    assert created["company"]["name"] == "Acme Certificates Ltd"
    assert created["billing_emails"] == ["billing@acme.test"]
    assert created["balance"] == 0
    assert created["credit_limit"] == 200_000
    assert created["available"] == 200_000
    assert created["partner_id"] is None

    got = api.request("GET", f"/accounts/{created['account_id']}")
    assert got.status == 200
    assert got.json == created


@pytest.mark.parametrize("named", [None, "someone-else", "partner-a"])
def test_partner_opens_for_itself_whatever_the_body_says(api: Api, named: str | None) -> None:
    created = open_account(api, {**NEW_ACCOUNT, "partner_id": named}, claims=partner_claims("partner-a"))
    assert created["partner_id"] == "partner-a"
    mine = api.request("GET", f"/accounts/{created['account_id']}", claims=partner_claims("partner-a"))
    assert mine.status == 200
    for other in ("someone-else", "partner-b"):
        theirs = api.request("GET", f"/accounts/{created['account_id']}", claims=partner_claims(other))
        assert_problem(theirs, 404, "not-found")


def test_an_operator_opens_an_account_for_any_partner_or_none(api: Api) -> None:
    assert open_account(api, {**NEW_ACCOUNT, "partner_id": "partner-x"})["partner_id"] == "partner-x"
    assert open_account(api)["partner_id"] is None


def test_customer_may_not_open_an_account(api: Api) -> None:
    own = open_account(api)
    before = stored()
    res = api.request("POST", "/accounts", body=NEW_ACCOUNT, claims=customer_claims(own["account_id"]))
    body = assert_problem(res, 403, "forbidden")
    assert body["detail"] == "only an operator or a partner may open accounts"
    assert stored() == before


# --------------------------------------------------------------------------- validation -> 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW_ACCOUNT, "currency": "XYZ"}, "currency"),
        ({**NEW_ACCOUNT, "currency": "usd"}, "currency"),
        ({k: v for k, v in NEW_ACCOUNT.items() if k != "currency"}, "currency"),
        ({**NEW_ACCOUNT, "company": {"city": "Leeds"}}, "company.name"),
        ({**NEW_ACCOUNT, "company": {"name": "   "}}, "company.name"),
        ({**NEW_ACCOUNT, "company": {"name": "Acme", "country": "gb"}}, "company.country"),
        ({**NEW_ACCOUNT, "billing_emails": ["not-an-email"]}, "billing_emails.0"),
        ({**NEW_ACCOUNT, "billing_emails": ["ok@acme.test", "bad@"]}, "billing_emails.1"),
        ({**NEW_ACCOUNT, "billing_emails": []}, "billing_emails"),
        ({**NEW_ACCOUNT, "nickname": "acme"}, "nickname"),
        ({**NEW_ACCOUNT, "company": {"name": "Acme", "vat": "GB1"}}, "company.vat"),
    ],
    ids=[
        "unknown-currency",
        "lowercase-currency",
        "missing-currency",
        "missing-company-name",
        "blank-company-name",
        "bad-country",
        "bad-email",
        "second-email-bad",
        "no-emails",
        "unknown-field",
        "unknown-company-field",
    ],
)
def test_open_account_validation_names_the_field(api: Api, body: dict, field: str) -> None:
    res = api.request("POST", "/accounts", body=body)
    problem = assert_problem(res, 422, "validation-error")
    assert problem["field"] == field
    assert problem["detail"].startswith(f"{field}: ")
    assert problem["instance"] == "/accounts"
    assert field in [e["field"] for e in problem["errors"]]


@pytest.mark.parametrize("raw", ["{not json", "currency=USD", '{"currency": "USD",', "[1, 2", "\x00"])
def test_non_json_body_is_a_422_problem(api: Api, raw: str) -> None:
    res = api.request("POST", "/accounts", raw_body=raw)
    problem = assert_problem(res, 422, "validation-error")
    assert "JSON" in problem["detail"]


def test_non_json_body_names_the_body_as_the_field(api: Api) -> None:
    res = api.request("POST", "/accounts", raw_body="{not json")
    assert res.status == 422
    assert res.json["field"] == "body"


# --------------------------------------------------------------------------- adjustments


def test_sample_adjustment_event(api: Api) -> None:
    acc = open_account(api)
    event = load_event("apigw_v2_post_adjustment.json")
    path = event["rawPath"].replace("{account_id}", acc["account_id"])
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    sent = json.loads(event["body"])

    res = api.invoke(event)

    assert res.status == 201, res.raw_body
    assert res.content_type == "application/json"
    assert "idempotent-replayed" not in res.headers
    body = res.json
    assert body["entry"]["amount"] == sent["amount"]
    assert body["entry"]["type"] == "adjustment_credit"
    assert body["entry"]["description"] == sent["reason"]
    assert body["entry"]["actor"] == "operator:operator-1"
    after = api.request("GET", f"/accounts/{acc['account_id']}").json
    assert (after["balance"], after["available"]) == (sent["amount"], sent["amount"] + acc["credit_limit"])


def test_missing_idempotency_key_is_422_naming_the_header(api: Api) -> None:
    acc = open_account(api)
    res = adjust(api, acc["account_id"], {"type": "credit", "amount": 100, "reason": "top up"}, key=None)
    problem = assert_problem(res, 422, "validation-error")
    assert problem["field"] == "Idempotency-Key"
    assert api.request("GET", f"/accounts/{acc['account_id']}").json["balance"] == 0


@pytest.mark.parametrize("key", ["has space", "x" * 256, "tab\tkey", "ünïcode"])
def test_malformed_idempotency_key_is_422_naming_the_header(api: Api, key: str) -> None:
    acc = open_account(api)
    res = adjust(api, acc["account_id"], {"type": "credit", "amount": 100, "reason": "top up"}, key=key)
    problem = assert_problem(res, 422, "validation-error")
    assert problem["field"] == "Idempotency-Key"


def test_replay_returns_the_same_body_with_the_replay_header(api: Api) -> None:
    acc = open_account(api)
    body = {"type": "credit", "amount": 4200, "reason": "prepayment"}
    first = adjust(api, acc["account_id"], body, "key-1")
    assert first.status == 201
    assert "idempotent-replayed" not in first.headers

    again = adjust(api, acc["account_id"], body, "key-1")
    assert again.status == 201
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json == first.json

    listing = api.request("GET", f"/accounts/{acc['account_id']}/transactions")
    assert len(listing.json["items"]) == 1
    assert api.request("GET", f"/accounts/{acc['account_id']}").json["balance"] == 4200


def test_replay_ignores_json_key_order_and_spacing(api: Api) -> None:
    acc = open_account(api)
    first = adjust(api, acc["account_id"], {"type": "credit", "amount": 5, "reason": "refund"}, "k")
    raw = '{ "reason" : "refund",\n "amount": 5, "type": "credit" }'
    again = api.request(
        "POST", f"/accounts/{acc['account_id']}/adjustments", raw_body=raw, headers={"Idempotency-Key": "k"}
    )
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json == first.json


def test_same_key_different_body_is_422_key_reused(api: Api) -> None:
    acc = open_account(api)
    adjust(api, acc["account_id"], {"type": "credit", "amount": 100, "reason": "top up"}, "key-1")
    res = adjust(api, acc["account_id"], {"type": "credit", "amount": 101, "reason": "top up"}, "key-1")
    problem = assert_problem(res, 422, "idempotency-key-reused")
    assert problem["field"] == "Idempotency-Key"
    assert api.request("GET", f"/accounts/{acc['account_id']}").json["balance"] == 100


def test_insufficient_funds_is_402_with_the_shortfall(api: Api) -> None:
    acc = open_account(api)
    adjust(api, acc["account_id"], {"type": "credit", "amount": 1000, "reason": "top up"}, "k0")
    too_much = 1000 + acc["credit_limit"] + 1
    res = adjust(api, acc["account_id"], {"type": "debit", "amount": too_much, "reason": "fee"}, "k1")
    problem = assert_problem(res, 402, "insufficient-funds")
    assert problem["shortfall"] == 1
    assert problem["currency"] == "USD"
    assert problem["field"] == "amount"
    assert problem["instance"] == f"/accounts/{acc['account_id']}/adjustments"
    after = api.request("GET", f"/accounts/{acc['account_id']}").json
    assert after["balance"] == 1000
    assert after["available"] == 1000 + acc["credit_limit"]


def test_adjustment_in_another_currency_is_422(api: Api) -> None:
    acc = open_account(api)
    res = adjust(api, acc["account_id"], {"type": "credit", "amount": 1, "reason": "fx rate", "currency": "EUR"}, "k")
    problem = assert_problem(res, 422, "currency-mismatch")
    assert problem["field"] == "currency"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "credit", "amount": 0, "reason": "zero"}, "amount"),
        ({"type": "credit", "amount": -5, "reason": "negative"}, "amount"),
        ({"type": "credit", "amount": 1.5, "reason": "float"}, "amount"),
        ({"type": "refund", "amount": 5, "reason": "bad type"}, "type"),
        ({"type": "credit", "amount": 5, "reason": "ab"}, "reason"),
        ({"type": "credit", "amount": 5}, "reason"),
    ],
)
def test_adjustment_body_validation(api: Api, body: dict, field: str) -> None:
    acc = open_account(api)
    problem = assert_problem(adjust(api, acc["account_id"], body, "k"), 422, "validation-error")
    assert problem["field"] == field


# --------------------------------------------------------------------------- visibility and roles


def test_who_sees_which_account(api: Api) -> None:
    """An operator sees every account, a partner the accounts it manages, a customer its own; any other is 404."""
    a = open_account(api, {**NEW_ACCOUNT, "partner_id": "partner-a"})["account_id"]
    b = open_account(api, {**NEW_ACCOUNT, "partner_id": "partner-b"})["account_id"]
    orphan = open_account(api)["account_id"]
    sees = {
        "operator": (operator_claims(), {a, b, orphan}),
        "partner-a": (partner_claims("partner-a"), {a}),
        "partner-b": (partner_claims("partner-b"), {b}),
        **{f"customer of {acc}": (customer_claims(acc), {acc}) for acc in (a, b, orphan)},
    }
    for who, (claims, visible) in sees.items():
        for acc in (a, b, orphan):
            res = api.request("GET", f"/accounts/{acc}", claims=claims)
            if acc in visible:
                assert res.status == 200 and res.json["account_id"] == acc, (who, acc)
            else:
                assert_problem(res, 404, "not-found")


@pytest.mark.parametrize("caller", ["customer", "partner"])
def test_foreign_account_is_404_exactly_like_a_missing_one(api: Api, caller: str) -> None:
    """Before any role check (403) and before anything is written: authorization is at the edge."""
    mine = open_account(api, {**NEW_ACCOUNT, "partner_id": "partner-a"})
    theirs = open_account(api, {**NEW_ACCOUNT, "partner_id": "partner-b"})
    me = customer_claims(mine["account_id"]) if caller == "customer" else partner_claims("partner-a")

    def shape(res: HttpResult, account_id: str) -> tuple:
        body = res.json
        return (
            res.status,
            res.content_type,
            sorted(body),
            body["type"],
            body["title"],
            body["detail"].replace(account_id, "<id>"),
            body.get("field"),
        )

    before = stored()
    for method, suffix, body, headers in [
        ("GET", "", None, {}),
        ("PATCH", "", {"billing_emails": ["a@b.cd"]}, {}),
        ("PUT", "/settings", {"bill_to_balance": True, "cards_enabled": True}, {}),
        ("PUT", "/credit-limit", {"credit_limit": 5}, {}),
        ("POST", "/adjustments", {"type": "credit", "amount": 5, "reason": "probe"}, {"Idempotency-Key": "k"}),
        ("GET", "/transactions", None, {}),
    ]:
        foreign = api.request(
            method, f"/accounts/{theirs['account_id']}{suffix}", body=body, headers=headers, claims=me
        )
        missing = api.request(method, f"/accounts/{MISSING_ID}{suffix}", body=body, headers=headers, claims=me)
        assert foreign.status == 404, (method, suffix, foreign.raw_body)
        assert shape(foreign, theirs["account_id"]) == shape(missing, MISSING_ID)
        assert_problem(foreign, 404, "not-found")

    assert stored() == before  # nothing changed
    assert api.request("GET", f"/accounts/{theirs['account_id']}").json == theirs


@pytest.mark.parametrize("caller", ["customer", "partner"])
def test_a_visible_account_is_still_forbidden_operator_actions(api: Api, caller: str) -> None:
    acc = open_account(api, {**NEW_ACCOUNT, "partner_id": "partner-a"})
    me = customer_claims(acc["account_id"]) if caller == "customer" else partner_claims("partner-a")
    assert api.request("GET", f"/accounts/{acc['account_id']}", claims=me).status == 200
    before = stored()
    res = api.request("PUT", f"/accounts/{acc['account_id']}/credit-limit", body={"credit_limit": 10**9}, claims=me)
    assert assert_problem(res, 403, "forbidden")["detail"] == "only an operator may set a credit limit"
    res = adjust(api, acc["account_id"], {"type": "credit", "amount": 10**6, "reason": "free money"}, "k", claims=me)
    assert assert_problem(res, 403, "forbidden")["detail"] == "only an operator may adjust a balance"
    assert stored() == before
    after = api.request("GET", f"/accounts/{acc['account_id']}").json
    assert after == acc
    # the refused key was not consumed: an operator may use it
    assert adjust(api, acc["account_id"], {"type": "credit", "amount": 5, "reason": "goodwill"}, "k").status == 201


@pytest.mark.parametrize("caller", ["customer", "partner"])
def test_customers_and_partners_edit_and_list_their_own_accounts(api: Api, caller: str) -> None:
    acc = open_account(api, {**NEW_ACCOUNT, "partner_id": "partner-a"})["account_id"]
    me = customer_claims(acc) if caller == "customer" else partner_claims("partner-a")
    assert adjust(api, acc, {"type": "credit", "amount": 50, "reason": "opening"}, "k1").status == 201
    assert adjust(api, acc, {"type": "debit", "amount": 20, "reason": "fee"}, "k2").status == 201
    settings = {"bill_to_balance": True, "cards_enabled": False}
    res = api.request("PUT", f"/accounts/{acc}/settings", body=settings, claims=me)
    assert res.status == 200 and res.json["settings"]["cards_enabled"] is False, res.raw_body
    res = api.request("PATCH", f"/accounts/{acc}", body={"billing_emails": ["a@x.io"]}, claims=me)
    assert res.status == 200 and res.json["billing_emails"] == ["a@x.io"], res.raw_body
    listed = api.request("GET", f"/accounts/{acc}/transactions", claims=me)
    assert [e["seq"] for e in listed.json["items"]] == [2, 1]


@pytest.mark.parametrize(
    "claims",
    [
        None,  # no authorizer block at all
        {},
        {"sub": "u1"},
        {"sub": "u1", "custom:role": "admin"},
        {"sub": "u1", "custom:role": ""},
        {"sub": "u1", "custom:role": "OPERATOR"},
        {"sub": "u1", "custom:role": "customer"},  # a customer without account_id
        {"sub": "u1", "custom:role": "partner"},  # a partner without partner_id
    ],
    ids=["no-authorizer", "no-claims", "no-role", "unknown-role", "empty-role", "wrong-case", "customer", "partner"],
)
def test_missing_or_invalid_role_claim_is_401(api: Api, claims: dict | None) -> None:
    acc = open_account(api)
    assert_problem(api.request("GET", f"/accounts/{acc['account_id']}", claims=claims), 401, "unauthorized")
    assert_problem(api.request("POST", "/accounts", body=NEW_ACCOUNT, claims=claims), 401, "unauthorized")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("GET", "/"),
        ("POST", "/accounts/x/refunds"),
        ("DELETE", "/accounts/x"),
        ("GET", "/accounts/a/b/c"),
    ],
)
def test_unknown_route_is_a_404_problem(api: Api, method: str, path: str) -> None:
    problem = assert_problem(api.request(method, path), 404, "not-found")
    assert problem["instance"] == path


# --------------------------------------------------------------------------- other routes


def test_patch_details_settings_and_credit_limit(api: Api) -> None:
    acc = open_account(api)
    aid = acc["account_id"]
    res = api.request("PATCH", f"/accounts/{aid}", body={"company": {"city": "York"}})
    assert res.status == 200
    assert res.json["company"] == {**acc["company"], "city": "York"}

    res = api.request(
        "PUT",
        f"/accounts/{aid}/settings",
        body={"bill_to_balance": False, "cards_enabled": True, "low_balance_threshold": 500},
    )
    assert res.status == 200
    assert res.json["settings"] == {"bill_to_balance": False, "cards_enabled": True, "low_balance_threshold": 500}

    res = api.request("PUT", f"/accounts/{aid}/credit-limit", body={"credit_limit": 0})
    assert res.status == 200
    assert res.json["credit_limit"] == 0
    assert res.json["available"] == 0
    problem = assert_problem(
        adjust(api, aid, {"type": "debit", "amount": 1, "reason": "now impossible"}, "k"), 402, "insufficient-funds"
    )
    assert problem["shortfall"] == 1


@pytest.mark.parametrize(
    ("path_suffix", "body", "field"),
    [
        ("/settings", {"bill_to_balance": False, "cards_enabled": True, "default_method": "card"}, "default_method"),
        ("/credit-limit", {"credit_limit": -1}, "credit_limit"),
        ("", {}, "body"),
    ],
)
def test_other_routes_validate(api: Api, path_suffix: str, body: dict, field: str) -> None:
    acc = open_account(api)
    res = api.request("PUT" if path_suffix else "PATCH", f"/accounts/{acc['account_id']}{path_suffix}", body=body)
    problem = assert_problem(res, 422, "validation-error")
    assert problem["field"] == field


def test_transactions_filter_and_cursor_paging(api: Api) -> None:
    acc = open_account(api)
    aid = acc["account_id"]
    kinds = ["credit", "debit", "credit", "debit", "credit"]
    for i, kind in enumerate(kinds):
        assert adjust(api, aid, {"type": kind, "amount": 10 + i, "reason": "series"}, f"k{i}").status == 201

    seen: list[int] = []
    cursor = None
    for _ in range(10):
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = api.request("GET", f"/accounts/{aid}/transactions", query=query)
        assert page.status == 200, page.raw_body
        seen += [e["seq"] for e in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert seen == [5, 4, 3, 2, 1]

    debits = api.request("GET", f"/accounts/{aid}/transactions", query={"type": "adjustment_debit"})
    assert [e["seq"] for e in debits.json["items"]] == [4, 2]
    assert all(e["amount"] < 0 for e in debits.json["items"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"type": "bogus"}, "type"),
        ({"cursor": "%%%"}, "cursor"),
    ],
)
def test_transactions_query_validation(api: Api, query: dict, field: str) -> None:
    acc = open_account(api)
    problem = assert_problem(
        api.request("GET", f"/accounts/{acc['account_id']}/transactions", query=query), 422, "validation-error"
    )
    assert problem["field"] == field


def test_a_cursor_of_another_account_is_refused_over_http(api: Api) -> None:
    a, b = open_account(api), open_account(api)
    for i in range(3):
        adjust(api, a["account_id"], {"type": "credit", "amount": 1 + i, "reason": "xyz"}, f"k{i}")
    cursor = api.request("GET", f"/accounts/{a['account_id']}/transactions", query={"limit": "1"}).json["next_cursor"]
    assert cursor
    res = api.request("GET", f"/accounts/{b['account_id']}/transactions", query={"cursor": cursor})
    problem = assert_problem(res, 422, "validation-error")
    assert problem["field"] == "cursor"


@pytest.mark.parametrize("query", [{"from": "yesterday"}, {"to": "2026-13-45"}])
def test_unparsable_date_filter_is_422(api: Api, query: dict) -> None:
    acc = open_account(api)
    res = api.request("GET", f"/accounts/{acc['account_id']}/transactions", query=query)
    assert_problem(res, 422, "validation-error")


def test_date_time_filters_over_http(api: Api) -> None:
    acc = open_account(api)
    aid = acc["account_id"]
    adjust(api, aid, {"type": "credit", "amount": 100, "reason": "today"}, "k")
    created = api.request("GET", f"/accounts/{aid}/transactions").json["items"][0]["created_at"]
    at = created  # ISO 8601 with Z: both bounds are inclusive instants
    assert len(api.request("GET", f"/accounts/{aid}/transactions", query={"from": at, "to": at}).json["items"]) == 1
    later = "2999-01-01T00:00:00Z"
    assert api.request("GET", f"/accounts/{aid}/transactions", query={"from": later}).json["items"] == []


def test_date_only_to_filter_includes_the_whole_day(api: Api) -> None:
    acc = open_account(api)
    aid = acc["account_id"]
    adjust(api, aid, {"type": "credit", "amount": 100, "reason": "today"}, "k")
    today = datetime.now(UTC).date().isoformat()
    created = api.request("GET", f"/accounts/{aid}/transactions").json["items"][0]["created_at"]
    if not created.startswith(today):  # the clock crossed midnight between the two calls
        today = created[:10]
    res = api.request("GET", f"/accounts/{aid}/transactions", query={"from": today, "to": today})
    assert res.status == 200
    assert len(res.json["items"]) == 1


# --------------------------------------------------------------------------- OpenAPI


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(\w+)>", r"{\1}", rule)


def test_openapi_has_every_accounts_route() -> None:
    doc = openapi.document()
    routes = [(key[0], key[1]) for key in accounts_router._routes]
    assert routes, "the accounts router has no routes"
    for rule, methods in routes:
        path = _openapi_path(rule)
        assert path in doc["paths"], path
        for method in methods:
            assert method.lower() in doc["paths"][path], (method, path)
    assert {
        "/accounts",
        "/accounts/{account_id}",
        "/accounts/{account_id}/settings",
        "/accounts/{account_id}/credit-limit",
        "/accounts/{account_id}/adjustments",
        "/accounts/{account_id}/transactions",
    } <= set(doc["paths"])


def test_openapi_adjustments_route_requires_the_idempotency_key_header() -> None:
    op = openapi.document()["paths"]["/accounts/{account_id}/adjustments"]["post"]
    headers = [p for p in op.get("parameters", []) if p["in"] == "header"]
    idem = [p for p in headers if p["name"].lower() == "idempotency-key"]
    assert len(idem) == 1
    assert idem[0]["required"] is True
    assert idem[0]["schema"]["type"] == "string"


@pytest.mark.parametrize(
    ("path", "method", "model"),
    [
        ("/accounts", "post", "AccountCreate"),
        ("/accounts/{account_id}", "patch", "AccountPatch"),
        ("/accounts/{account_id}/settings", "put", "Settings"),
        ("/accounts/{account_id}/credit-limit", "put", "CreditLimit"),
        ("/accounts/{account_id}/adjustments", "post", "Adjustment"),
    ],
)
def test_openapi_request_bodies_reference_their_models(path: str, method: str, model: str) -> None:
    doc = openapi.document()
    schema = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": f"#/components/schemas/{model}"}
    assert model in doc["components"]["schemas"]


def test_openapi_components_and_refs_resolve() -> None:
    doc = openapi.document()
    components = doc["components"]["schemas"]
    for name in ("AccountCreate", "AccountPatch", "Settings", "CreditLimit", "Adjustment", "Company", "Problem"):
        assert name in components
    assert set(components["Adjustment"]["properties"]) == {"type", "amount", "reason", "currency"}
    assert set(components["Problem"]["required"]) >= {"type", "title", "status", "detail"}
    assert "jwt" in doc["components"]["securitySchemes"]

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return own + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    dangling = [r for r in refs(doc) if r.removeprefix("#/components/schemas/") not in components]
    assert dangling == []
    json.dumps(doc)  # serialisable as served by GET /openapi.json


def test_event_factory_matches_the_sample_shape() -> None:
    sample = load_event("apigw_v2_post_adjustment.json")
    built = api_event("POST", "/accounts/x/adjustments", body={"a": 1}, claims=operator_claims())
    assert built["version"] == sample["version"] == "2.0"
    assert set(built["requestContext"]) == set(sample["requestContext"])
    assert built["requestContext"]["authorizer"]["jwt"]["claims"]["custom:role"] == "operator"


def test_every_operation_documents_its_success_answer() -> None:
    """A route with custom `responses` loses Powertools' default 200: each must name its own success (and its body,
    unless it is a 204), so schemathesis and clients know the shape of a good answer."""
    doc = openapi.document()
    operations = [
        (path, method, op) for path, item in doc["paths"].items() for method, op in item.items() if "responses" in op
    ]
    assert len(operations) > 50
    for path, method, op in operations:
        success = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert success, f"{method.upper()} {path} documents no 2xx answer"
        for code, answer in success.items():
            if code != "204" and method != "delete":
                assert answer.get("content"), f"{method.upper()} {path} {code} has no body schema"
