"""Refunds on DynamoDB Local, from many containers at once (separate store caches racing on one table): partial
refunds of one order never take more certificates than it has nor give back more than it cost, a card order's
refunds reach the sandbox provider once each, and the ledger stays exact."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from account_credit.kernel.errors import ConcurrentUpdate, InvalidInput
from account_credit.orders import refunds as rules
from account_credit.orders import service as orders
from account_credit.orders.cancel import RefundInProgress
from account_credit.orders.config import order_settings
from account_credit.orders.schemas import OrderCreate, RefundCreate
from account_credit.orders.state import OrderNotRefundable
from tests.integration.helpers import containers
from tests.integration.test_ledger_dynamodb import assert_ledger_consistent, open_funded
from tests.integration.test_orders_dynamodb import OPERATOR, product, save_card

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.delenv("PAYMENT_PROVIDER", raising=False)
    order_settings.cache_clear()
    yield
    order_settings.cache_clear()


def buy(store: Any, account_id: str, code: str, quantity: int) -> dict[str, Any]:
    req = OrderCreate(order_id="o-1", channel="api", lines=[{"product_code": code, "quantity": quantity}])
    return orders.pay_order(store, req.command(account_id, OPERATOR.actor)).body


def race(stores: list[Any], account_id: str, quantities: list[int]) -> Counter[str]:
    """Each quantity refunded by its own container with its own key, all released at once; a caller retries a
    409 contention with the same key, like a client."""
    barrier = threading.Barrier(len(quantities))

    def attempt(i: int) -> str:
        body = RefundCreate.model_validate({"lines": [{"line": 1, "quantity": quantities[i]}]})
        cmd = body.command(account_id, "o-1", f"refund-{i}", OPERATOR.actor, True)
        barrier.wait()
        for _ in range(30):
            try:
                orders.refund_order(stores[i % len(stores)], cmd)
                return "refunded"
            except (InvalidInput, OrderNotRefundable):
                return "refused"
            except (ConcurrentUpdate, RefundInProgress):
                continue
        return "gave up"

    with ThreadPoolExecutor(max_workers=len(quantities)) as pool:
        return Counter(pool.map(attempt, range(len(quantities))))


def test_concurrent_partial_refunds_never_take_more_than_the_order_has(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 4)
    account_id = open_funded(stores[0], 100_000)
    code = product(stores[0], 3_333)
    paid = buy(stores[0], account_id, code, 7)
    outcomes = race(stores, account_id, [2, 2, 2, 2, 1, 3])  # 12 asked for, 7 bought
    order = orders.get_order(stores[0], account_id, "o-1")
    refunded = order["lines"][0]["refunded"]
    assert outcomes["gave up"] == 0 and refunded <= 7
    assert refunded == sum(line["quantity"] for r in order["refunds"] for line in r["lines"])
    given = sum(r["amount"] for r in order["refunds"])
    assert given == rules.part(paid["lines"][0]["gross"], refunded, 7) <= paid["total"]
    assert [r["number"] for r in order["refunds"]] == list(range(1, outcomes["refunded"] + 1))
    assert stores[0].get_account(account_id).balance == 100_000 - paid["total"] + given  # type: ignore[union-attr]
    assert_ledger_consistent(stores[0], account_id)


def test_concurrent_card_refunds_each_reach_the_provider_once(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 3)
    account_id = open_funded(stores[0], 0)
    code = product(stores[0], 2_000)
    save_card(stores[0], account_id)
    paid = buy(stores[0], account_id, code, 5)
    assert paid["payment"]["method"] == "card"
    outcomes = race(stores, account_id, [1, 1, 1, 1, 1, 1])
    order = orders.get_order(stores[0], account_id, "o-1")
    assert outcomes == Counter({"refunded": 5, "refused": 1}) and order["state"] == "refunded"
    assert sum(r["amount"] for r in order["refunds"]) == paid["total"]
    assert len({r["refund_id"] for r in order["refunds"]}) == 5
    assert stores[0].get_account(account_id).balance == 0  # type: ignore[union-attr]
    assert_ledger_consistent(stores[0], account_id)
