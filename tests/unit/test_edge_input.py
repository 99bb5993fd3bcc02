"""What the edge refuses, on every route that takes a body: the real handlers in-process, the in-memory store.

Money and counts are JSON integers, flags JSON booleans, a body is one JSON object sent as JSON. Each refusal
is a problem+json naming the field, and nothing is stored: the whole store is compared before and after.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import _deposit_support as sup
import pytest
from _support import Api, HttpResult, api_event, customer_claims, load_function

from account_credit import openapi
from account_credit.orders.config import order_settings
from account_credit.platform.store.memory import MemoryStore

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

PROBLEM = "application/problem+json"
MISSING = "acc_00000000000000000000000000"
PRODUCT = {"name": "OV SSL", "term_months": 12, "prices": {"USD": 10_000}}


@dataclass
class Stack:
    apis: dict[str, Api]
    store: MemoryStore
    account_id: str

    def call(self, function: str, method: str, path: str, **kwargs: Any) -> HttpResult:
        return self.apis[function].request(method, path.replace("{id}", self.account_id), **kwargs)

    def snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        return copy.deepcopy(self.store.items)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    from account_credit.platform.http import resolver

    sup.configure(monkeypatch)
    for k, v in {
        "STORE": "memory",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(k, v)
    resolver.store.cache_clear()
    order_settings.cache_clear()
    store = resolver.store()
    assert isinstance(store, MemoryStore)
    apis = {name: Api(load_function(name)) for name in ("accounts", "catalog", "order", "deposit")}
    opened = apis["accounts"].request(
        "POST", "/accounts", body={"currency": "USD", "company": {"name": "Acme"}, "billing_emails": ["b@a.test"]}
    )
    assert opened.status == 201, opened.raw_body
    account_id = opened.json["account_id"]
    funded = apis["accounts"].request(
        "POST",
        f"/accounts/{account_id}/adjustments",
        body={"type": "credit", "amount": 100_000, "reason": "opening balance"},
        headers={"Idempotency-Key": "fund"},
    )
    assert funded.status == 201, funded.raw_body
    assert apis["catalog"].request("PUT", "/catalog/products/ov-1y", body=PRODUCT).status == 201
    yield Stack(apis, store, account_id)
    resolver.store.cache_clear()
    order_settings.cache_clear()
    sup.reset()


def assert_problem(res: HttpResult, status: int, slug: str, field: str) -> dict[str, Any]:
    assert res.status == status, res.raw_body
    assert res.content_type == PROBLEM
    body = res.json
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body.get("field") == field, body
    return body


# Every route with a body: (function, method, path, a valid body, headers).
CARD = {"token": "pm_card_visa", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2099}
ROUTES: dict[str, tuple[str, str, str, dict[str, Any], dict[str, str]]] = {
    "open": (
        "accounts",
        "POST",
        "/accounts",
        {"currency": "USD", "company": {"name": "Beta"}, "billing_emails": ["x@b.test"], "language": "en"},
        {},
    ),
    "patch": ("accounts", "PATCH", "/accounts/{id}", {"billing_emails": ["y@b.test"]}, {}),
    "settings": (
        "accounts",
        "PUT",
        "/accounts/{id}/settings",
        {"bill_to_balance": True, "cards_enabled": True, "low_balance_threshold": 100},
        {},
    ),
    "credit-limit": ("accounts", "PUT", "/accounts/{id}/credit-limit", {"credit_limit": 5_000}, {}),
    "adjustment": (
        "accounts",
        "POST",
        "/accounts/{id}/adjustments",
        {"type": "credit", "amount": 500, "reason": "goodwill"},
        {"Idempotency-Key": "adj-1"},
    ),
    "deposit": (
        "deposit",
        "POST",
        "/accounts/{id}/deposits",
        {"method": "card", "amount": 2_500, "save_card": False},
        {"Idempotency-Key": "dep-1"},
    ),
    "order": (
        "order",
        "POST",
        "/accounts/{id}/orders",
        {
            "order_id": "PO-1",
            "channel": "api",
            "lines": [{"product_code": "ov-1y", "quantity": 2}],
            "may_use_credit": False,
        },
        {},
    ),
    "card": ("order", "POST", "/accounts/{id}/payment-methods", CARD, {}),
    "product": ("catalog", "PUT", "/catalog/products/dv-1y", {**PRODUCT, "active": True}, {}),
    "transfer": (
        "deposit",
        "POST",
        "/bank-transfers",
        {"transfer_id": "tr-1", "amount": 700, "currency": "USD", "booked_date": "2026-11-02"},
        {},
    ),
}

# (route, field path, the values that must be refused): money and counts, flags, text, dates.
NOT_AN_INTEGER: list[Any] = ["10", True, False, 10.5, None, [10], {"v": 10}]
NOT_A_BOOLEAN: list[Any] = ["yes", "true", 1, 0, None, [True]]
NOT_A_STRING: list[Any] = [840, True, ["USD"], {"code": "USD"}]
FIELDS: list[tuple[str, str, list[Any]]] = [
    ("adjustment", "amount", NOT_AN_INTEGER),
    ("adjustment", "type", NOT_A_STRING),
    ("adjustment", "reason", NOT_A_STRING),
    ("deposit", "amount", NOT_AN_INTEGER),
    ("deposit", "save_card", NOT_A_BOOLEAN),
    ("deposit", "method", NOT_A_STRING),
    ("order", "lines.0.quantity", NOT_AN_INTEGER),
    ("order", "may_use_credit", NOT_A_BOOLEAN),
    ("order", "order_id", NOT_A_STRING),
    ("order", "channel", NOT_A_STRING),
    ("settings", "bill_to_balance", NOT_A_BOOLEAN),
    ("settings", "cards_enabled", NOT_A_BOOLEAN),
    ("settings", "low_balance_threshold", [v for v in NOT_AN_INTEGER if v is not None]),
    ("credit-limit", "credit_limit", NOT_AN_INTEGER),
    ("card", "exp_month", NOT_AN_INTEGER),
    ("card", "exp_year", NOT_AN_INTEGER),
    ("card", "last4", [4242, None]),
    ("product", "term_months", NOT_AN_INTEGER),
    ("product", "active", NOT_A_BOOLEAN),
    ("product", "prices.USD", NOT_AN_INTEGER),
    ("open", "currency", NOT_A_STRING),
    ("open", "company.name", NOT_A_STRING),
    ("open", "billing_emails", ["x@b.test", None]),
    ("patch", "language", [1, True]),
    ("transfer", "amount", NOT_AN_INTEGER),
    ("transfer", "booked_date", [20261102, None, True]),
]


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    parts = path.split(".")
    node: Any = out
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[parts[-1]] = value
    return out


CASES = [(route, field, value) for route, field, values in FIELDS for value in values]


@pytest.mark.parametrize(("route", "field", "value"), CASES, ids=[f"{r}-{f}-{v!r}" for r, f, v in CASES])
def test_a_value_of_the_wrong_json_type_is_refused_and_nothing_is_stored(
    stack: Stack, route: str, field: str, value: Any
) -> None:
    function, method, path, body, headers = ROUTES[route]
    before = stack.snapshot()
    res = stack.call(function, method, path, body=_set(body, field, value), headers=headers)
    assert_problem(res, 422, "validation-error", field)
    assert stack.snapshot() == before


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_valid_body_is_accepted(stack: Stack, route: str) -> None:
    """The matrix above starts from bodies the API accepts, so each refusal is about the one field."""
    function, method, path, body, headers = ROUTES[route]
    res = stack.call(function, method, path, body=body, headers=headers)
    assert res.status in (200, 201), res.raw_body


def test_an_integral_json_number_is_an_integer_as_json_schema_says(stack: Stack) -> None:
    res = stack.call(
        "accounts",
        "POST",
        "/accounts/{id}/adjustments",
        raw_body='{"type": "credit", "amount": 2500.0, "reason": "goodwill"}',
        headers={"Idempotency-Key": "float-1"},
    )
    assert res.status == 201, res.raw_body
    assert res.json["entry"]["amount"] == 2500
    assert stack.call("accounts", "GET", "/accounts/{id}").json["balance"] == 102_500


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/json",
        "application/merge-patch+json",
    ],
)
def test_a_body_that_is_not_sent_as_json_is_415_and_changes_nothing(
    stack: Stack, route: str, content_type: str
) -> None:
    function, method, path, body, headers = ROUTES[route]
    before = stack.snapshot()
    res = stack.call(
        function, method, path, raw_body=json.dumps(body), headers={**headers, "Content-Type": content_type}
    )
    problem = assert_problem(res, 415, "unsupported-media-type", "Content-Type")
    assert problem["instance"] == path.replace("{id}", stack.account_id)
    assert stack.snapshot() == before


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_with_parameters_or_in_another_case_is_json(stack: Stack, content_type: str) -> None:
    res = stack.call(
        "accounts", "PATCH", "/accounts/{id}", raw_body='{"language": "sk"}', headers={"Content-Type": content_type}
    )
    assert res.status == 200, res.raw_body
    assert res.json["language"] == "sk"


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        ("[]", "an array"),
        ('[{"currency": "USD"}]', "an array"),
        ('"x"', "a string"),
        ("7", "a number"),
        ("null", "null"),
        ("true", "a boolean"),
    ],
)
def test_a_body_must_be_one_json_object(stack: Stack, route: str, raw: str, detail: str) -> None:
    function, method, path, _body, headers = ROUTES[route]
    before = stack.snapshot()
    problem = assert_problem(
        stack.call(function, method, path, raw_body=raw, headers=headers), 422, "validation-error", "body"
    )
    assert problem["detail"] == f"body: must be one JSON object, not {detail}"
    assert stack.snapshot() == before


def test_an_array_of_accounts_opens_none(stack: Stack) -> None:
    _f, _m, _p, body, _h = ROUTES["open"]
    before = stack.snapshot()
    res = stack.call("accounts", "POST", "/accounts", raw_body=json.dumps([body, body]))
    assert_problem(res, 422, "validation-error", "body")
    assert stack.snapshot() == before


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_body_that_is_not_utf8_is_422_not_500(stack: Stack, route: str) -> None:
    """API Gateway base64-encodes a body it cannot pass as text."""
    function, method, path, _body, headers = ROUTES[route]
    event = api_event(method, path.replace("{id}", stack.account_id), headers=headers)
    event["body"] = base64.b64encode(b'{"amount": "\xff\xfe"}').decode()
    event["isBase64Encoded"] = True
    before = stack.snapshot()
    problem = assert_problem(stack.apis[function].invoke(event), 422, "validation-error", "body")
    assert "UTF-8" in problem["detail"]
    assert stack.snapshot() == before


def test_a_base64_json_body_is_read_like_a_text_one(stack: Stack) -> None:
    event = api_event("PATCH", f"/accounts/{stack.account_id}")
    event["body"] = base64.b64encode('{"company": {"name": "Čerstvé s.r.o."}}'.encode()).decode()
    event["isBase64Encoded"] = True
    res = stack.apis["accounts"].invoke(event)
    assert res.status == 200, res.raw_body
    assert res.json["company"]["name"] == "Čerstvé s.r.o."


# --------------------------------------------------------------------------- 404 before any complaint about the body

ACCOUNT_ROUTES = sorted(r for r, (_f, _m, p, _b, _h) in ROUTES.items() if "{id}" in p)


@pytest.mark.parametrize("route", ACCOUNT_ROUTES)
@pytest.mark.parametrize("bad", ["invalid-field", "text/plain", "array"])
def test_a_missing_or_foreign_account_is_404_whatever_is_wrong_with_the_body(
    stack: Stack, route: str, bad: str
) -> None:
    function, method, path, body, headers = ROUTES[route]
    kwargs: dict[str, Any] = {"headers": dict(headers)}
    if bad == "invalid-field":
        kwargs["body"] = {**body, "unexpected": 1}
    elif bad == "text/plain":
        kwargs["raw_body"] = json.dumps(body)
        kwargs["headers"]["Content-Type"] = "text/plain"
    else:
        kwargs["raw_body"] = "[]"
    for target, claims in [(MISSING, None), (stack.account_id, customer_claims("acc_someone_else"))]:
        concrete = path.replace("{id}", target)
        event = api_event(method, concrete, claims=claims or {"sub": "op", "custom:role": "operator"}, **kwargs)
        event["pathParameters"] = {"account_id": target}  # as API Gateway sends it
        problem = assert_problem(stack.apis[function].invoke(event), 404, "not-found", None)  # type: ignore[arg-type]
        assert problem["instance"] == concrete


def test_put_settings_on_a_missing_account_is_404_not_422(stack: Stack) -> None:
    res = stack.call(
        "accounts", "PUT", f"/accounts/{MISSING}/settings", body={"bill_to_balance": "yes", "cards_enabled": 1}
    )
    assert res.status == 404, res.raw_body
    assert res.json["type"] == "/problems/not-found"


def test_an_unknown_enum_value_lists_the_values_not_python_reprs(stack: Stack) -> None:
    res = stack.call("accounts", "GET", "/accounts/{id}/transactions", query={"type": "bogus"})
    problem = assert_problem(res, 422, "validation-error", "type")
    assert "'adjustment_credit'" in problem["detail"]
    assert "EntryType" not in res.raw_body and "<" not in problem["detail"]


@pytest.mark.parametrize("value", ["", "yesterday", "2026-02-30", "2026-11-01T25:00"])
def test_a_date_filter_that_is_not_a_date_is_422(stack: Stack, value: str) -> None:
    res = stack.call("accounts", "GET", "/accounts/{id}/transactions", query={"to": value})
    assert_problem(res, 422, "validation-error", "to")


@pytest.mark.parametrize(
    "value", ["2026-11-01", "2026-11-01T10:00:00Z", "2026-11-01t10:00:00z", "2026-11-01T23:59:60.5+01:00"]
)
def test_rfc3339_date_times_are_read(stack: Stack, value: str) -> None:
    res = stack.call("accounts", "GET", "/accounts/{id}/transactions", query={"from": value})
    assert res.status == 200, res.raw_body


# --------------------------------------------------------------------------- the document lists these answers


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    doc = openapi.document()
    return [
        (path, method, op)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


@pytest.mark.parametrize(("path", "method", "op"), _operations(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_failure_answer_is_a_documented_problem(path: str, method: str, op: dict[str, Any]) -> None:
    responses = op["responses"]
    public = op.get("security") == []
    if not public:
        for status in ("401", "403", "404", "422", "503"):
            assert status in responses, (method, path, status)
        assert set(responses["401"]["content"]) == {"application/json", PROBLEM}
        if method != "get":
            assert "409" in responses
        if "requestBody" in op:
            assert "415" in responses
    for status, answer in responses.items():
        if int(status) >= 400 and status != "401":
            assert list(answer["content"]) == [PROBLEM], (method, path, status)
            assert answer["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
        if int(status) < 300 and path.endswith(("/pdf", "/xml")):  # a document's archived file
            assert list(answer["content"]) == [f"application/{path.rsplit('/', 1)[1]}"], (method, path, status)
        elif status == "204":  # no content (a deleted payment method)
            assert not answer.get("content"), (method, path, status)
        elif int(status) < 300 and path != "/openapi.json":
            assert "application/json" in answer.get("content", {}), (method, path, status)
