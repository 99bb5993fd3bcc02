"""The payment-methods routes through the order function's handler (in-memory store, sandbox provider)."""

from __future__ import annotations

from _support import Api, customer_claims, operator_claims
from test_order_http import open_funded, problem, with_product

CARD = {"token": "pm_card_visa", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2099}
ADDRESS = {"line1": "1 Main St", "city": "Bratislava", "postal_code": "81101", "country": "SK"}


def path(acc: str, rest: str = "") -> str:
    return f"/accounts/{acc}/payment-methods{rest}"


def test_two_cards_a_gift_card_and_pay_on_invoice_listed_with_their_roles(apis: dict[str, Api]) -> None:
    order = apis["order"]
    acc = open_funded(apis, 0)
    cust = customer_claims(acc)
    first = order.request("POST", path(acc), body={**CARD, "billing_address": ADDRESS}, claims=cust)
    assert first.status == 201 and first.json["role"] == "alternate", first.raw_body
    assert first.json["billing_address"]["city"] == "Bratislava"
    second = order.request("POST", path(acc), body={**CARD, "token": "pm_card_mastercard", "type": "card"}, claims=cust)
    assert second.status == 201 and second.json["role"] is None

    assert order.request("POST", "/gift-cards", body={"amount": 5_000, "currency": "USD"}, claims=cust).status == 403
    gift = order.request("POST", "/gift-cards", body={"amount": 5_000, "currency": "USD"}, claims=operator_claims())
    assert gift.status == 201 and gift.json["remaining"] == 5_000, gift.raw_body
    added = order.request("POST", path(acc), body={"type": "gift_card", "code": gift.json["code"]}, claims=cust)
    assert added.status == 201 and added.json["remaining"] == 5_000 and added.json["type"] == "gift_card"
    invoice = order.request("POST", path(acc), body={"type": "invoice"}, claims=cust)
    assert invoice.status == 201 and invoice.json["payment_method_id"] == "invoice"
    assert order.request("POST", path(acc), body={"type": "invoice"}, claims=cust).status == 200

    ids = [first.json["payment_method_id"], second.json["payment_method_id"]]
    r = order.request("PUT", path(acc, "/preferences"), body={"default": ids[1], "alternate": ids[0]}, claims=cust)
    assert r.status == 200 and r.json == {"default": ids[1], "alternate": ids[0]}, r.raw_body
    listed = order.request("GET", path(acc), claims=cust).json
    assert [(m["type"], m["role"]) for m in listed["items"]] == [
        ("balance", None),
        ("card", "alternate"),
        ("card", "default"),
        ("gift_card", None),
        ("invoice", None),
    ]
    assert "code" not in listed["items"][3] and "token" not in listed["items"][1]


def test_preferences_refuse_unknown_and_equal_methods(apis: dict[str, Api]) -> None:
    order = apis["order"]
    acc = open_funded(apis, 0)
    pm = order.request("POST", path(acc), body=CARD).json["payment_method_id"]
    problem(
        order.request("PUT", path(acc, "/preferences"), body={"default": "pm_x"}), 422, "validation-error", "default"
    )
    same = {"default": pm, "alternate": pm}
    problem(order.request("PUT", path(acc, "/preferences"), body=same), 422, "validation-error", "alternate")
    problem(order.request("PUT", path(acc, "/preferences"), body={"alternate": pm}), 422, "validation-error", "default")


def test_a_body_takes_only_the_fields_of_its_type(apis: dict[str, Api]) -> None:
    order = apis["order"]
    acc = open_funded(apis, 0)
    for body in (
        {"type": "gift_card"},
        {"type": "gift_card", "code": "GC-AAAA-BBBB", "token": "pm_x"},
        {"type": "invoice", "code": "GC-AAAA-BBBB"},
        {k: v for k, v in CARD.items() if k != "last4"},
    ):
        problem(order.request("POST", path(acc), body=body), 422, "validation-error")
    problem(order.request("POST", path(acc), body={**CARD, "last4": None}), 422, "validation-error", "last4")


def test_update_a_card_and_delete_methods(apis: dict[str, Api]) -> None:
    order = apis["order"]
    acc = open_funded(apis, 0)
    cust = customer_claims(acc)
    pm = order.request("POST", path(acc), body=CARD, claims=cust).json["payment_method_id"]
    change = {"exp_month": 5, "exp_year": 2040, "billing_address": {**ADDRESS, "line2": "Floor 2"}}
    r = order.request("PATCH", path(acc, f"/{pm}"), body=change, claims=cust)
    assert r.status == 200 and (r.json["exp_month"], r.json["exp_year"]) == (5, 2040), r.raw_body
    assert r.json["billing_address"]["line2"] == "Floor 2"
    problem(order.request("PATCH", path(acc, "/pm_nope"), body=change, claims=cust), 404, "not-found")
    past = {"exp_month": 1, "exp_year": 2001}
    problem(order.request("PATCH", path(acc, f"/{pm}"), body=past, claims=cust), 422, "validation-error", "exp_year")

    other = open_funded(apis, 0)
    assert order.request("DELETE", path(acc, f"/{pm}"), claims=customer_claims(other)).status == 404
    assert order.request("DELETE", path(acc, f"/{pm}"), claims=cust).status == 204
    listed = order.request("GET", path(acc), claims=cust).json
    assert [m["payment_method_id"] for m in listed["items"]] == ["balance"]
    assert listed["preferences"] == {"default": "balance", "alternate": None}
    problem(order.request("DELETE", path(acc, f"/{pm}"), claims=cust), 404, "not-found")
    problem(order.request("DELETE", path(acc, "/balance"), claims=cust), 409, "conflict", "payment_method_id")


def test_an_order_paid_by_gift_card_over_http(apis: dict[str, Api]) -> None:
    with_product(apis)
    order = apis["order"]
    acc = open_funded(apis, 0)
    code = order.request("POST", "/gift-cards", body={"code": "gc-abcd-0001", "amount": 20_000, "currency": "USD"})
    assert code.json["code"] == "GC-ABCD-0001"
    pm = order.request("POST", path(acc), body={"type": "gift_card", "code": "gc-abcd-0001"}).json
    order.request("PUT", path(acc, "/preferences"), body={"default": pm["payment_method_id"]})
    body = {"order_id": "o-1", "channel": "portal", "lines": [{"product_code": "ov-1y", "quantity": 1}]}
    paid = order.request("POST", f"/accounts/{acc}/orders", body=body)
    assert paid.status == 201, paid.raw_body
    assert paid.json["payment"]["method"] == "gift_card"
    assert [a["outcome"] for a in paid.json["payment"]["attempts"]] == ["insufficient", "paid"]
    assert order.request("GET", path(acc)).json["items"][1]["remaining"] == 10_000
