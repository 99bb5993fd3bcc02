"""GET /accounts/{account_id}/orders: newest first, date/state/channel filters, cursor paging, who may list."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from _order_support import FakeProvider, add_product, order, set_up
from _support import OPERATOR, Api, Clock, customer_claims, customer_of, operator_claims, partner_claims

from account_credit.kernel.domain import Account
from account_credit.kernel.errors import InvalidInput
from account_credit.orders import service as orders
from account_credit.orders import views
from account_credit.orders.config import order_settings
from account_credit.orders.schemas import OrderCancel
from account_credit.platform.store import keys
from account_credit.platform.store.memory import MemoryStore

Opener = Callable[..., Account]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    order_settings.cache_clear()
    yield
    order_settings.cache_clear()


@pytest.fixture
def order_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Controls the orders' ``created_at``."""
    import account_credit.orders.payment as payment

    c = Clock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(payment, "utc_now", c)
    return c


def pay(store: MemoryStore, acc: str, order_id: str, channel: str = "portal") -> None:
    provider = FakeProvider()
    command = order(order_id, channel=channel).command(acc, customer_of(acc).actor)
    orders.pay_order(store, command, providers=lambda _name: provider)


def listed(store: MemoryStore, acc: str, **kw: Any) -> views.OrderPage:
    args: dict[str, Any] = {"since": None, "until": None, "state": None, "channel": None, "cursor": None, "limit": 50}
    return views.list_orders(store, acc, **{**args, **kw})


def ids(page: views.OrderPage) -> list[str]:
    return [o["order_id"] for o in page.items]


@pytest.fixture
def history(store: MemoryStore, open_account: Opener, order_clock: Clock) -> str:
    """Six orders, one a day from 1 March (ids not in time order), the 3rd by API, the 4th cancelled."""
    add_product(store)
    acc = set_up(store, open_account(), balance=1_000_000)
    for n, oid in enumerate(["zeta", "alpha", "mike", "bravo", "yankee", "charlie"]):
        order_clock.set(datetime(2026, 3, 1 + n, 9, 0, tzinfo=UTC))
        pay(store, acc, oid, channel="api" if oid == "mike" else "portal")
    cancel = OrderCancel(reason="ordered by mistake").command(
        acc, "bravo", "cancel-bravo", OPERATOR.actor, by_operator=True
    )
    orders.cancel_order(store, cancel, providers=lambda _name: FakeProvider())
    return acc


def test_newest_first_whatever_the_order_ids(store: MemoryStore, history: str) -> None:
    page = listed(store, history)
    assert ids(page) == ["charlie", "yankee", "bravo", "mike", "alpha", "zeta"]
    assert page.next_cursor is None
    assert page.items[0] == orders.get_order(store, history, "charlie")  # the same view as GET one order


def test_pages_follow_the_cursor_without_gaps_or_repeats(store: MemoryStore, history: str) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        page = listed(store, history, limit=4, cursor=cursor)
        seen += ids(page)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == ["charlie", "yankee", "bravo", "mike", "alpha", "zeta"] and pages == 2


def test_from_and_to_are_inclusive_bounds_on_created_at(store: MemoryStore, history: str) -> None:
    page = listed(store, history, since="2026-03-02T09:00:00.000000Z", until="2026-03-04T09:00:00.000000Z")
    assert ids(page) == ["bravo", "mike", "alpha"]
    assert ids(listed(store, history, until="2026-03-02T23:59:59.999999Z")) == ["alpha", "zeta"]
    assert ids(listed(store, history, since="2026-03-06T00:00:00.000000Z")) == ["charlie"]
    paged = listed(store, history, until="2026-03-05T12:00:00.000000Z", limit=2)
    assert ids(paged) == ["yankee", "bravo"]
    assert ids(listed(store, history, until="2026-03-05T12:00:00.000000Z", cursor=paged.next_cursor)) == [
        "mike",
        "alpha",
        "zeta",
    ]


def test_state_and_channel_filter(store: MemoryStore, history: str) -> None:
    assert ids(listed(store, history, state="cancelled")) == ["bravo"]
    assert ids(listed(store, history, channel="api")) == ["mike"]
    assert ids(listed(store, history, state="paid", channel="portal", limit=2)) == ["charlie", "yankee"]


def test_a_rare_filter_answers_a_short_page_with_a_cursor_not_a_scan(
    store: MemoryStore, history: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One request reads at most MAX_READS index pages: fewer than ``limit`` orders may come with a cursor."""
    monkeypatch.setattr(views, "MAX_READS", 2)
    first = listed(store, history, channel="api", limit=1)  # read charlie, yankee: no match yet
    assert ids(first) == [] and first.next_cursor is not None
    second = listed(store, history, channel="api", limit=1, cursor=first.next_cursor)  # bravo, mike
    assert ids(second) == ["mike"]


@pytest.mark.parametrize(
    "cursor",
    ["not-base64!", "e30", "eyJwayI6ICJBQ0NPVU5UI290aGVyIiwgInNrIjogIk9SREVSI3gifQ"],
)
def test_a_cursor_not_handed_out_for_these_orders_is_invalid_input(
    store: MemoryStore, history: str, cursor: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        listed(store, history, cursor=cursor)
    assert info.value.field == "cursor"


def test_a_transactions_cursor_is_not_an_orders_cursor(store: MemoryStore, history: str) -> None:
    from account_credit.accounts import service as accounts_svc

    entries = accounts_svc.list_transactions(
        store, history, since=None, until=None, entry_type=None, cursor=None, limit=1
    )
    assert entries.next_cursor is not None
    with pytest.raises(InvalidInput):
        listed(store, history, cursor=entries.next_cursor)


def test_orders_paid_before_the_index_are_listed_after_the_backfill(store: MemoryStore, history: str) -> None:
    pk = keys.account_pk(history)
    for (p, _sk), item in store.items.items():  # as written before the orders index existed
        if p == pk and item.get("kind") == "order":
            item.pop("gsi1pk"), item.pop("gsi1sk")
    assert ids(listed(store, history)) == []
    assert views.backfill_index(store, history, batch=4) == 6
    assert views.backfill_index(store, history) == 0  # idempotent
    assert ids(listed(store, history)) == ["charlie", "yankee", "bravo", "mike", "alpha", "zeta"]


# --------------------------------------------------------------------------- over HTTP


def test_the_route_lists_for_owner_partner_and_operator_only(apis: dict[str, Api]) -> None:
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
    assert apis["catalog"].request("PUT", "/catalog/products/ov-1y", body=product).status == 201
    for oid in ("o-1", "o-2", "o-3"):
        body = {"order_id": oid, "channel": "portal", "lines": [{"product_code": "ov-1y", "quantity": 1}]}
        assert apis["order"].request("POST", f"/accounts/{acc}/orders", body=body).status == 201
    path = f"/accounts/{acc}/orders"
    for claims in (customer_claims(acc), partner_claims("p1"), operator_claims()):
        r = apis["order"].request("GET", path, query={"limit": "2"}, claims=claims)
        assert r.status == 200, r.raw_body
        assert len(r.json["items"]) == 2 and r.json["next_cursor"]
    rest = apis["order"].request("GET", path, query={"cursor": r.json["next_cursor"]})
    assert len(rest.json["items"]) == 1 and rest.json["next_cursor"] is None
    assert apis["order"].request("GET", path, claims=partner_claims("p2")).status == 404
    assert apis["order"].request("GET", path, claims=customer_claims("acc_other")).status == 404
    bad = apis["order"].request("GET", path, query={"cursor": "nonsense"})
    assert bad.status == 422 and bad.json["field"] == "cursor"
    assert apis["order"].request("GET", path, query={"limit": "0"}).status == 422
    assert apis["order"].request("GET", path, query={"state": "open"}).status == 422
    assert apis["order"].request("GET", path, query={"from": "yesterday"}).status == 422
    day = apis["order"].request("GET", path, query={"from": "2000-01-01", "to": "2000-01-31"})
    assert day.status == 200 and day.json == {"items": [], "next_cursor": None}
