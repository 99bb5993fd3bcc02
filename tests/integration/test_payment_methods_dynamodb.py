"""Payment methods on DynamoDB Local, as concurrent containers use them: of several first cards registered at once
exactly one becomes the alternate, one card registered twice at once is one payment method, a card is in the
card-expiry index of its month, and a gift card spent by many orders at once never goes below zero."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from account_credit.accounts import service as accounts
from account_credit.accounts.schemas import AccountCreate
from account_credit.catalog import service as catalog
from account_credit.kernel.auth import Principal, Role
from account_credit.kernel.errors import ConcurrentUpdate, InsufficientFunds
from account_credit.orders import service as orders
from account_credit.orders.schemas import OrderCreate, ProductPut
from account_credit.payment_methods import gift_cards
from account_credit.payment_methods import service as methods
from account_credit.platform.payments.port import SavedCard
from account_credit.platform.payments.sandbox import SandboxProvider
from account_credit.platform.store import keys
from tests.integration.helpers import containers

OPERATOR = Principal(subject="op-1", role=Role.OPERATOR)
PRICE = 1_000


def _account(store: Any) -> str:
    req = AccountCreate.model_validate({"currency": "EUR", "company": {"name": "Acme"}, "billing_emails": ["a@b.test"]})
    return accounts.open_account(store, req).account_id


def _card(token: str) -> SavedCard:
    return SavedCard(provider="sandbox", token=token, brand="visa", last4="4242", exp_month=12, exp_year=2099)


def _at_once(stores: list[Any], jobs: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))

    def run(i: int) -> Any:
        barrier.wait()
        return jobs[i](stores[i % len(stores)])

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, range(len(jobs))))


def test_of_eight_first_cards_registered_at_once_exactly_one_is_the_alternate(
    table_name: str, dynamo_client: Any
) -> None:
    stores = containers(table_name, dynamo_client, 8)
    acc = _account(stores[0])
    tokens = [f"pm_{uuid.uuid4().hex[:10]}" for _ in range(8)]
    _at_once(stores, [lambda s, t=t: methods.save_card(s, acc, _card(t)) for t in tokens])
    saved = methods.list_methods(stores[0], acc)
    assert sorted(m.card.token for m in saved if m.card) == sorted(tokens)
    prefs = methods.preferences(stores[0], acc)
    assert (prefs.default, prefs.version) == ("balance", 1), "written once, by the first card"
    first = stores[0].get_item(*keys.first_card(acc))
    assert first is not None and prefs.alternate == first["payment_method_id"]
    assert prefs.alternate in {m.payment_method_id for m in saved}


def test_one_card_registered_eight_times_at_once_is_one_method(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 8)
    acc = _account(stores[0])
    got = _at_once(stores, [lambda s: methods.save_card(s, acc, _card("pm_same")) for _ in range(8)])
    saved = methods.list_methods(stores[0], acc)
    assert len(saved) == 1 and methods.preferences(stores[0], acc).alternate == saved[0].payment_method_id
    assert {m.payment_method_id for m in got} == {saved[0].payment_method_id}


def test_a_card_is_found_in_the_expiry_index_of_its_month(table_name: str, dynamo_client: Any) -> None:
    [store] = containers(table_name, dynamo_client, 1)
    acc = _account(store)
    month = f"2098-{uuid.uuid4().int % 12 + 1:02d}"  # a month no other test uses... mostly: filter by account
    pm = methods.save_card(
        store, acc, SavedCard("sandbox", "pm_exp", "visa", "4242", int(month[5:]), int(month[:4]))
    ).payment_method_id

    def listed(m: str) -> list[str]:
        items, _ = store.index_page(keys.card_expiry_index(m), limit=1000)
        return [i["gsi1sk"] for i in items if i["gsi1sk"].startswith(f"{acc}#")]

    assert listed(month) == [f"{acc}#{pm}"]
    methods.update_card(store, acc, pm, 1, 2099, None, providers=lambda _: SandboxProvider())
    assert listed(month) == [] and listed("2099-01") == [f"{acc}#{pm}"]
    methods.delete_method(store, acc, pm)
    assert listed("2099-01") == []


def test_a_gift_card_spent_by_eight_orders_at_once_pays_only_what_it_holds(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 8)
    acc = _account(stores[0])
    code = f"GC-{uuid.uuid4().hex[:12].upper()}"
    gift_cards.create(stores[0], code, 3 * PRICE + PRICE // 2, "EUR", "operator:test")  # covers three orders
    pm = gift_cards.add_to_account(stores[0], acc, "EUR", code)[0].payment_method_id
    methods.set_preferences(stores[0], acc, pm, None)
    product = f"gc-{uuid.uuid4().hex[:8]}"
    catalog.put_product(stores[0], OPERATOR, product, ProductPut(name="OV", term_months=12, prices={"EUR": PRICE}))

    def pay(store: Any, i: int) -> str:
        cmd = OrderCreate(
            order_id=f"o-{i}", channel="portal", lines=[{"product_code": product, "quantity": 1}]
        ).command(acc, OPERATOR.actor)
        for _ in range(10):
            try:
                return str(orders.pay_order(store, cmd).body["payment"]["method"])
            except InsufficientFunds:
                return "declined"
            except ConcurrentUpdate:
                continue
        raise AssertionError("contention never settled")

    got = _at_once(stores, [lambda s, i=i: pay(s, i) for i in range(8)])
    assert sorted(got) == ["declined"] * 5 + ["gift_card"] * 3
    remaining = gift_cards.get(stores[0], code)
    assert remaining is not None and remaining["remaining"] == PRICE // 2, "never below zero, nothing spent twice"
    entries = stores[0].query_prefix(f"ACCOUNT#{acc}", "ENTRY#", limit=1000)
    assert sum(e["type"] == "order_gift_card" for e in entries) == 3
