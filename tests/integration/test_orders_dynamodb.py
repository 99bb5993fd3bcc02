"""Orders against DynamoDB Local: concurrency at the credit limit, replays, calls per path, cancel, races."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from account_credit.accounts import service as accounts_svc
from account_credit.accounts.schemas import Settings
from account_credit.catalog import service as catalog
from account_credit.kernel.auth import Principal, Role
from account_credit.kernel.errors import ConcurrentUpdate, InsufficientFunds
from account_credit.orders import service as orders
from account_credit.orders.config import order_settings
from account_credit.orders.schemas import OrderCancel, OrderCreate, ProductPut
from account_credit.payment_methods import service as payment_methods
from account_credit.platform.payments.port import SavedCard
from account_credit.platform.store import keys
from account_credit.platform.store.dynamo import DynamoStore
from tests.integration.helpers import CallCounter, containers
from tests.integration.test_ledger_dynamodb import all_entries, assert_ledger_consistent, open_funded

pytestmark = pytest.mark.integration

OPERATOR = Principal(subject="op", role=Role.OPERATOR)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.delenv("PAYMENT_PROVIDER", raising=False)
    order_settings.cache_clear()
    yield
    order_settings.cache_clear()


def product(store: DynamoStore, price: int) -> str:
    """A product of its own (the catalog partition is shared by every test of the session)."""
    code = f"p-{uuid.uuid4().hex[:10]}"
    catalog.put_product(store, OPERATOR, code, ProductPut(name="OV SSL", term_months=12, prices={"USD": price}))
    return code


def req(order_id: str, code: str, *, credit: bool = False, channel: str = "api") -> OrderCreate:
    return OrderCreate(
        order_id=order_id, channel=channel, lines=[{"product_code": code, "quantity": 1}], may_use_credit=credit
    )


def pay(store: DynamoStore, account_id: str, request: OrderCreate) -> tuple[str, Any]:
    """Like a client: 409 contention is retried with the same order id; 402 is an answer."""
    for _ in range(20):
        try:
            return "paid", orders.pay_order(store, request.command(account_id, OPERATOR.actor))
        except InsufficientFunds as exc:
            return "declined", exc
        except ConcurrentUpdate:
            continue
    raise AssertionError("contention never settled")


def save_card(store: DynamoStore, account_id: str, token: str = "pm_card_visa") -> None:
    card = SavedCard(provider="sandbox", token=token, brand="visa", last4="4242", exp_month=12, exp_year=2099)
    payment_methods.save_card(store, account_id, card)


def order_items(store: DynamoStore, account_id: str) -> list[dict[str, Any]]:
    return store.query_prefix(f"ACCOUNT#{account_id}", keys.ORDER_PREFIX, limit=1000)


def test_400_concurrent_orders_with_credit_never_pass_the_limit(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 8)
    balance, price = 130_550, 1_000
    account_id = open_funded(stores[0], balance)  # credit limit: the default 2,000.00 USD
    limit = stores[0].get_account(account_id).credit_limit  # type: ignore[union-attr]
    code = product(stores[0], price)

    def attempt(i: int) -> tuple[str, Any]:
        return pay(stores[i % len(stores)], account_id, req(f"emergency-{i}", code, credit=True))

    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(attempt, range(400)))

    paid = [r.body for kind, r in outcomes if kind == "paid"]
    declined = [e for kind, e in outcomes if kind == "declined"]
    expected = (balance + limit) // price
    assert len(paid) == expected
    assert len(declined) == 400 - expected
    account = stores[0].get_account(account_id)
    assert account is not None
    assert account.balance == balance - expected * price >= -limit
    assert all(e.extra["shortfall"] > 0 for e in declined)
    methods = Counter(b["payment"]["method"] for b in paid)
    assert set(methods) <= {"balance", "credit"} and methods["balance"] >= 1 and methods["credit"] >= 1
    # what PO invoicing will bill: the credit actually drawn
    assert sum(b["payment"]["from_credit"] for b in paid) == -account.balance
    assert len(order_items(stores[0], account_id)) == expected
    assert_ledger_consistent(stores[0], account_id)


def test_replayed_order_ids_debit_once(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 6)
    price = 2_500
    account_id = open_funded(stores[0], 40 * price + price // 2)
    code = product(stores[0], price)
    ids = [f"dup-{i}" for i in range(60)]
    deliveries = [(i, order_id) for i, order_id in enumerate(ids * 4)]

    def attempt(job: tuple[int, str]) -> tuple[str, str, Any]:
        i, order_id = job
        kind, result = pay(stores[i % len(stores)], account_id, req(order_id, code))
        return order_id, kind, result

    with ThreadPoolExecutor(max_workers=24) as pool:
        outcomes = list(pool.map(attempt, deliveries))

    bodies: dict[str, list[dict[str, Any]]] = {}
    for order_id, kind, result in outcomes:
        if kind == "paid":
            bodies.setdefault(order_id, []).append(result.body)
    assert len(bodies) == 40, "exactly floor(balance / price) distinct orders are paid"
    for same in bodies.values():
        assert all(b == same[0] for b in same), "every delivery of a paid order id gets the first answer"
    entries = [e for e in all_entries(stores[0], account_id) if e.type == "order_balance"]
    assert sorted(e.reference["order_id"] for e in entries) == sorted(bodies), "one debit per paid order id"
    assert stores[0].get_account(account_id).balance == price // 2  # type: ignore[union-attr]
    assert_ledger_consistent(stores[0], account_id)


class Captured:
    """TransactWriteItems parameters, via botocore's own event hooks."""

    def __init__(self, dynamo_client: Any) -> None:
        self.client = dynamo_client
        self.items: list[list[dict[str, Any]]] = []
        dynamo_client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", self._grab)

    def _grab(self, params: dict[str, Any], **_: Any) -> None:
        self.items.append(params["TransactItems"])

    def close(self) -> None:
        self.client.meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", self._grab)


def _kinds(transact: list[dict[str, Any]]) -> list[str]:
    out = []
    for op in transact:
        ((verb, body),) = op.items()
        if "Item" in body:
            out.append(f"{verb}:{body['Item'].get('kind', {}).get('S', '?')}")
        else:
            out.append(f"{verb}:{body['Key']['sk']['S'].split('#')[0]}")
    return out


def test_warm_balance_order_is_one_transact_write_and_no_read(
    store: DynamoStore, counter: CallCounter, dynamo_client: Any
) -> None:
    account_id = open_funded(store, 50_000)
    code = product(store, 1_000)
    orders.pay_order(store, req("warm-up", code).command(account_id, OPERATOR.actor))  # the catalog is now cached too
    counter.reset()
    captured = Captured(dynamo_client)
    try:
        result = orders.pay_order(store, req("warm-1", code).command(account_id, OPERATOR.actor))
    finally:
        captured.close()
    assert dict(counter.calls) == {"TransactWriteItems": 1}
    assert result.body["payment"] | {"entry_id": ""} == {
        "method": "balance",
        "amount": 1_000,
        "from_balance": 1_000,
        "from_credit": 0,
        "entry_id": "",
        "card": None,
        "gift_card": None,
        "attempts": [{"method": "balance", "payment_method_id": "balance", "outcome": "paid", "decline_code": None}],
    }
    [transact] = captured.items
    assert _kinds(transact) == [
        "Update:ACCOUNT",
        "Put:entry",
        "Put:order",
        "Put:event",
        "Put:event",
        "Put:idempotency",
    ]
    counter.reset()
    again = orders.pay_order(store, req("warm-1", code).command(account_id, OPERATOR.actor))
    assert again.replayed and again.body == result.body
    assert dict(counter.calls) == {"TransactWriteItems": 1}, "a replay costs the one failed write"


def test_calls_on_the_credit_and_card_paths(store: DynamoStore, counter: CallCounter) -> None:
    account_id = open_funded(store, 100)
    code = product(store, 1_000)
    with pytest.raises(InsufficientFunds):
        orders.pay_order(store, req("warm-up", code).command(account_id, OPERATOR.actor))  # warms the catalog
    accounts_svc.put_settings(store, account_id, Settings(bill_to_balance=True, cards_enabled=False))
    counter.reset()
    emergency = orders.pay_order(store, req("credit-1", code, credit=True).command(account_id, OPERATOR.actor))
    assert emergency.body["payment"]["method"] == "credit"
    # The balance attempt is refused only on consistent reads of the account and the idempotency
    # record (the store's commit reads twice before it declines), then one write into credit.
    assert dict(counter.calls) == {"BatchGetItem": 2, "TransactWriteItems": 1}

    accounts_svc.put_settings(store, account_id, Settings(bill_to_balance=True, cards_enabled=True))
    save_card(store, account_id)
    counter.reset()
    by_card = orders.pay_order(store, req("card-1", code).command(account_id, OPERATOR.actor))
    assert by_card.body["payment"]["method"] == "card"
    # + the preferences and the card they name (GetItem x2), fresh settings and the idempotency record (GetItem x2)
    # before the charge
    assert dict(counter.calls) == {"BatchGetItem": 2, "GetItem": 4, "TransactWriteItems": 1}
    assert store.get_account(account_id).balance == 100 - 1_000  # type: ignore[union-attr]
    assert_ledger_consistent(store, account_id)


def test_a_decline_writes_only_its_event(store: DynamoStore) -> None:
    account_id = open_funded(store, 500)
    code = product(store, 1_000)
    save_card(store, account_id)  # an approving card that this channel must not use

    def items() -> dict[str, list[dict[str, Any]]]:
        return {
            p: store.query_prefix(f"ACCOUNT#{account_id}", p, limit=1000) for p in ("ENTRY#", "ORDER#", "IDEM#order")
        }

    before = items()
    with pytest.raises(InsufficientFunds) as info:
        orders.pay_order(store, req("nope", code, channel="azure-key-vault").command(account_id, OPERATOR.actor))
    assert info.value.extra["shortfall"] == 500
    assert items() == before
    events = store.query_prefix(f"ACCOUNT#{account_id}", "EVENT#", limit=1000)
    assert [e["type"] for e in events] == ["order.declined"]
    assert events[0]["payload"]["tried"] == ["balance"]
    assert store.get_account(account_id).balance == 500  # type: ignore[union-attr]


def test_settings_changed_in_another_container_are_honoured(table_name: str, dynamo_client: Any) -> None:
    warm, other = containers(table_name, dynamo_client, 2)
    account_id = open_funded(warm, 50_000)
    code = product(warm, 1_000)
    save_card(warm, account_id)
    orders.pay_order(warm, req("by-balance", code).command(account_id, OPERATOR.actor))  # warm: bill to balance is on
    accounts_svc.put_settings(other, account_id, Settings(bill_to_balance=False, cards_enabled=True))
    paid = orders.pay_order(warm, req("after-change", code).command(account_id, OPERATOR.actor))
    assert paid.body["payment"]["method"] == "card"
    assert warm.get_account(account_id).balance == 49_000  # type: ignore[union-attr]
    assert_ledger_consistent(warm, account_id)


def test_concurrent_cancels_from_many_containers_credit_once(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 4)
    account_id = open_funded(stores[0], 5_000)
    code = product(stores[0], 5_000)
    orders.pay_order(stores[0], req("to-cancel", code).command(account_id, OPERATOR.actor))

    def attempt(i: int) -> str:
        try:
            orders.cancel_order(
                stores[i % 4], OrderCancel().command(account_id, "to-cancel", f"cancel-{i}", OPERATOR.actor)
            )
            return "ok"
        except orders.OrderNotCancellable:
            return "refused"
        except ConcurrentUpdate:
            return "retry"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = Counter(pool.map(attempt, range(12)))
    assert outcomes["ok"] == 1
    assert stores[0].get_account(account_id).balance == 5_000  # type: ignore[union-attr]
    got = orders.get_order(stores[0], account_id, "to-cancel")
    assert got["state"] == "cancelled"
    assert_ledger_consistent(stores[0], account_id)


def test_card_order_cancel_refunds_through_the_sandbox(store: DynamoStore) -> None:
    account_id = open_funded(store, 0)
    code = product(store, 3_000)
    save_card(store, account_id)
    paid = orders.pay_order(store, req("card-order", code).command(account_id, OPERATOR.actor))
    assert paid.body["payment"]["method"] == "card"
    done = orders.cancel_order(
        store, OrderCancel(reason="dup").command(account_id, "card-order", "c-1", OPERATOR.actor)
    )
    assert done.body["cancellation"]["refund_id"].startswith("re_sbx_")
    assert store.get_account(account_id).balance == 0  # type: ignore[union-attr]
    assert_ledger_consistent(store, account_id)  # places the entries
    types = [e.type for e in sorted(all_entries(store, account_id), key=lambda e: e.seq)]
    assert types == ["order_card", "order_cancellation"]
