"""Refunds by certificate count through the real orders service on the memory store (fake provider: a fake, not a
mock): amounts per line, where the money goes, once per key, never more than is left, the window and roles, cancel
as refund-everything, and the order's per-line view. The rules alone: test_refund_rules.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from _order_support import (
    FakeProvider,
    add_product,
    balance_of,
    entries_of,
    events_of,
    order,
    set_up,
)
from _support import OPERATOR, Api, Clock, customer_claims, customer_of, operator_claims, partner_claims
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from account_credit.kernel.domain import Account
from account_credit.kernel.errors import IdempotencyKeyReused, InvalidInput, ServiceUnavailable
from account_credit.orders import refunds as rules
from account_credit.orders import service as orders
from account_credit.orders.cancel import RefundFailed, RefundInProgress, RefundWindowClosed
from account_credit.orders.config import order_settings
from account_credit.orders.schemas import OrderCancel, RefundCreate
from account_credit.orders.state import OrderNotRefundable
from account_credit.payment_methods import gift_cards
from account_credit.payment_methods import service as methods
from account_credit.platform.store.memory import MemoryStore

Opener = Callable[..., Account]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    order_settings.cache_clear()
    yield
    order_settings.cache_clear()


def buy(store: MemoryStore, acc: str, order_id: str, quantity: int = 5, fake: FakeProvider | None = None) -> Any:
    provider = fake or FakeProvider()
    cmd = order(order_id, quantity=quantity, may_use_credit=True).command(acc, customer_of(acc).actor)
    return orders.pay_order(store, cmd, providers=lambda _name: provider).body


def refund(
    store: MemoryStore,
    acc: str,
    order_id: str,
    key: str,
    lines: list[dict[str, int]],
    *,
    fake: FakeProvider | None = None,
    operator: bool = False,
    now: datetime | None = None,
) -> Any:
    provider = fake or FakeProvider()
    body = RefundCreate.model_validate({"lines": lines, "reason": "not needed"})
    cmd = body.command(acc, order_id, key, customer_of(acc).actor, operator)
    return orders.refund_order(store, cmd, now=now, providers=lambda _name: provider)


def stored_order(store: MemoryStore, acc: str, order_id: str) -> dict[str, Any]:
    return orders.get_order(store, acc, order_id)


def test_two_of_five_from_the_balance_come_back_to_the_balance_once(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=100_000)
    paid = buy(store, acc, "o-1")
    gross = paid["lines"][0]["gross"]
    after_order = balance_of(store, acc)
    first = refund(store, acc, "o-1", "r-1", [{"line": 1, "quantity": 2}])
    back = rules.part(gross, 2, 5)
    assert not first.replayed and balance_of(store, acc) == after_order + back
    assert first.body["state"] == "partly_refunded"
    line = first.body["lines"][0]
    assert (line["line"], line["quantity"], line["refunded"], line["refundable"]) == (1, 5, 2, 3)
    (made,) = first.body["refunds"]
    assert (made["number"], made["amount"], made["to"]) == (1, back, {"balance": back})
    entry = entries_of(store, acc)[-1]
    assert (entry["type"], entry["amount"], entry["entry_id"]) == ("order_refund", back, made["entry_id"])
    assert entry["reference"]["order_id"] == "o-1" and entry["reference"]["refund"] == "1"
    (event,) = events_of(store, acc, "order.refunded")
    assert (event["payload"]["amount"], event["payload"]["certificates"]) == (back, 2)
    again = refund(store, acc, "o-1", "r-1", [{"line": 1, "quantity": 2}])
    assert again.replayed and again.body == first.body and balance_of(store, acc) == after_order + back
    with pytest.raises(IdempotencyKeyReused):
        refund(store, acc, "o-1", "r-1", [{"line": 1, "quantity": 1}])
    assert stored_order(store, acc, "o-1") == first.body


def test_never_more_than_is_left_and_the_steps_add_up_to_the_line(store: MemoryStore, open_account: Opener) -> None:
    add_product(store, prices={"USD": 3_333})  # a price that does not divide evenly
    acc = set_up(store, open_account(), balance=100_000)
    start = balance_of(store, acc)
    paid = buy(store, acc, "o-1", quantity=7)
    refund(store, acc, "o-1", "r-1", [{"line": 1, "quantity": 3}])
    with pytest.raises(InvalidInput) as too_many:
        refund(store, acc, "o-1", "r-2", [{"line": 1, "quantity": 5}])
    assert too_many.value.field == "lines[0].quantity" and "4 of 7" in str(too_many.value)
    with pytest.raises(InvalidInput) as no_line:
        refund(store, acc, "o-1", "r-3", [{"line": 2, "quantity": 1}])
    assert no_line.value.field == "lines[0].line"
    with pytest.raises(InvalidInput) as twice:
        refund(store, acc, "o-1", "r-4", [{"line": 1, "quantity": 1}, {"line": 1, "quantity": 1}])
    assert twice.value.field == "lines[1].line"
    refund(store, acc, "o-1", "r-5", [{"line": 1, "quantity": 1}])
    last = refund(store, acc, "o-1", "r-6", [{"line": 1, "quantity": 3}])
    assert last.body["state"] == "refunded" and last.body["lines"][0]["refundable"] == 0
    assert sum(r["amount"] for r in last.body["refunds"]) == paid["total"]
    assert balance_of(store, acc) == start  # all of it back, to the cent, whatever the steps
    with pytest.raises(OrderNotRefundable):
        refund(store, acc, "o-1", "r-7", [{"line": 1, "quantity": 1}])


def test_a_refund_of_a_draw_on_credit_reduces_the_credit_used_first(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=5_000, credit_limit=1_000_000)
    paid = buy(store, acc, "o-1", quantity=4)
    assert paid["payment"]["method"] == "credit"
    on_credit = paid["payment"]["from_credit"]
    one = rules.part(paid["lines"][0]["gross"], 1, 4)
    first = refund(store, acc, "o-1", "r-1", [{"line": 1, "quantity": 1}])
    assert first.body["refunds"][0]["to"] == {"credit": one}
    rest = refund(store, acc, "o-1", "r-2", [{"line": 1, "quantity": 3}])
    assert rest.body["refunds"][1]["to"] == {"credit": on_credit - one, "balance": paid["payment"]["from_balance"]}
    assert balance_of(store, acc) == 5_000


def test_a_card_order_is_refunded_at_the_provider_in_parts(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), card_token="tok_visa")
    fake = FakeProvider()
    paid = buy(store, acc, "o-1", fake=fake)
    assert paid["payment"]["method"] == "card"
    first = refund(store, acc, "o-1", "r-1", [{"line": 1, "quantity": 2}], fake=fake)
    second = refund(store, acc, "o-1", "r-2", [{"line": 1, "quantity": 3}], fake=fake)
    amounts = [c["amount"].amount for c in fake.refund_calls]
    assert amounts == [first.body["refunds"][0]["amount"], second.body["refunds"][1]["amount"]]
    assert sum(amounts) == paid["total"] and len({c["key"] for c in fake.refund_calls}) == 2
    assert second.body["refunds"][1]["refund_id"] == "re_fake_2" and second.body["state"] == "refunded"
    assert balance_of(store, acc) == 0
    refunds = [e for e in entries_of(store, acc) if e["type"] == "order_refund"]
    assert [e["amount"] for e in refunds] == [0, 0]
    assert [int(e["reference"]["card_amount"]) for e in refunds] == amounts


def test_a_refused_card_refund_changes_nothing_and_frees_the_refund(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), card_token="tok_visa")
    buy(store, acc, "o-1")
    with pytest.raises(RefundFailed):
        refund(store, acc, "o-1", "r-1", [{"line": 1, "quantity": 2}], fake=FakeProvider(refund_ok=False))
    assert stored_order(store, acc, "o-1")["state"] == "paid"
    assert not [e for e in entries_of(store, acc) if e["type"] == "order_refund"]
    done = refund(store, acc, "o-1", "r-2", [{"line": 1, "quantity": 2}])
    assert done.body["refunds"][0]["number"] == 1


def test_a_provider_that_does_not_answer_holds_the_refund_for_the_same_key(
    store: MemoryStore, open_account: Opener
) -> None:
    add_product(store)
    acc = set_up(store, open_account(), card_token="tok_visa")
    buy(store, acc, "o-1")

    class Silent(FakeProvider):
        def refund(self, **kw: Any) -> Any:
            raise ConnectionError("timed out")

    with pytest.raises(ServiceUnavailable):
        refund(store, acc, "o-1", "r-1", [{"line": 1, "quantity": 2}], fake=Silent())
    with pytest.raises(RefundInProgress):  # another request must not take money the first one may be taking
        refund(store, acc, "o-1", "r-2", [{"line": 1, "quantity": 1}])
    fake = FakeProvider()
    done = refund(store, acc, "o-1", "r-1", [{"line": 1, "quantity": 2}], fake=fake)
    assert done.body["state"] == "partly_refunded" and len(fake.refund_calls) == 1
    assert refund(store, acc, "o-1", "r-2", [{"line": 1, "quantity": 1}]).body["refunds"][1]["number"] == 2


def test_a_gift_card_order_gets_its_value_back_on_the_gift_card(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=0)
    issued = gift_cards.create(store, None, 100_000, "USD", OPERATOR.actor)
    pm = gift_cards.add_to_account(store, acc, "USD", issued["code"])[0].payment_method_id
    methods.set_preferences(store, acc, pm, None)
    paid = buy(store, acc, "o-1")
    assert paid["payment"]["method"] == "gift_card"
    left = int(gift_cards.get(store, issued["code"])["remaining"])  # type: ignore[index]
    done = refund(store, acc, "o-1", "r-1", [{"line": 1, "quantity": 2}])
    back = done.body["refunds"][0]["amount"]
    assert done.body["refunds"][0]["to"] == {"gift_card": back}
    assert int(gift_cards.get(store, issued["code"])["remaining"]) == left + back  # type: ignore[index]


@pytest.mark.parametrize(("operator", "days", "allowed"), [(False, 30, True), (False, 31, False), (True, 400, True)])
def test_the_window_is_thirty_days_for_owners_and_partners_and_none_for_operators(
    store: MemoryStore, open_account: Opener, operator: bool, days: int, allowed: bool
) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=100_000)
    placed = datetime.fromisoformat(buy(store, acc, "o-1")["created_at"].replace("Z", "+00:00"))
    now = placed + timedelta(days=days)
    if allowed:
        assert refund(store, acc, "o-1", "r", [{"line": 1, "quantity": 1}], operator=operator, now=now).body
        return
    before = balance_of(store, acc)
    with pytest.raises(RefundWindowClosed, match="only an operator"):
        refund(store, acc, "o-1", "r", [{"line": 1, "quantity": 1}], operator=operator, now=now)
    assert balance_of(store, acc) == before and stored_order(store, acc, "o-1")["state"] == "paid"


def test_cancel_of_a_partly_refunded_order_refunds_the_rest(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=100_000)
    start = balance_of(store, acc)
    buy(store, acc, "o-1")
    refund(store, acc, "o-1", "r-1", [{"line": 1, "quantity": 2}])
    cmd = OrderCancel(reason="all of it").command(acc, "o-1", "c-1", customer_of(acc).actor)
    done = orders.cancel_order(store, cmd, providers=lambda _n: FakeProvider())
    assert done.body["state"] == "refunded" and [r["number"] for r in done.body["refunds"]] == [1, 2]
    assert done.body["refunds"][1]["lines"] == [
        {"line": 1, "product_code": "ssl-ov-1y", "quantity": 3, "amount": done.body["refunds"][1]["amount"]}
    ]
    assert balance_of(store, acc) == start
    replay = orders.cancel_order(store, cmd, providers=lambda _n: FakeProvider())
    assert replay.replayed and replay.body == done.body


def test_cancel_past_the_window_is_an_operators(store: MemoryStore, open_account: Opener, monkeypatch: Any) -> None:
    import account_credit.orders.cancel as cancel_module

    add_product(store)
    acc = set_up(store, open_account(), balance=100_000)
    placed = datetime.fromisoformat(buy(store, acc, "o-1")["created_at"].replace("Z", "+00:00"))
    monkeypatch.setattr(cancel_module, "utc_now", lambda: placed + timedelta(days=31))
    as_customer = OrderCancel().command(acc, "o-1", "c-1", customer_of(acc).actor)
    with pytest.raises(RefundWindowClosed):
        orders.cancel_order(store, as_customer, providers=lambda _n: FakeProvider())
    as_operator = OrderCancel().command(acc, "o-1", "c-2", OPERATOR.actor, by_operator=True)
    assert orders.cancel_order(store, as_operator, providers=lambda _n: FakeProvider()).body["state"] == "cancelled"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    quantities=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    steps=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 7)), max_size=8),
    price=st.integers(1, 99_999),
    credit=st.booleans(),
)
def test_any_refund_history_keeps_the_ledger_exact_and_never_gives_back_more(
    quantities: list[int], steps: list[tuple[int, int]], price: int, credit: bool
) -> None:
    store = MemoryStore()
    from _support import account_request

    from account_credit.accounts import service as accounts_svc

    account = accounts_svc.open_account(store, account_request("USD"))
    add_product(store, prices={"USD": price})
    acc = set_up(store, account, balance=0 if credit else 10**9, credit_limit=10**9 if credit else None)
    cmd = order("o-1", may_use_credit=True).command(acc, customer_of(acc).actor)
    cmd = type(cmd)(
        **{**cmd.__dict__, "lines": tuple(type(cmd.lines[0])(cmd.lines[0].product_code, q) for q in quantities)}
    )
    paid = orders.pay_order(store, cmd, providers=lambda _n: FakeProvider()).body
    start = balance_of(store, acc) + paid["total"]
    for i, (n, k) in enumerate(steps):
        line = n % len(quantities) + 1
        before = stored_order(store, acc, "o-1")
        if before["state"] == "refunded":
            with pytest.raises(OrderNotRefundable):
                refund(store, acc, "o-1", f"r-{i}", [{"line": line, "quantity": k}])
        elif k > before["lines"][line - 1]["refundable"]:
            with pytest.raises(InvalidInput):
                refund(store, acc, "o-1", f"r-{i}", [{"line": line, "quantity": k}])
        else:
            refund(store, acc, "o-1", f"r-{i}", [{"line": line, "quantity": k}])
        view = stored_order(store, acc, "o-1")
        given = sum(r["amount"] for r in view["refunds"])
        assert given <= paid["total"]
        assert balance_of(store, acc) == start - paid["total"] + given
        assert sum(e["amount"] for e in entries_of(store, acc)) == balance_of(store, acc)
        for x in view["lines"]:
            assert 0 <= x["refunded"] <= x["quantity"]
        if all(x["refunded"] == x["quantity"] for x in view["lines"]):
            assert given == paid["total"] and view["state"] == "refunded"


# --------------------------------------------------------------------------- the window and roles at the edge


ROLES = {
    "customer": customer_claims,
    "partner": lambda _acc: partner_claims("p1"),
    "operator": lambda _acc: operator_claims(),
}


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("age_days", [0, 29, 31, 365])
def test_the_refund_route_enforces_the_window_per_role(
    apis: dict[str, Api], monkeypatch: pytest.MonkeyPatch, role: str, age_days: int
) -> None:
    import account_credit.orders.payment as payment

    r = apis["accounts"].request(
        "POST",
        "/accounts",
        body={"currency": "USD", "company": {"name": "Acme"}, "billing_emails": ["b@acme.test"], "partner_id": "p1"},
    )
    acc = r.json["account_id"]
    apis["accounts"].request(
        "POST",
        f"/accounts/{acc}/adjustments",
        body={"type": "credit", "amount": 100_000, "reason": "opening balance"},
        headers={"Idempotency-Key": "fund"},
    )
    product = {"name": "OV SSL", "term_months": 12, "prices": {"USD": 10_000}}
    apis["catalog"].request("PUT", "/catalog/products/ov-1y", body=product)
    monkeypatch.setattr(payment, "utc_now", Clock(datetime.now(UTC) - timedelta(days=age_days)))
    body = {"order_id": "o-1", "channel": "portal", "lines": [{"product_code": "ov-1y", "quantity": 5}]}
    assert apis["order"].request("POST", f"/accounts/{acc}/orders", body=body).status == 201
    path = f"/accounts/{acc}/orders/o-1/refunds"
    ask = {"lines": [{"line": 1, "quantity": 2}]}
    got = apis["order"].request("POST", path, body=ask, headers={"Idempotency-Key": "k1"}, claims=ROLES[role](acc))
    allowed = role == "operator" or age_days <= 30
    if allowed:
        assert got.status == 201, got.raw_body
        assert got.json["lines"][0]["refundable"] == 3
    else:
        assert got.status == 403, got.raw_body
        assert got.json["type"].endswith("refund-window-closed") and "only an operator" in got.json["detail"]
        order_now = apis["order"].request("GET", f"/accounts/{acc}/orders/o-1").json
        assert order_now["state"] == "paid" and order_now["refunds"] == []


def test_the_refund_route_refuses_bad_bodies_and_strangers(apis: dict[str, Api]) -> None:
    r = apis["accounts"].request(
        "POST", "/accounts", body={"currency": "USD", "company": {"name": "Acme"}, "billing_emails": ["b@acme.test"]}
    )
    acc = r.json["account_id"]
    apis["accounts"].request(
        "POST",
        f"/accounts/{acc}/adjustments",
        body={"type": "credit", "amount": 100_000, "reason": "opening balance"},
        headers={"Idempotency-Key": "fund"},
    )
    apis["catalog"].request(
        "PUT", "/catalog/products/ov-1y", body={"name": "OV SSL", "term_months": 12, "prices": {"USD": 10_000}}
    )
    body = {"order_id": "o-1", "channel": "portal", "lines": [{"product_code": "ov-1y", "quantity": 5}]}
    apis["order"].request("POST", f"/accounts/{acc}/orders", body=body)
    path = f"/accounts/{acc}/orders/o-1/refunds"
    key = {"Idempotency-Key": "k1"}
    for bad in ({"lines": [{"line": 1, "quantity": "2"}]}, {"lines": []}, {"lines": [{"line": 1, "quantity": 0}]}, []):
        got = apis["order"].request("POST", path, body=bad, headers=key)
        assert got.status == 422, (bad, got.raw_body)
    assert apis["order"].request("POST", path, body={"lines": [{"line": 1, "quantity": 1}]}).status in (400, 422)
    over = apis["order"].request("POST", path, body={"lines": [{"line": 1, "quantity": 6}]}, headers=key)
    assert over.status == 422 and over.json["field"] == "lines[0].quantity"
    stranger = apis["order"].request(
        "POST", path, body={"lines": [{"line": 1, "quantity": 1}]}, headers=key, claims=customer_claims("acc_x")
    )
    assert stranger.status == 404
    assert json.loads(apis["order"].request("GET", f"/accounts/{acc}/orders/o-1").raw_body)["refunds"] == []


def test_a_card_refund_left_by_its_request_is_completed_by_the_next_refund(
    store: MemoryStore, open_account: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    import account_credit.orders.cancel as cancel_module

    add_product(store)
    acc = set_up(store, open_account(), card_token="tok_visa")
    buy(store, acc, "o-1")

    class Silent(FakeProvider):
        def refund(self, **kw: Any) -> Any:
            raise ConnectionError("timed out")

    with pytest.raises(ServiceUnavailable):  # claimed refund 1, then its caller never came back
        refund(store, acc, "o-1", "gone", [{"line": 1, "quantity": 2}], fake=Silent())
    with pytest.raises(RefundInProgress):  # a fresh claim may still have a live request behind it
        refund(store, acc, "o-1", "next", [{"line": 1, "quantity": 1}])
    later = datetime.now(UTC) + cancel_module.STALE_CLAIM + timedelta(seconds=1)
    monkeypatch.setattr(cancel_module, "utc_now", lambda: later)
    fake = FakeProvider()
    done = refund(store, acc, "o-1", "next", [{"line": 1, "quantity": 1}], fake=fake)
    assert [(r["number"], r["lines"][0]["quantity"]) for r in done.body["refunds"]] == [(1, 2), (2, 1)]
    assert len(fake.refund_calls) == 2 and done.body["lines"][0]["refundable"] == 2
    first = refund(store, acc, "o-1", "gone", [{"line": 1, "quantity": 2}], fake=fake)
    assert first.replayed and first.body["refunds"][0]["number"] == 1  # its caller, back, gets its answer
