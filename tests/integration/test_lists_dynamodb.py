"""The orders list and the account directory against DynamoDB Local: the gsi1 index order, the `to` start key
(an exclusive start key of an item that does not exist), cursors across pages, the partner change transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from account_credit.accounts import directory, schemas
from account_credit.accounts import service as accounts_svc
from account_credit.catalog import service as catalog
from account_credit.kernel.auth import Principal, Role
from account_credit.orders import service as orders
from account_credit.orders import views
from account_credit.orders.config import order_settings
from account_credit.orders.schemas import OrderCreate, ProductPut
from account_credit.platform.store import keys
from account_credit.platform.store.dynamo import DynamoStore

pytestmark = pytest.mark.integration

OPERATOR = Principal(subject="op", role=Role.OPERATOR)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.delenv("PAYMENT_PROVIDER", raising=False)
    order_settings.cache_clear()
    yield
    order_settings.cache_clear()


def open_account(store: DynamoStore, name: str, partner_id: str | None = None) -> str:
    req = schemas.AccountCreate(
        currency="USD", company={"name": name}, billing_emails=["b@x.test"], partner_id=partner_id
    )
    return accounts_svc.open_account(store, req).account_id


def test_orders_page_newest_first_with_date_bounds(store: DynamoStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import account_credit.orders.payment as payment

    code = f"p-{uuid.uuid4().hex[:10]}"
    catalog.put_product(store, OPERATOR, code, ProductPut(name="OV SSL", term_months=12, prices={"USD": 100}))
    acc = open_account(store, "Orders Ltd")
    accounts_svc.credit(store, acc, 10_000, reason="funds", idempotency_key=f"fund-{acc}", actor=OPERATOR.actor)
    made = ["k", "b", "x", "a", "m"]
    for day, oid in enumerate(made, start=1):
        when = datetime(2026, 4, day, 12, 0, tzinfo=UTC)
        monkeypatch.setattr(payment, "utc_now", lambda when=when: when)
        body = OrderCreate(order_id=oid, channel="api", lines=[{"product_code": code, "quantity": 1}])
        orders.pay_order(store, body.command(acc, OPERATOR.actor))
    newest_first = list(reversed(made))

    def page(**kw: object) -> views.OrderPage:
        args = {"since": None, "until": None, "state": None, "channel": None, "cursor": None, "limit": 2}
        return views.list_orders(store, acc, **{**args, **kw})  # type: ignore[arg-type]

    seen, cursor = [], None
    while True:
        got = page(cursor=cursor)
        seen += [o["order_id"] for o in got.items]
        if got.next_cursor is None:
            break
        cursor = got.next_cursor
    assert seen == newest_first
    bounded = page(since="2026-04-02T00:00:00.000000Z", until="2026-04-04T12:00:00.000000Z", limit=10)
    assert [o["order_id"] for o in bounded.items] == ["a", "x", "b"]
    rest = page(until="2026-04-03T23:00:00.000000Z", limit=1)
    assert [o["order_id"] for o in rest.items] == ["x"]
    after = page(until="2026-04-03T23:00:00.000000Z", limit=5, cursor=rest.next_cursor)
    assert [o["order_id"] for o in after.items] == ["b", "k"]
    # a start (``to`` or a cursor) beyond ``from`` is an empty page, not a start key DynamoDB refuses
    assert page(since="2026-04-04T00:00:00.000000Z", until="2026-04-02T00:00:00.000000Z").items == []
    assert page(since="2026-04-04T00:00:00.000000Z", cursor=rest.next_cursor) == views.OrderPage([], None)


def test_directory_search_and_partner_change(store: DynamoStore) -> None:
    tag = uuid.uuid4().hex[:8]
    p1, p2 = f"pa-{tag}", f"pb-{tag}"
    a = open_account(store, f"Alpha {tag}", p1)
    b = open_account(store, f"Beta {tag}", p1)
    open_account(store, f"Gamma {tag}", p2)

    def found(partner_id: str | None, limit: int = 50) -> list[str]:
        out, cursor = [], None
        while True:
            got = directory.search(store, partner_id=partner_id, q=tag, currency=None, cursor=cursor, limit=limit)
            out += [x["company_name"] for x in got.items]
            if got.next_cursor is None:
                return out
            cursor = got.next_cursor

    assert found(None, limit=1) == [f"Alpha {tag}", f"Beta {tag}", f"Gamma {tag}"]
    assert found(p1) == [f"Alpha {tag}", f"Beta {tag}"]
    moved = directory.change_partner(store, b, p2, "moved", OPERATOR.actor)
    assert moved.partner_id == p2 and store.get_account(b).partner_id == p2  # type: ignore[union-attr]
    assert found(p1) == [f"Alpha {tag}"] and found(p2) == [f"Beta {tag}", f"Gamma {tag}"]
    directory.change_partner(store, a, None, "direct", OPERATOR.actor)
    assert found(p1) == [] and f"Alpha {tag}" in found(None)
    events = store.query_prefix(keys.account_pk(b), "EVENT#")
    assert [e["payload"]["new_partner_id"] for e in events if e["type"] == "account.partner_changed"] == [p2]
