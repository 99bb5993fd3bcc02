"""Real HTTP against the local server: catalog, payment methods and every payment path of an order."""

from __future__ import annotations

import uuid

import pytest

from tools import localauth

from .conftest import Api, placed_transactions
from .test_accounts_http import assert_problem, open_account

pytestmark = pytest.mark.e2e

PRICE = 5_000  # EUR cents (the e2e accounts are in EUR)


@pytest.fixture(scope="module")
def product(api: Api, operator: str) -> str:
    code = f"ov-ssl-1y-{uuid.uuid4().hex[:6]}"
    r = api.call(
        "PUT",
        f"/catalog/products/{code}",
        operator,
        json={"name": "OV SSL", "term_months": 12, "prices": {"EUR": PRICE, "USD": 5_500}},
    )
    assert r.status_code == 201, r.text
    return code


def funded(api: Api, operator: str, amount: int) -> tuple[str, str]:
    """A new account with ``amount`` on the balance, and a customer token for it."""
    acc = open_account(api, operator)["account_id"]
    if amount:
        r = api.call(
            "POST",
            f"/accounts/{acc}/adjustments",
            operator,
            json={"type": "credit", "amount": amount, "reason": "bank payment"},
            headers={"Idempotency-Key": f"fund-{acc}"},
        )
        assert r.status_code == 201, r.text
    return acc, localauth.mint("customer", account_id=acc)


def place(api: Api, token: str, acc: str, order_id: str, product: str, **extra: object):
    body = {"order_id": order_id, "channel": "portal", "lines": [{"product_code": product, "quantity": 1}], **extra}
    return api.call("POST", f"/accounts/{acc}/orders", token, json=body)


def balance(api: Api, token: str, acc: str) -> int:
    return int(api.call("GET", f"/accounts/{acc}", token).json()["balance"])


def entry_types(api: Api, token: str, acc: str) -> list[str]:
    return [e["type"] for e in api.call("GET", f"/accounts/{acc}/transactions", token).json()["items"]]


def register_card(api: Api, token: str, acc: str, card_token: str) -> dict:
    card = {"token": card_token, "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2099}
    r = api.call("POST", f"/accounts/{acc}/payment-methods", token, json=card)
    assert r.status_code == 201, r.text
    return r.json()


def test_everyone_signed_in_reads_the_catalog_only_operators_write_it(api: Api, product: str) -> None:
    _, customer = funded(api, localauth.mint("operator"), 0)
    listed = api.call("GET", "/catalog/products", customer)
    assert listed.status_code == 200
    assert any(p["code"] == product and p["prices"]["EUR"] == PRICE for p in listed.json()["items"])
    change = {"name": "x", "term_months": 1, "prices": {"EUR": 1}}
    denied = api.call("PUT", f"/catalog/products/{product}", customer, json=change)
    assert_problem(denied, 403, slug="forbidden")
    assert api.call("GET", "/catalog/products").status_code == 401


def test_portal_order_from_balance(api: Api, operator: str, product: str) -> None:
    acc, customer = funded(api, operator, 12_000)
    r = place(api, customer, acc, "portal-1", product)
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["channel"], order["state"], order["total"]) == ("portal", "paid", PRICE)
    assert order["payment"]["method"] == "balance"
    assert (order["payment"]["from_balance"], order["payment"]["from_credit"]) == (PRICE, 0)
    assert order["lines"][0] | {"product_code": None} == {
        "line": 1,
        "product_code": None,
        "name": "OV SSL",
        "term_months": 12,
        "quantity": 1,
        "unit_price": PRICE,
        "amount": PRICE,
        "vat": 0,  # the local seller is not VAT-registered: net = gross
        "gross": PRICE,
        # a whole term: no proration (a subscription's prorated line states these)
        "full_amount": None,
        "term_start": None,
        "term_end": None,
        "remaining_days": None,
        "term_days": None,
        # nothing refunded yet: the whole line can be refunded
        "refunded": 0,
        "refundable": 1,
    }
    assert (order["net"], order["vat"], order["tax"]["category"]) == (PRICE, 0, "O")
    assert order["subscription"] is None
    assert api.call("GET", f"/accounts/{acc}/orders/portal-1", customer).json() == order
    assert balance(api, customer, acc) == 7_000
    assert entry_types(api, customer, acc)[0] == "order_balance"


def test_api_order_from_balance_replays_and_refuses_other_lines(api: Api, operator: str, product: str) -> None:
    acc, ordering_system = funded(api, operator, 6_000)
    first = place(api, ordering_system, acc, "api-1", product, channel="api")
    again = place(api, ordering_system, acc, "api-1", product, channel="api")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    other = api.call(
        "POST",
        f"/accounts/{acc}/orders",
        ordering_system,
        json={"order_id": "api-1", "channel": "api", "lines": [{"product_code": product, "quantity": 2}]},
    )
    assert_problem(other, 422, slug="idempotency-key-reused")
    assert balance(api, ordering_system, acc) == 1_000, "debited once"


def test_card_fallback_with_the_sandbox_provider(api: Api, operator: str, product: str) -> None:
    acc, customer = funded(api, operator, 1_000)
    method = register_card(api, customer, acc, "pm_card_visa")
    listed = api.call("GET", f"/accounts/{acc}/payment-methods", customer).json()["items"]
    assert [m["payment_method_id"] for m in listed] == ["balance", method["payment_method_id"]]
    assert method["role"] == "alternate", "the first card is tried when the balance falls short"
    r = place(api, customer, acc, "card-1", product)
    assert r.status_code == 201, r.text
    payment = r.json()["payment"]
    assert payment["method"] == "card" and payment["card"]["last4"] == "4242"
    assert payment["card"]["payment_id"].startswith("pi_sbx_")
    assert balance(api, customer, acc) == 1_000, "a card payment does not touch the balance"
    entries = api.call("GET", f"/accounts/{acc}/transactions", customer).json()["items"]
    assert (entries[0]["type"], entries[0]["amount"], entries[0]["reference"]["card_amount"]) == (
        "order_card",
        0,
        str(PRICE),
    )


def test_declined_card_falls_through_to_a_decline_or_to_credit(api: Api, operator: str, product: str) -> None:
    acc, customer = funded(api, operator, 1_000)
    register_card(api, customer, acc, "pm_card_declined")
    declined = assert_problem(place(api, customer, acc, "dc-1", product), 402, slug="insufficient-funds")
    assert declined["decline_code"] == "card_declined" and declined["tried"] == ["balance", "card"]
    assert declined["shortfall"] == PRICE - 1_000
    credit = place(api, customer, acc, "dc-2", product, may_use_credit=True)
    assert credit.status_code == 201 and credit.json()["payment"]["method"] == "credit"


def test_balance_only_channel_is_refused_a_card(api: Api, operator: str, product: str) -> None:
    acc, customer = funded(api, operator, 1_000)
    register_card(api, customer, acc, "pm_card_visa")  # would be approved
    r = place(api, customer, acc, "akv-1", product, channel="azure-key-vault")
    body = assert_problem(r, 402, slug="insufficient-funds")
    assert body["tried"] == ["balance"] and "accepts only the balance" in body["detail"]
    assert "order_card" not in entry_types(api, customer, acc)
    assert api.call("GET", f"/accounts/{acc}/orders/akv-1", customer).status_code == 404
    assert balance(api, customer, acc) == 1_000


def test_emergency_purchase_on_credit(api: Api, operator: str, product: str) -> None:
    acc, customer = funded(api, operator, 1_000)
    r = place(api, customer, acc, "emergency-1", product, may_use_credit=True)
    assert r.status_code == 201, r.text
    payment = r.json()["payment"]
    assert (payment["method"], payment["from_balance"], payment["from_credit"]) == ("credit", 1_000, PRICE - 1_000)
    account = api.call("GET", f"/accounts/{acc}", customer).json()
    assert (account["balance"], account["available"]) == (1_000 - PRICE, 200_000 + 1_000 - PRICE)
    assert entry_types(api, customer, acc)[0] == "order_credit"


def test_insufficient_funds_leaves_the_balance_untouched(api: Api, operator: str, product: str) -> None:
    acc, customer = funded(api, operator, 4_000)
    before = placed_transactions(api, customer, acc)
    body = assert_problem(place(api, customer, acc, "short-1", product), 402, slug="insufficient-funds")
    assert (body["shortfall"], body["currency"], body["order_id"]) == (1_000, "EUR", "short-1")
    assert balance(api, customer, acc) == 4_000
    assert placed_transactions(api, customer, acc) == before
    # a decline is not stored: after a top-up the same order id is paid
    api.call(
        "POST",
        f"/accounts/{acc}/adjustments",
        operator,
        json={"type": "credit", "amount": 1_000, "reason": "top-up"},
        headers={"Idempotency-Key": f"topup-{acc}"},
    )
    assert place(api, customer, acc, "short-1", product).status_code == 201
    assert balance(api, customer, acc) == 0


def test_cancel_returns_the_money_once(api: Api, operator: str, product: str) -> None:
    acc, customer = funded(api, operator, PRICE)
    assert place(api, customer, acc, "cancel-me", product).status_code == 201
    path = f"/accounts/{acc}/orders/cancel-me/cancel"
    done = api.call("POST", path, customer, json={"reason": "wrong domain"}, headers={"Idempotency-Key": "cx-1"})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "cancelled" and done.json()["cancellation"]["reason"] == "wrong domain"
    again = api.call("POST", path, customer, json={"reason": "wrong domain"}, headers={"Idempotency-Key": "cx-1"})
    assert again.json() == done.json() and again.headers.get("idempotent-replayed") == "true"
    other = api.call("POST", path, customer, headers={"Idempotency-Key": "cx-2"})
    assert_problem(other, 409, slug="order-not-cancellable")
    assert balance(api, customer, acc) == PRICE
    assert entry_types(api, customer, acc)[:2] == ["order_cancellation", "order_balance"]
    assert api.call("GET", f"/accounts/{acc}/orders/cancel-me", customer).json()["state"] == "cancelled"


def test_someone_elses_orders_are_404(api: Api, operator: str, product: str) -> None:
    acc, customer = funded(api, operator, PRICE)
    assert place(api, customer, acc, "mine", product).status_code == 201
    _, stranger = funded(api, operator, 0)
    assert api.call("GET", f"/accounts/{acc}/orders/mine", stranger).status_code == 404
    assert place(api, stranger, acc, "theirs", product).status_code == 404
    assert api.call("GET", f"/accounts/{acc}/payment-methods", stranger).status_code == 404
