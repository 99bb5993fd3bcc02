"""Subscriptions on DynamoDB Local: one create request sent by several containers at once is one subscription and
one charge; the renewal index keys come and go with suspend / reactivate / auto-renewal on the real table; a
pending inventory charge is settled once by runs racing each other."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest

from account_credit.accounts import service as accounts
from account_credit.accounts.schemas import AccountCreate, Adjustment
from account_credit.catalog import service as catalog
from account_credit.kernel.auth import Principal, Role
from account_credit.kernel.errors import DomainError
from account_credit.kernel.proration import prorate
from account_credit.orders.schemas import ProductPut
from account_credit.platform.store import keys
from account_credit.platform.store.dynamo import DynamoStore
from account_credit.subscriptions import service as svc
from account_credit.subscriptions.schemas import InventoryAdd, SubscriptionChange, SubscriptionCreate
from tests.integration.helpers import containers

OPERATOR = Principal(subject="op-1", role=Role.OPERATOR)
ACTOR = "customer:c-1"
TODAY = date(2026, 3, 1)
PRICE = 10_000


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    yield


def race(stores: list[DynamoStore], jobs: list[Callable[[DynamoStore], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))

    def run(i: int) -> Any:
        barrier.wait()
        try:
            return jobs[i](stores[i % len(stores)])
        except DomainError as exc:
            return exc

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, range(len(jobs))))


def funded(store: DynamoStore) -> tuple[str, str]:
    code = f"ov-{uuid.uuid4().hex[:8]}"
    catalog.put_product(store, OPERATOR, code, ProductPut(name="OV SSL", term_months=12, prices={"USD": PRICE}))
    req = AccountCreate.model_validate({"currency": "USD", "company": {"name": "Acme"}, "billing_emails": ["a@b.test"]})
    acc = accounts.open_account(store, req).account_id
    credit = Adjustment.model_validate({"type": "credit", "amount": 1_000_000, "reason": "funds"})
    accounts.adjust(store, credit.command(acc, f"fund-{acc}", OPERATOR.actor))
    return acc, code


def request(code: str, **extra: Any) -> SubscriptionCreate:
    return SubscriptionCreate.model_validate(
        {"term_months": 12, "lines": [{"product_code": code, "quantity": 2}], "start_date": "2026-01-01", **extra}
    )


def test_one_create_request_sent_by_five_containers_at_once_is_one_subscription_and_one_charge(
    table_name: str, dynamo_client: Any
) -> None:
    stores = containers(table_name, dynamo_client, 5)
    acc, code = funded(stores[0])
    outcomes = race(stores, [lambda s: svc.create(s, acc, request(code), "same-key", ACTOR, today=TODAY)] * 5)
    bodies = [o.body for o in outcomes if not isinstance(o, Exception)]
    assert bodies, outcomes
    assert all(not isinstance(o, Exception) or o.status == 409 for o in outcomes), outcomes
    assert len({b["subscription_id"] for b in bodies}) == 1
    assert len(stores[0].query_prefix(*keys.subscriptions_prefix(acc))) == 1
    assert len(stores[0].query_prefix(keys.account_pk(acc), "ORDER#")) == 1
    charged = prorate(2 * PRICE, date(2026, 1, 1), 12, TODAY).amount
    assert (stores[0].get_account(acc) or pytest.fail()).balance == 1_000_000 - charged
    # and any retry afterwards is the same answer
    again = svc.create(stores[1], acc, request(code), "same-key", ACTOR, today=TODAY)
    assert again.replayed and again.body["subscription_id"] == bodies[0]["subscription_id"]


def _index(store: DynamoStore, acc: str, sid: str) -> dict[str, Any]:
    item = store.get_item(*keys.subscription(acc, sid)) or {}
    return {k: item[k] for k in ("gsi1pk", "gsi1sk") if k in item}


def test_the_renewal_index_lists_only_active_auto_renewing_subscriptions(store: DynamoStore) -> None:
    acc, code = funded(store)
    sid = svc.create(store, acc, request(code), "k", ACTOR, today=TODAY).body["subscription_id"]
    listed = {"gsi1pk": keys.RENEWAL_INDEX_PK, "gsi1sk": keys.renewal_index_sk("2027-01-01", acc, sid)}
    assert _index(store, acc, sid) == listed
    due, _ = store.index_page(keys.RENEWAL_INDEX_PK, until="2027-01-01#~", limit=1000)
    assert sid in {d["subscription_id"] for d in due}
    svc.suspend(store, acc, sid, ACTOR, today=TODAY)
    assert _index(store, acc, sid) == {}
    due, _ = store.index_page(keys.RENEWAL_INDEX_PK, until="2027-01-01#~", limit=1000)
    assert sid not in {d["subscription_id"] for d in due}
    svc.reactivate(store, acc, sid, ACTOR, today=TODAY)
    assert _index(store, acc, sid) == listed
    svc.change(store, acc, sid, SubscriptionChange.model_validate({"auto_renew": False}), ACTOR, TODAY)
    assert _index(store, acc, sid) == {}


def test_runs_racing_over_a_pending_inventory_charge_pay_it_once(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 3)
    acc, code = funded(stores[0])
    created = svc.create(stores[0], acc, request(code, inventory_billing="next_invoice"), "k", ACTOR, today=TODAY)
    sid = created.body["subscription_id"]
    lines = InventoryAdd.model_validate({"lines": [{"product_code": code, "quantity": 1}]})
    svc.add_inventory(stores[0], acc, sid, lines, "inv", ACTOR, today=date(2026, 7, 1))
    before = (stores[0].get_account(acc) or pytest.fail()).balance
    outcomes = race(stores, [lambda s: svc.settle_pending(s, acc, date(2026, 8, 1))] * 3)
    paid = [o for o in outcomes if isinstance(o, list) and o]
    assert paid and all(p == paid[0] for p in paid), outcomes
    expected = prorate(PRICE, date(2026, 1, 1), 12, date(2026, 7, 1)).amount
    assert (stores[0].get_account(acc) or pytest.fail()).balance == before - expected
    view = svc.get(stores[0], acc, sid, date(2026, 8, 1))
    assert view["orders"].count(paid[0][0]) == 1 and view["pending_charges"][0]["state"] == "charged"
