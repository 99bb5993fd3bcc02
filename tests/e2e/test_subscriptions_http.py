"""Real HTTP against the local server: a backdated subscription and its prorated charge, inventory added mid-term,
renewal inventory, suspend / reactivate, and who may see it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from account_credit.kernel.proration import prorate
from tools import localauth

from .conftest import Api
from .test_accounts_http import assert_problem
from .test_orders_http import balance, funded

pytestmark = pytest.mark.e2e

PRICE = 12_000  # EUR cents, one year


@pytest.fixture(scope="module")
def product(api: Api, operator: str) -> str:
    code = f"sub-ov-1y-{uuid.uuid4().hex[:6]}"
    r = api.call(
        "PUT",
        f"/catalog/products/{code}",
        operator,
        json={"name": "OV SSL", "term_months": 12, "prices": {"EUR": PRICE}},
    )
    assert r.status_code == 201, r.text
    return code


def test_a_backdated_subscription_inventory_and_suspension_walkthrough(api: Api, operator: str, product: str) -> None:
    acc, customer = funded(api, operator, 100_000)
    today = datetime.now(UTC).date()
    start = today - timedelta(days=60)
    body = {"term_months": 12, "lines": [{"product_code": product, "quantity": 2}], "start_date": start.isoformat()}
    path = f"/accounts/{acc}/subscriptions"

    missing_key = api.call("POST", path, customer, json=body)
    assert_problem(missing_key, 422)

    created = api.call("POST", path, customer, json=body, headers={"Idempotency-Key": "sub-1"})
    assert created.status_code == 201, created.text
    sub = created.json()
    sid = sub["subscription_id"]
    expected = prorate(2 * PRICE, start, 12, today)
    assert (sub["state"], sub["term_start"], sub["term_end"]) == (
        "active",
        start.isoformat(),
        expected.term_end.isoformat(),
    )
    assert sub["renewal_date"] == expected.term_end.isoformat()

    # the prorated charge, on the order and on the balance
    first = api.call("GET", f"/accounts/{acc}/orders/{sub['orders'][0]}", customer).json()
    assert first["channel"] == "subscription" and first["net"] == expected.amount < 2 * PRICE
    line = first["lines"][0]
    assert (line["full_amount"], line["remaining_days"], line["term_days"]) == (
        2 * PRICE,
        expected.remaining_days,
        expected.term_days,
    )
    assert balance(api, customer, acc) == 100_000 - first["total"]

    # the same key again: the first answer, nothing charged again
    again = api.call("POST", path, customer, json=body, headers={"Idempotency-Key": "sub-1"})
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["subscription_id"] == sid
    assert balance(api, customer, acc) == 100_000 - first["total"]

    # inventory added mid-term: usable at once, charged for the rest of the term from today
    added = api.call(
        "POST",
        f"{path}/{sid}/inventory",
        customer,
        json={"lines": [{"product_code": product, "quantity": 1}]},
        headers={"Idempotency-Key": "inv-1"},
    )
    assert added.status_code == 201, added.text
    inv = added.json()
    assert inv["billing"] == "immediate" and inv["subscription"]["inventory"][0]["quantity"] == 3
    inv_order = api.call("GET", f"/accounts/{acc}/orders/{inv['order_id']}", customer).json()
    assert inv_order["net"] == prorate(PRICE, start, 12, today).amount
    assert balance(api, customer, acc) == 100_000 - first["total"] - inv_order["total"]

    # renewal inventory and auto-renewal
    changed = api.call(
        "PATCH", f"{path}/{sid}", customer, json={"renewal_items": [{"product_code": product, "quantity": 5}]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["renewal_inventory"] == [{"product_code": product, "quantity": 5}]
    assert_problem(api.call("PATCH", f"{path}/{sid}", customer, json={}), 422)

    # the renewal forecast: this renewal is ten months away, outside the 30-day window
    forecast = api.call("GET", f"/accounts/{acc}/renewals/forecast", customer)
    assert forecast.status_code == 200, forecast.text
    assert (forecast.json()["due"], forecast.json()["short"], forecast.json()["subscriptions"]) == (0, False, [])

    # suspend and reactivate: no charge
    paid_so_far = balance(api, customer, acc)
    held = api.call("POST", f"{path}/{sid}/suspend", customer)
    assert held.status_code == 200, held.text
    assert (held.json()["state"], held.json()["inventory_usable"], held.json()["renewal_date"]) == (
        "suspended",
        False,
        None,
    )
    refused = api.call(
        "POST",
        f"{path}/{sid}/inventory",
        customer,
        json={"lines": [{"product_code": product, "quantity": 1}]},
        headers={"Idempotency-Key": "inv-2"},
    )
    assert_problem(refused, 409, slug="subscription-suspended")
    back = api.call("POST", f"{path}/{sid}/reactivate", customer)
    assert back.status_code == 200 and back.json()["state"] == "active"
    assert balance(api, customer, acc) == paid_so_far

    listed = api.call("GET", path, customer).json()["items"]
    assert [s["subscription_id"] for s in listed] == [sid]
    assert listed[0]["orders"] == [sub["orders"][0], inv["order_id"]]


def test_a_declined_subscription_is_not_created_and_strangers_see_nothing(
    api: Api, operator: str, product: str
) -> None:
    acc, customer = funded(api, operator, 0)
    path = f"/accounts/{acc}/subscriptions"
    body = {"term_months": 12, "lines": [{"product_code": product, "quantity": 1}]}
    declined = api.call("POST", path, customer, json=body, headers={"Idempotency-Key": "s"})
    assert_problem(declined, 402, slug="insufficient-funds")
    assert api.call("GET", path, customer).json()["items"] == []
    wrong_term = {"term_months": 1, "lines": [{"product_code": product, "quantity": 1}]}
    assert_problem(api.call("POST", path, operator, json=wrong_term, headers={"Idempotency-Key": "t"}), 422)
    other, _ = funded(api, operator, 0)
    stranger = localauth.mint("customer", account_id=other)
    assert_problem(api.call("GET", path, stranger), 404)
    assert_problem(api.call("GET", f"{path}/sub_nope", customer), 404)
