"""Property: over random histories of a subscription through the real services (a backdated start, inventory added
on random days, renewal inventory changed, suspend / reactivate, days passing, renewal runs repeated), every charge
is made once for what it pays and matches the proration rules:

* the first term: ``prorate(price x quantity, start, months, created on)`` (the whole price when not backdated);
* inventory added on day d of term k: ``prorate(price x quantity, start of term k, months, d)``;
* a renewal into term k: the full catalog price of the renewal inventory, once per (subscription, term), and the
  subscription is in term k exactly when that renewal was paid;
* the balance moved by exactly the sum of the orders (nothing debited twice).
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import Any

from _order_support import PRICE, PRODUCT, FakeProvider, add_product, balance_of, set_up
from _support import account_request
from hypothesis import event, given, settings
from hypothesis import strategies as st

from account_credit.accounts import service as accounts_svc
from account_credit.kernel.errors import Conflict
from account_credit.kernel.proration import add_months, prorate
from account_credit.orders import service as orders
from account_credit.platform.store import keys
from account_credit.platform.store.memory import MemoryStore
from account_credit.renewals import service as renewals
from account_credit.renewals.config import RenewalSettings
from account_credit.subscriptions import service as subscriptions
from account_credit.subscriptions.schemas import InventoryAdd, SubscriptionChange, SubscriptionCreate

CREATED_ON = date(2026, 3, 1)
FUNDS = 100_000_000
CFG = RenewalSettings(hold_days=7, grace_days=3, forecast_days=30)
ACTOR = "customer:prop"

step = st.one_of(
    st.tuples(st.just("days"), st.integers(1, 400)),
    st.tuples(st.just("days"), st.integers(1, 400)),
    st.tuples(st.just("inventory"), st.integers(1, 4)),
    st.tuples(st.just("renewal_qty"), st.integers(1, 4)),
    st.tuples(st.just("run"), st.integers(1, 2)),
    st.tuples(st.just("run"), st.integers(1, 2)),
    st.tuples(st.just("suspend"), st.just(0)),
    st.tuples(st.just("reactivate"), st.just(0)),
)


def _sub(store: MemoryStore, account_id: str, sid: str) -> dict[str, Any]:
    item = store.get_item(*keys.subscription(account_id, sid))
    assert item is not None
    return item


def _customer(
    store: MemoryStore,
    account_id: str,
    sid: str,
    sub: dict[str, Any],
    kind: str,
    value: int,
    day: date,
    n: int,
    expected: dict[str, int],
) -> None:
    """One thing the customer does on ``day``; an inventory charge expected is recorded in ``expected``."""
    if kind == "inventory":
        term_start, term_end = date.fromisoformat(sub["term_start"]), date.fromisoformat(sub["term_end"])
        if sub["state"] != "active" or not term_start <= day < term_end:
            return
        body = InventoryAdd.model_validate({"lines": [{"product_code": PRODUCT, "quantity": value}]})
        added = subscriptions.add_inventory(store, account_id, sid, body, f"inv-{n}", ACTOR, today=day).body
        expected[added["order_id"]] = prorate(PRICE * value, term_start, 12, day).amount
    elif kind == "renewal_qty":
        change = SubscriptionChange.model_validate({"renewal_items": [{"product_code": PRODUCT, "quantity": value}]})
        subscriptions.change(store, account_id, sid, change, ACTOR, day)
    elif kind == "suspend":
        subscriptions.suspend(store, account_id, sid, ACTOR, today=day)
    else:
        subscriptions.reactivate(store, account_id, sid, ACTOR, today=day)


@settings(max_examples=150)
@given(
    backdate=st.integers(0, 364),
    quantity=st.integers(1, 3),
    steps=st.lists(step, min_size=4, max_size=25),
)
def test_every_charge_is_made_once_and_matches_the_proration_rules(
    backdate: int, quantity: int, steps: list[tuple[str, int]]
) -> None:
    store = MemoryStore()
    add_product(store)
    account_id = set_up(
        store, accounts_svc.open_account(store, account_request("USD")), balance=FUNDS, cards_enabled=False
    )
    provider = FakeProvider()
    start = CREATED_ON - timedelta(days=backdate)
    req = SubscriptionCreate.model_validate(
        {"term_months": 12, "lines": [{"product_code": PRODUCT, "quantity": quantity}], "start_date": start.isoformat()}
    )
    created = subscriptions.create(store, account_id, req, "create", ACTOR, today=CREATED_ON).body
    sid = created["subscription_id"]
    expected = {created["orders"][0]: prorate(PRICE * quantity, start, 12, CREATED_ON).amount}

    day = CREATED_ON
    for n, (kind, value) in enumerate(steps):
        sub = _sub(store, account_id, sid)
        if kind == "days":
            day += timedelta(days=value)
        elif kind == "run":
            for _ in range(value):
                renewals.run_day(store, day, providers=lambda _name: provider, cfg=CFG)
        else:
            # A refusal is documented behaviour (an expired subscription cannot be changed or reactivated).
            with contextlib.suppress(Conflict):
                _customer(store, account_id, sid, sub, kind, value, day, n, expected)

    sub = _sub(store, account_id, sid)
    paid = [
        orders.get_order(store, account_id, i["order_id"])
        for i in store.query_prefix(*keys.account(account_id)[:1], "ORDER#", limit=1000)
    ]
    renewal_terms = sorted(o["subscription"]["term"] for o in paid if o["channel"] == "renewal")
    # one renewal per term, and the subscription is in term k exactly when terms 2..k were paid
    assert renewal_terms == list(range(2, int(sub["term"]) + 1))
    for o in paid:
        assert o["subscription"]["subscription_id"] == sid
        if o["channel"] == "renewal":
            k = o["subscription"]["term"]
            assert o["order_id"] == renewals.renewal_order_id(sid, k)
            assert all(line["amount"] == PRICE * line["quantity"] for line in o["lines"])  # a full term
            assert date.fromisoformat(sub["start_date"]) == start
            assert add_months(start, (k - 1) * 12) <= day
        else:
            assert o["net"] == expected.pop(o["order_id"])  # the prorated charge, once
    assert expected == {}  # every charge made was found once
    event(
        f"renewals paid: {min(len(renewal_terms), 3)}+"
        if len(renewal_terms) >= 3
        else f"renewals paid: {len(renewal_terms)}"
    )
    event(f"inventory orders: {min(sum(1 for o in paid if '-inv-' in o['order_id']), 2)}")
    assert balance_of(store, account_id) == FUNDS - sum(o["total"] for o in paid)
