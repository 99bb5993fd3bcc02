"""The order and catalog Lambda handlers in-process (API Gateway v2 events, in-memory store, sandbox provider)."""

from __future__ import annotations

from typing import Any

import pytest
from _support import Api, customer_claims, partner_claims

from account_credit import openapi

PRODUCT = {"name": "OV SSL", "term_months": 12, "prices": {"USD": 10_000, "EUR": 9_000}}


def open_funded(apis: dict[str, Api], balance: int, **extra: Any) -> str:
    r = apis["accounts"].request(
        "POST", "/accounts", body={"currency": "USD", "company": {"name": "Acme"}, "billing_emails": ["b@acme.test"]}
    )
    assert r.status == 201, r.raw_body
    acc = r.json["account_id"]
    if balance:
        r = apis["accounts"].request(
            "POST",
            f"/accounts/{acc}/adjustments",
            body={"type": "credit", "amount": balance, "reason": "opening balance"},
            headers={"Idempotency-Key": f"fund-{acc}"},
        )
        assert r.status == 201, r.raw_body
    if extra:
        r = apis["accounts"].request("PUT", f"/accounts/{acc}/settings", body=extra)
        assert r.status == 200, r.raw_body
    return acc


def with_product(apis: dict[str, Api], code: str = "ov-1y") -> None:
    r = apis["catalog"].request("PUT", f"/catalog/products/{code}", body=PRODUCT)
    assert r.status in (200, 201), r.raw_body


def order_body(order_id: str, channel: str = "portal", quantity: int = 1, credit: bool = False) -> dict:
    return {
        "order_id": order_id,
        "channel": channel,
        "lines": [{"product_code": "ov-1y", "quantity": quantity}],
        "may_use_credit": credit,
    }


def problem(r: Any, status: int, slug: str, field: str | None = None) -> dict:
    assert r.status == status, r.raw_body
    assert r.content_type.startswith("application/problem+json")
    body = r.json
    assert body["type"] == f"/problems/{slug}"
    if field is not None:
        assert body["field"] == field
    return body


# --------------------------------------------------------------------------- catalog


def test_operators_manage_products_everyone_signed_in_reads_them(apis: dict[str, Api]) -> None:
    cat = apis["catalog"]
    created = cat.request("PUT", "/catalog/products/ov-1y", body=PRODUCT)
    assert created.status == 201 and created.json["version"] == 1
    changed = cat.request("PUT", "/catalog/products/ov-1y", body={**PRODUCT, "prices": {"USD": 12_000}})
    assert changed.status == 200 and changed.json["version"] == 2
    cat.request("PUT", "/catalog/products/dv-1y", body={**PRODUCT, "name": "DV SSL"})
    listed = cat.request("GET", "/catalog/products", claims=partner_claims("p1"))
    assert listed.status == 200
    assert [(p["code"], p["prices"]) for p in listed.json["items"]] == [
        ("dv-1y", PRODUCT["prices"]),
        ("ov-1y", {"USD": 12_000}),
    ]
    problem(cat.request("PUT", "/catalog/products/x", body=PRODUCT, claims=customer_claims("acc_1")), 403, "forbidden")
    assert cat.request("GET", "/catalog/products", claims=None).status == 401


@pytest.mark.parametrize(
    ("code", "body", "field"),
    [
        ("ov-1y", {**PRODUCT, "prices": {"EURO": 1}}, "prices.EURO"),
        ("ov-1y", {**PRODUCT, "prices": {"USD": 0}}, "prices.USD"),
        ("ov-1y", {**PRODUCT, "prices": {}}, "prices"),
        ("ov-1y", {**PRODUCT, "term_months": 0}, "term_months"),
        ("ov-1y", {**PRODUCT, "colour": "red"}, "colour"),
        ("OV_1Y!", PRODUCT, "code"),
    ],
)
def test_product_validation_names_the_field(apis: dict[str, Api], code: str, body: dict, field: str) -> None:
    problem(apis["catalog"].request("PUT", f"/catalog/products/{code}", body=body), 422, "validation-error", field)


# --------------------------------------------------------------------------- payment methods


def test_register_a_sandbox_card_once_and_list_it(apis: dict[str, Api]) -> None:
    acc = open_funded(apis, 0)
    cust = customer_claims(acc)
    card = {"token": "pm_card_visa", "brand": "Visa", "last4": "4242", "exp_month": 12, "exp_year": 2099}
    first = apis["order"].request("POST", f"/accounts/{acc}/payment-methods", body=card, claims=cust)
    assert first.status == 201, first.raw_body
    assert first.json["provider"] == "sandbox" and first.json["role"] == "alternate" and first.json["brand"] == "visa"
    again = apis["order"].request("POST", f"/accounts/{acc}/payment-methods", body=card, claims=cust)
    assert again.status == 200 and again.json["payment_method_id"] == first.json["payment_method_id"]
    listed = apis["order"].request("GET", f"/accounts/{acc}/payment-methods", claims=cust)
    assert [m["payment_method_id"] for m in listed.json["items"]] == ["balance", first.json["payment_method_id"]]
    assert [m["role"] for m in listed.json["items"]] == ["default", "alternate"]
    assert listed.json["preferences"] == {"default": "balance", "alternate": first.json["payment_method_id"]}
    assert "token" not in listed.json["items"][1], "the provider token is never handed out"
    other = open_funded(apis, 0)
    assert apis["order"].request("GET", f"/accounts/{other}/payment-methods", claims=cust).status == 404


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"token": "4242424242424242"}, "token"),
        ({"token": "pm card"}, "token"),
        ({"last4": "42"}, "last4"),
        ({"exp_month": 13}, "exp_month"),
        ({"exp_year": 2001}, "exp_year"),
        ({"number": "4242424242424242"}, "number"),
    ],
)
def test_card_registration_never_takes_a_card_number(apis: dict[str, Api], patch: dict, field: str) -> None:
    acc = open_funded(apis, 0)
    card = {"token": "pm_card_visa", "brand": "visa", "last4": "4242", "exp_month": 1, "exp_year": 2099, **patch}
    r = apis["order"].request("POST", f"/accounts/{acc}/payment-methods", body=card)
    problem(r, 422, "validation-error", field)


# --------------------------------------------------------------------------- orders


def test_order_from_balance_replay_and_read(apis: dict[str, Api]) -> None:
    with_product(apis)
    acc = open_funded(apis, 25_000)
    cust = customer_claims(acc)
    first = apis["order"].request("POST", f"/accounts/{acc}/orders", body=order_body("o-1", quantity=2), claims=cust)
    assert first.status == 201, first.raw_body
    assert first.json["payment"]["method"] == "balance" and first.json["total"] == 20_000
    assert "idempotent-replayed" not in first.headers
    again = apis["order"].request("POST", f"/accounts/{acc}/orders", body=order_body("o-1", quantity=2), claims=cust)
    assert again.status == 201 and again.json == first.json
    assert again.headers["idempotent-replayed"] == "true"
    reused = apis["order"].request("POST", f"/accounts/{acc}/orders", body=order_body("o-1", quantity=1), claims=cust)
    problem(reused, 422, "idempotency-key-reused")
    got = apis["order"].request("GET", f"/accounts/{acc}/orders/o-1", claims=cust)
    assert got.status == 200 and got.json == first.json
    assert apis["accounts"].request("GET", f"/accounts/{acc}").json["balance"] == 5_000
    problem(apis["order"].request("GET", f"/accounts/{acc}/orders/o-404", claims=cust), 404, "not-found")


def test_insufficient_funds_is_a_402_problem_with_the_shortfall(apis: dict[str, Api]) -> None:
    with_product(apis)
    acc = open_funded(apis, 2_500)
    r = apis["order"].request("POST", f"/accounts/{acc}/orders", body=order_body("o-1", channel="api"))
    body = problem(r, 402, "insufficient-funds")
    assert (body["shortfall"], body["currency"], body["total"], body["order_id"]) == (7_500, "USD", 10_000, "o-1")
    assert "75.00 USD" in body["detail"]
    assert apis["accounts"].request("GET", f"/accounts/{acc}").json["balance"] == 2_500


def test_card_fallback_with_the_sandbox_approve_and_decline(apis: dict[str, Api]) -> None:
    with_product(apis)
    for token, status in (("pm_card_visa", 201), ("pm_card_declined", 402)):
        acc = open_funded(apis, 100)
        card = {"token": token, "brand": "visa", "last4": "0002", "exp_month": 1, "exp_year": 2099}
        assert apis["order"].request("POST", f"/accounts/{acc}/payment-methods", body=card).status == 201
        r = apis["order"].request("POST", f"/accounts/{acc}/orders", body=order_body(f"card-{token}"))
        assert r.status == status, r.raw_body
        if status == 201:
            assert r.json["payment"]["method"] == "card"
            assert r.json["payment"]["card"]["payment_id"].startswith("pi_sbx_")
        else:
            assert r.json["decline_code"] == "card_declined" and r.json["tried"] == ["balance", "card"]
        assert apis["accounts"].request("GET", f"/accounts/{acc}").json["balance"] == 100


def test_idempotency_key_header_must_equal_the_order_id(apis: dict[str, Api]) -> None:
    acc = open_funded(apis, 50_000)
    with_product(apis)
    path, cust = f"/accounts/{acc}/orders", customer_claims(acc)
    other = apis["order"].request("POST", path, body=order_body("o-1"), claims=cust, headers={"Idempotency-Key": "x"})
    problem(other, 422, "validation-error", "Idempotency-Key")
    same = apis["order"].request("POST", path, body=order_body("o-1"), claims=cust, headers={"Idempotency-Key": "o-1"})
    assert same.status == 201, same.raw_body


def test_orders_of_an_account_the_caller_cannot_see_are_404_and_nothing_moves(apis: dict[str, Api]) -> None:
    """Authorization is at the edge: the service takes a command, the router decides who may send it."""
    acc = open_funded(apis, 50_000)
    other = open_funded(apis, 50_000)
    with_product(apis)
    path = f"/accounts/{acc}/orders"
    assert apis["order"].request("POST", path, body=order_body("o-1"), claims=customer_claims(acc)).status == 201
    for claims in (customer_claims(other), partner_claims("partner-a")):
        problem(apis["order"].request("POST", path, body=order_body("o-2"), claims=claims), 404, "not-found")
        problem(apis["order"].request("GET", f"{path}/o-1", claims=claims), 404, "not-found")
        cancel = apis["order"].request("POST", f"{path}/o-1/cancel", claims=claims, headers={"Idempotency-Key": "c"})
        problem(cancel, 404, "not-found")
    mine = apis["accounts"].request("GET", f"/accounts/{acc}", claims=customer_claims(acc))
    assert mine.json["balance"] == 50_000 - PRODUCT["prices"]["USD"]
    assert apis["order"].request("GET", f"{path}/o-1", claims=customer_claims(acc)).json["state"] == "paid"


def test_a_partner_orders_for_the_accounts_it_manages(apis: dict[str, Api]) -> None:
    made = apis["accounts"].request(
        "POST",
        "/accounts",
        body={"currency": "USD", "company": {"name": "Managed"}, "billing_emails": ["m@p.test"]},
        claims=partner_claims("partner-a"),
    )
    acc = made.json["account_id"]
    apis["accounts"].request(
        "POST",
        f"/accounts/{acc}/adjustments",
        body={"type": "credit", "amount": 50_000, "reason": "opening balance"},
        headers={"Idempotency-Key": f"fund-{acc}"},
    )
    with_product(apis)
    paid = apis["order"].request(
        "POST", f"/accounts/{acc}/orders", body=order_body("p-1"), claims=partner_claims("partner-a")
    )
    assert paid.status == 201, paid.raw_body
    assert paid.json["actor"] == "partner:partner-user"


def test_cancel_needs_an_idempotency_key_and_returns_the_money(apis: dict[str, Api]) -> None:
    with_product(apis)
    acc = open_funded(apis, 10_000)
    assert apis["order"].request("POST", f"/accounts/{acc}/orders", body=order_body("o-1")).status == 201
    path = f"/accounts/{acc}/orders/o-1/cancel"
    problem(apis["order"].request("POST", path), 422, "validation-error", "Idempotency-Key")
    done = apis["order"].request("POST", path, headers={"Idempotency-Key": "cancel-o-1"})
    assert done.status == 200 and done.json["state"] == "cancelled", done.raw_body
    again = apis["order"].request("POST", path, headers={"Idempotency-Key": "cancel-o-1"})
    assert again.json == done.json and again.headers["idempotent-replayed"] == "true"
    problem(apis["order"].request("POST", path, headers={"Idempotency-Key": "other"}), 409, "order-not-cancellable")
    assert apis["accounts"].request("GET", f"/accounts/{acc}").json["balance"] == 10_000
    with_reason = apis["order"].request(
        "POST", path, headers={"Idempotency-Key": "k3"}, body={"reason": "x", "extra": 1}
    )
    problem(with_reason, 422, "validation-error", "extra")


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"order_id": ""}, "order_id"),
        ({"order_id": "has space"}, "order_id"),
        ({"channel": "no spaces"}, "channel"),
        ({"lines": []}, "lines"),
        ({"lines": [{"product_code": "ov-1y", "quantity": 0}]}, "lines.0.quantity"),
        ({"may_use_credit": "maybe"}, "may_use_credit"),
    ],
)
def test_order_validation_names_the_field(apis: dict[str, Api], patch: dict, field: str) -> None:
    acc = open_funded(apis, 0)
    r = apis["order"].request("POST", f"/accounts/{acc}/orders", body={**order_body("o-1"), **patch})
    problem(r, 422, "validation-error", field)


def test_channel_names_are_case_insensitive(apis: dict[str, Api]) -> None:
    with_product(apis)
    acc = open_funded(apis, 100)
    card = {"token": "pm_card_visa", "brand": "visa", "last4": "4242", "exp_month": 1, "exp_year": 2099}
    apis["order"].request("POST", f"/accounts/{acc}/payment-methods", body=card)
    r = apis["order"].request("POST", f"/accounts/{acc}/orders", body=order_body("akv-1", channel="Azure-Key-Vault"))
    assert problem(r, 402, "insufficient-funds")["tried"] == ["balance"]


def test_openapi_documents_orders_catalog_and_payment_methods() -> None:
    doc = openapi.document()
    for path, method in [
        ("/accounts/{account_id}/orders", "post"),
        ("/accounts/{account_id}/orders/{order_id}", "get"),
        ("/accounts/{account_id}/orders/{order_id}/cancel", "post"),
        ("/accounts/{account_id}/payment-methods", "post"),
        ("/accounts/{account_id}/payment-methods", "get"),
        ("/catalog/products", "get"),
        ("/catalog/products/{code}", "put"),
    ]:
        assert method in doc["paths"][path], (method, path)
    body = doc["paths"]["/accounts/{account_id}/orders"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/OrderCreate"}
    assert {"order_id", "channel", "lines", "may_use_credit"} <= set(
        doc["components"]["schemas"]["OrderCreate"]["properties"]
    )
    cancel = doc["paths"]["/accounts/{account_id}/orders/{order_id}/cancel"]["post"]
    idem = [p for p in cancel["parameters"] if p["in"] == "header" and p["name"].lower() == "idempotency-key"]
    assert idem and idem[0]["required"] is True
