"""Real HTTP against the local server: an account's orders list, finding accounts, changing an account's partner."""

from __future__ import annotations

import uuid

import pytest

from tools import localauth

from .conftest import Api
from .test_accounts_http import assert_problem, open_account
from .test_orders_http import funded, place, product  # noqa: F401 - the module-scoped product fixture

pytestmark = pytest.mark.e2e


def test_an_accounts_orders_newest_first_with_filters_and_cursor(
    api: Api,
    operator: str,
    product: str,  # noqa: F811
) -> None:
    acc, customer = funded(api, operator, 50_000)
    for oid in ("list-c", "list-a", "list-b"):
        assert place(api, customer, acc, oid, product).status_code == 201
    cancel = api.call(
        "POST",
        f"/accounts/{acc}/orders/list-a/cancel",
        customer,
        json={"reason": "ordered by mistake"},
        headers={"Idempotency-Key": "cancel-list-a"},
    )
    assert cancel.status_code == 200, cancel.text
    path = f"/accounts/{acc}/orders"
    first = api.call("GET", path, customer, params={"limit": 2})
    assert first.status_code == 200, first.text
    assert [o["order_id"] for o in first.json()["items"]] == ["list-b", "list-a"]
    rest = api.call("GET", path, customer, params={"limit": 2, "cursor": first.json()["next_cursor"]})
    assert [o["order_id"] for o in rest.json()["items"]] == ["list-c"] and rest.json()["next_cursor"] is None
    cancelled = api.call("GET", path, operator, params={"state": "cancelled"}).json()["items"]
    assert [o["order_id"] for o in cancelled] == ["list-a"] and cancelled[0]["cancellation"] is not None
    assert api.call("GET", path, customer, params={"channel": "api"}).json()["items"] == []
    assert api.call("GET", path, customer, params={"to": "2000-01-01"}).json()["items"] == []
    assert_problem(api.call("GET", path, customer, params={"cursor": "bogus"}), 422, field="cursor")
    other = localauth.mint("customer", account_id="acc_someone_else")
    assert_problem(api.call("GET", path, other), 404)


def test_find_accounts_and_move_one_to_another_partner(api: Api, operator: str) -> None:
    tag = uuid.uuid4().hex[:8]
    p1, p2 = f"p1-{tag}", f"p2-{tag}"
    partner1, partner2 = localauth.mint("partner", partner_id=p1), localauth.mint("partner", partner_id=p2)
    acc = open_account(api, partner1, company={"name": f"Findable {tag} GmbH"})["account_id"]
    open_account(api, partner2, company={"name": f"Other {tag} s.r.o."})
    everyone = api.call("GET", "/accounts", operator, params={"q": tag.upper()})
    assert everyone.status_code == 200, everyone.text
    assert [a["company_name"] for a in everyone.json()["items"]] == [f"Findable {tag} GmbH", f"Other {tag} s.r.o."]
    own = api.call("GET", "/accounts", partner1).json()["items"]
    assert [a["account_id"] for a in own] == [acc]
    assert_problem(api.call("GET", "/accounts", partner1, params={"partner_id": p2}), 403)
    assert_problem(api.call("GET", "/accounts", localauth.mint("customer", account_id=acc)), 403)

    move = {"partner_id": p2, "reason": "the customer changed resellers"}
    assert_problem(api.call("PUT", f"/accounts/{acc}/partner", partner1, json=move), 403)
    assert_problem(api.call("PUT", f"/accounts/{acc}/partner", operator, json={"partner_id": p2}), 422, field="reason")
    moved = api.call("PUT", f"/accounts/{acc}/partner", operator, json=move)
    assert moved.status_code == 200 and moved.json()["partner_id"] == p2
    assert api.call("GET", "/accounts", partner1).json()["items"] == []
    assert acc in [a["account_id"] for a in api.call("GET", "/accounts", partner2).json()["items"]]
    assert api.call("GET", f"/accounts/{acc}", partner2).status_code == 200
    assert_problem(api.call("GET", f"/accounts/{acc}", partner1), 404)
