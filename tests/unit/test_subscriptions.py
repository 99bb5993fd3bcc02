"""Subscriptions on the in-memory store: the state rules (a table), terms without drift, proration of order lines
at the edges, a backdated start charged for the rest of its term, inventory charged now or by the billing run,
suspend / reactivate, and the create request's exactly-once charge (replays, a crash after the charge, a decline).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from _order_support import PRICE, PRODUCT, add_product, balance_of, events_of, items_of, set_up
from _support import OPERATOR
from pydantic import ValidationError

from account_credit.catalog import service as catalog
from account_credit.holds import service as holds
from account_credit.kernel.domain import Account
from account_credit.kernel.errors import Conflict, IdempotencyKeyReused, InsufficientFunds, InvalidInput
from account_credit.kernel.proration import prorate
from account_credit.orders import service as orders
from account_credit.orders.commands import OrderLine, PayOrder, Proration
from account_credit.orders.schemas import ProductPut
from account_credit.platform.store import keys
from account_credit.platform.store.memory import MemoryStore
from account_credit.subscriptions import service as svc
from account_credit.subscriptions.domain import (
    StaleSubscription,
    Subscription,
    SubscriptionExpired,
    SubscriptionSuspended,
    effective_state,
    reactivate_rule,
    suspend_rule,
    update_of,
)
from account_credit.subscriptions.schemas import InventoryAdd, SubscriptionChange, SubscriptionCreate

ACTOR = "customer:cust-1"
TODAY = date(2026, 3, 1)
MONTHLY = "ssl-dv-1m"


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


@pytest.fixture
def acc(store: MemoryStore, open_account: Callable[..., Account]) -> str:
    add_product(store)
    monthly = ProductPut(name="DV SSL monthly", term_months=1, prices={"USD": 900})
    catalog.put_product(store, OPERATOR, MONTHLY, monthly)
    return set_up(store, open_account("USD"), balance=1_000_000)


def create(store: MemoryStore, acc: str, key: str = "k1", today: date = TODAY, **body: Any) -> dict[str, Any]:
    req = SubscriptionCreate.model_validate(
        {"term_months": 12, "lines": [{"product_code": PRODUCT, "quantity": 2}], **body}
    )
    return svc.create(store, acc, req, key, ACTOR, today=today).body


def order(store: MemoryStore, acc: str, order_id: str) -> dict[str, Any]:
    return orders.get_order(store, acc, order_id)


# --------------------------------------------------------------------------- the rules (pure)


@pytest.mark.parametrize(
    ("state", "auto_renew", "today", "expected"),
    [
        ("active", True, date(2026, 12, 31), "active"),
        ("active", True, date(2027, 1, 1), "active"),  # due: the renewal schedule renews or expires it
        ("active", False, date(2026, 12, 31), "active"),
        ("active", False, date(2027, 1, 1), "expired"),
        ("suspended", True, date(2026, 12, 31), "suspended"),
        ("suspended", True, date(2027, 1, 1), "expired"),
        ("suspended", False, date(2027, 1, 1), "expired"),
        ("expired", True, date(2026, 6, 1), "expired"),
    ],
)
def test_the_state_a_subscription_reads_as(state: str, auto_renew: bool, today: date, expected: str) -> None:
    assert effective_state(state, auto_renew, date(2027, 1, 1), today) == expected


@pytest.mark.parametrize(
    ("rule", "state", "after"),
    [
        (suspend_rule, "active", "suspended"),
        (suspend_rule, "suspended", None),
        (suspend_rule, "expired", SubscriptionExpired),
        (reactivate_rule, "suspended", "active"),
        (reactivate_rule, "active", None),
        (reactivate_rule, "expired", SubscriptionExpired),
    ],
)
def test_suspend_and_reactivate_rules(rule: Callable[[Any], Any], state: str, after: Any) -> None:
    if isinstance(after, type):
        with pytest.raises(after):
            rule(state)
    else:
        assert rule(state) == after


def _sub(**kw: Any) -> Subscription:
    base: dict[str, Any] = {
        "subscription_id": "sub_x",
        "account_id": "acc_1",
        "currency": "USD",
        "state": "active",
        "term_months": 1,
        "start_date": date(2026, 1, 31),
        "term": 1,
        "auto_renew": True,
        "payment_method_id": None,
        "items": (),
        "renewal_items": (),
    }
    return Subscription(**{**base, **kw})


def test_terms_count_from_the_first_start_so_month_ends_do_not_drift() -> None:
    sub = _sub()
    assert [sub.term_bounds(k) for k in (1, 2, 3)] == [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2026, 2, 28), date(2026, 3, 31)),
        (date(2026, 3, 31), date(2026, 4, 30)),
    ]
    renewed = sub.renewed("o2")
    assert (renewed.term, renewed.term_start, renewed.term_end, renewed.orders) == (
        2,
        date(2026, 2, 28),
        date(2026, 3, 31),
        ("o2",),
    )
    assert renewed.attrs()["gsi1sk"] == keys.renewal_index_sk("2026-03-31", "acc_1", "sub_x")


def test_only_active_auto_renewing_subscriptions_carry_the_renewal_index_keys() -> None:
    assert _sub().index_keys() == {"gsi1pk": keys.RENEWAL_INDEX_PK, "gsi1sk": "2026-02-28#acc_1#sub_x"}
    assert _sub(auto_renew=False).index_keys() is None
    assert _sub(state="suspended").index_keys() is None
    old = _sub(version=4)
    update = update_of(old, old.suspended(date(2026, 2, 1)), "2026-02-01T00:00:00.000000Z")
    assert update.remove == ("gsi1pk", "gsi1sk")
    assert update.expect == {"version": 4}
    assert update.changes["state"] == "suspended" and update.changes["version"] == 5
    back = update_of(_sub(state="suspended"), _sub(), "t")
    assert back.remove == () and back.changes["gsi1pk"] == keys.RENEWAL_INDEX_PK


# --------------------------------------------------------------------------- pricing: prorated order lines


@pytest.mark.parametrize(
    ("price", "on", "amount", "remaining"),
    [
        (36_500, date(2026, 1, 1), 36_500, 365),  # the first day: the whole price
        (36_500, date(2026, 12, 31), 100, 1),  # the last day: one day's worth
        (73, date(2026, 7, 1), 37, 184),  # 73 x 184 / 365 = 36.8 -> 37
        (730, date(2026, 12, 31), 2, 1),  # 730 / 365 = 2 exactly
        (1_825, date(2026, 12, 31), 5, 1),  # 5.0
        (365 * 3 + 182, date(2026, 12, 31), 3, 1),  # 3.4986... -> 3
        (365 * 3 + 183, date(2026, 12, 31), 4, 1),  # 3.5013... -> 4 (past the half)
    ],
)
def test_a_prorated_order_line_is_the_rest_of_the_term(
    store: MemoryStore, open_account: Callable[..., Account], price: int, on: date, amount: int, remaining: int
) -> None:
    add_product(store, prices={"USD": price})
    acc = set_up(store, open_account("USD"), balance=1_000_000)
    cmd = PayOrder(
        account_id=acc,
        order_id=f"o-{price}-{on}",
        channel="subscription",
        lines=(OrderLine(PRODUCT, 1),),
        may_use_credit=False,
        actor=ACTOR,
        proration=Proration(date(2026, 1, 1), 12, on),
    )
    body = orders.pay_order(store, cmd).body
    (line,) = body["lines"]
    assert (line["amount"], body["net"], body["total"]) == (amount, amount, amount)
    assert (line["full_amount"], line["remaining_days"], line["term_days"]) == (price, remaining, 365)
    assert (line["term_start"], line["term_end"]) == ("2026-01-01", "2027-01-01")
    assert amount == prorate(price, date(2026, 1, 1), 12, on).amount


def test_half_a_cent_rounds_away_from_zero_per_line(store: MemoryStore, open_account: Callable[..., Account]) -> None:
    # Half of a 28-day February term of 1 cent: 1 x 14 / 28 = 0.5 -> 1
    add_product(store, prices={"USD": 1})
    acc = set_up(store, open_account("USD"), balance=1_000)
    cmd = PayOrder(
        account_id=acc,
        order_id="half",
        channel="subscription",
        lines=(OrderLine(PRODUCT, 1),),
        may_use_credit=False,
        actor=ACTOR,
        proration=Proration(date(2026, 2, 1), 1, date(2026, 2, 15)),
    )
    # The catalog product has a 12-month term, but proration is about the term given: 14 of 28 days.
    body = orders.pay_order(store, cmd).body
    line = body["lines"][0]
    assert (line["amount"], line["remaining_days"], line["term_days"]) == (1, 14, 28)


# --------------------------------------------------------------------------- create


def test_a_backdated_subscription_is_charged_for_the_rest_of_its_first_term(store: MemoryStore, acc: str) -> None:
    before = balance_of(store, acc)
    sub = create(store, acc, start_date="2026-01-01")
    expected = prorate(2 * PRICE, date(2026, 1, 1), 12, TODAY)
    assert expected.remaining_days == 306 and expected.amount == 16_767  # 20000 x 306/365 = 16767.12
    assert (sub["state"], sub["term"], sub["term_start"], sub["term_end"]) == (
        "active",
        1,
        "2026-01-01",
        "2027-01-01",
    )
    assert sub["renewal_date"] == "2027-01-01" and sub["inventory_usable"] is True
    assert sub["inventory"] == sub["renewal_inventory"] == [{"product_code": PRODUCT, "quantity": 2}]
    (order_id,) = sub["orders"]
    assert order_id == f"sub-{sub['subscription_id']}-t1"
    paid = order(store, acc, order_id)
    assert paid["channel"] == "subscription" and paid["total"] == expected.amount
    assert paid["lines"][0]["full_amount"] == 2 * PRICE and paid["lines"][0]["remaining_days"] == 306
    assert balance_of(store, acc) == before - expected.amount
    (event,) = events_of(store, acc, "subscription.created")
    assert event["payload"]["amount"] == expected.amount and event["payload"]["prorated"] is True
    item = store.get_item(*keys.subscription(acc, sub["subscription_id"]))
    assert item is not None and item["gsi1pk"] == keys.RENEWAL_INDEX_PK
    assert item["gsi1sk"] == keys.renewal_index_sk("2027-01-01", acc, sub["subscription_id"])


def test_a_subscription_starting_today_or_later_is_charged_in_full(store: MemoryStore, acc: str) -> None:
    today = create(store, acc, key="today")
    assert order(store, acc, today["orders"][0])["total"] == 2 * PRICE
    assert today["start_date"] == TODAY.isoformat()
    later = create(store, acc, key="later", start_date="2026-04-15")
    paid = order(store, acc, later["orders"][0])
    assert paid["total"] == 2 * PRICE and paid["lines"][0]["term_start"] is None
    assert (later["term_start"], later["term_end"]) == ("2026-04-15", "2027-04-15")
    assert later["inventory_usable"] is False  # its term has not started


@pytest.mark.parametrize("start", ["2025-03-01", "2024-01-01", "2027-03-01"])
def test_a_start_outside_the_limits_is_refused_before_anything_is_charged(
    store: MemoryStore, acc: str, start: str
) -> None:
    before = balance_of(store, acc)
    with pytest.raises(InvalidInput) as refused:
        create(store, acc, start_date=start)
    assert refused.value.field == "start_date"
    assert balance_of(store, acc) == before and items_of(store, acc, "SUB#") == []


def test_the_last_day_a_start_may_be_backdated_to_charges_one_day(store: MemoryStore, acc: str) -> None:
    sub = create(store, acc, start_date="2025-03-02")  # the term ends 2026-03-02: one day remains
    assert order(store, acc, sub["orders"][0])["total"] == prorate(2 * PRICE, date(2025, 3, 2), 12, TODAY).amount
    assert order(store, acc, sub["orders"][0])["lines"][0]["remaining_days"] == 1


def test_products_must_have_the_subscriptions_term(store: MemoryStore, acc: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        create(store, acc, lines=[{"product_code": PRODUCT, "quantity": 1}, {"product_code": MONTHLY, "quantity": 1}])
    assert refused.value.field == "lines.1.product_code"
    with pytest.raises(InvalidInput) as unknown:
        create(store, acc, lines=[{"product_code": "nope", "quantity": 1}])
    assert unknown.value.field == "lines.0.product_code"


def test_a_repeated_create_is_one_subscription_and_one_charge(store: MemoryStore, acc: str) -> None:
    first = create(store, acc, start_date="2026-01-01")
    after_first = balance_of(store, acc)
    again = svc.create(
        store,
        acc,
        SubscriptionCreate.model_validate(
            {"term_months": 12, "lines": [{"product_code": PRODUCT, "quantity": 2}], "start_date": "2026-01-01"}
        ),
        "k1",
        ACTOR,
        today=date(2026, 3, 2),
    )
    assert again.replayed and again.body == first
    assert balance_of(store, acc) == after_first
    assert len(items_of(store, acc, "SUB#")) == 1 and len(items_of(store, acc, "ORDER#")) == 1
    with pytest.raises(IdempotencyKeyReused):
        create(store, acc, start_date="2026-02-01")


def test_a_retry_after_a_crash_between_charge_and_subscription_completes_it_without_charging_again(
    store: MemoryStore, acc: str
) -> None:
    first = create(store, acc, start_date="2026-01-01")
    charged = balance_of(store, acc)
    # What a crash right after the payment leaves: the paid order, no subscription, no answer.
    del store.items[keys.subscription(acc, first["subscription_id"])]
    del store.items[(keys.account_pk(acc), keys.idempotency_sk(svc.SCOPE_CREATE, "k1"))]
    retried = create(store, acc, start_date="2026-01-01", today=date(2026, 3, 9))  # another day
    assert retried["subscription_id"] == first["subscription_id"] and retried["orders"] == first["orders"]
    assert balance_of(store, acc) == charged
    # The default start (today) is read back from the order too.
    plain = create(store, acc, key="plain")
    del store.items[keys.subscription(acc, plain["subscription_id"])]
    del store.items[(keys.account_pk(acc), keys.idempotency_sk(svc.SCOPE_CREATE, "plain"))]
    assert create(store, acc, key="plain", today=date(2026, 3, 5))["start_date"] == TODAY.isoformat()


def test_a_declined_create_writes_no_subscription(store: MemoryStore, open_account: Callable[..., Account]) -> None:
    add_product(store)
    poor = set_up(store, open_account("USD"), balance=100, cards_enabled=False)
    with pytest.raises(InsufficientFunds):
        create(store, poor)
    assert items_of(store, poor, "SUB#") == [] and items_of(store, poor, "ORDER#") == []
    assert store.get_item(keys.account_pk(poor), keys.idempotency_sk(svc.SCOPE_CREATE, "k1")) is None
    assert balance_of(store, poor) == 100


def test_an_assigned_payment_method_must_exist(store: MemoryStore, acc: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        create(store, acc, payment_method_id="pm_missing")
    assert refused.value.field == "payment_method_id"
    assert create(store, acc, key="bal", payment_method_id="balance")["payment_method_id"] == "balance"


# --------------------------------------------------------------------------- inventory


def add(store: MemoryStore, acc: str, sid: str, key: str, qty: int = 3, today: date = date(2026, 7, 1)) -> Any:
    req = InventoryAdd.model_validate({"lines": [{"product_code": PRODUCT, "quantity": qty}]})
    return svc.add_inventory(store, acc, sid, req, key, ACTOR, today=today)


def test_inventory_added_mid_term_is_usable_at_once_and_charged_for_the_rest_of_the_term(
    store: MemoryStore, acc: str
) -> None:
    sub = create(store, acc, start_date="2026-01-01")
    before = balance_of(store, acc)
    added = add(store, acc, sub["subscription_id"], "inv-1")
    body = added.body
    expected = prorate(3 * PRICE, date(2026, 1, 1), 12, date(2026, 7, 1))
    assert expected.remaining_days == 184
    assert body["billing"] == "immediate" and body["amount"] == expected.amount
    assert body["subscription"]["inventory"] == [{"product_code": PRODUCT, "quantity": 5}]
    assert body["subscription"]["renewal_inventory"] == [{"product_code": PRODUCT, "quantity": 2}]
    assert body["subscription"]["orders"] == [sub["orders"][0], body["order_id"]]
    assert balance_of(store, acc) == before - expected.amount
    again = add(store, acc, sub["subscription_id"], "inv-1", today=date(2026, 7, 2))
    assert again.replayed and again.body == body and balance_of(store, acc) == before - expected.amount
    assert len(events_of(store, acc, "subscription.inventory_added")) == 1


def test_inventory_billed_on_the_next_invoice_waits_for_the_billing_run_with_its_proration_frozen(
    store: MemoryStore, acc: str
) -> None:
    sub = create(store, acc, start_date="2026-01-01", inventory_billing="next_invoice")
    sid = sub["subscription_id"]
    before = balance_of(store, acc)
    body = add(store, acc, sid, "inv-1").body
    assert body["billing"] == "next_invoice" and body["order_id"] is None and body["amount"] is None
    assert body["subscription"]["inventory"] == [{"product_code": PRODUCT, "quantity": 5}]
    assert body["subscription"]["inventory_usable"] is True
    (pending,) = body["subscription"]["pending_charges"]
    assert (pending["state"], pending["added_on"]) == ("pending", "2026-07-01")
    assert balance_of(store, acc) == before
    # The run a month later charges the rest of the term counted from the day it was added, once.
    paid = svc.settle_pending(store, acc, date(2026, 8, 1))
    assert paid == [svc.inventory_order_id(sid, pending["charge_id"])]
    expected = prorate(3 * PRICE, date(2026, 1, 1), 12, date(2026, 7, 1)).amount
    assert order(store, acc, paid[0])["total"] == expected
    assert balance_of(store, acc) == before - expected
    assert svc.settle_pending(store, acc, date(2026, 9, 1)) == []
    view = svc.get(store, acc, sid, date(2026, 8, 1))
    assert view["orders"][-1] == paid[0] and view["pending_charges"][0]["state"] == "charged"


def test_a_pending_charge_that_cannot_be_paid_stays_for_the_next_run(
    store: MemoryStore, open_account: Callable[..., Account]
) -> None:
    add_product(store)
    poor = set_up(store, open_account("USD"), balance=2 * PRICE, cards_enabled=False)
    sub = create(store, poor, inventory_billing="next_invoice")
    add(store, poor, sub["subscription_id"], "inv")
    assert svc.settle_pending(store, poor, date(2026, 8, 1)) == []
    set_up(store, open_account("USD"), balance=0)  # another account: nothing to settle there
    svc_body = svc.get(store, poor, sub["subscription_id"], date(2026, 8, 1))
    assert svc_body["pending_charges"][0]["state"] == "pending"


def test_a_suspended_subscription_takes_no_inventory(store: MemoryStore, acc: str) -> None:
    sub = create(store, acc)
    svc.suspend(store, acc, sub["subscription_id"], ACTOR, today=date(2026, 4, 1))
    before = balance_of(store, acc)
    with pytest.raises(SubscriptionSuspended):
        add(store, acc, sub["subscription_id"], "inv", today=date(2026, 4, 2))
    assert balance_of(store, acc) == before


# --------------------------------------------------------------------------- suspend, reactivate, change


def test_suspend_and_reactivate_within_the_term_without_a_charge(store: MemoryStore, acc: str) -> None:
    sub = create(store, acc, start_date="2026-01-01")
    sid = sub["subscription_id"]
    before = balance_of(store, acc)
    hold = holds.place(store, acc, svc.renewal_hold_id(sid, 2), 100, "USD", subscription_id=sid, term=2)
    assert hold is not None and store.get_account(acc).held == 100  # type: ignore[union-attr]
    held = svc.suspend(store, acc, sid, ACTOR, today=date(2026, 5, 1))
    assert (held["state"], held["inventory_usable"], held["renewal_date"]) == ("suspended", False, None)
    # The balance reserved for the renewal is free again.
    assert holds.get(store, acc, hold.hold_id).state == "released"  # type: ignore[union-attr]
    assert store.get_account(acc).held == 0  # type: ignore[union-attr]
    item = store.get_item(*keys.subscription(acc, sid))
    assert item is not None and "gsi1pk" not in item and "gsi1sk" not in item
    assert svc.suspend(store, acc, sid, ACTOR, today=date(2026, 5, 2))["version"] == held["version"]
    back = svc.reactivate(store, acc, sid, ACTOR, today=date(2026, 6, 1))
    assert (back["state"], back["inventory_usable"], back["renewal_date"]) == ("active", True, "2027-01-01")
    item = store.get_item(*keys.subscription(acc, sid))
    assert item is not None and item["gsi1sk"] == keys.renewal_index_sk("2027-01-01", acc, sid)
    assert balance_of(store, acc) == before
    assert [e["type"] for e in events_of(store, acc) if e["type"].startswith("subscription.")] == [
        "subscription.created",
        "subscription.suspended",
        "subscription.reactivated",
    ]


def test_a_subscription_suspended_past_its_term_has_expired_and_cannot_be_reactivated(
    store: MemoryStore, acc: str
) -> None:
    sub = create(store, acc, start_date="2026-01-01")
    sid = sub["subscription_id"]
    svc.suspend(store, acc, sid, ACTOR, today=date(2026, 5, 1))
    assert svc.get(store, acc, sid, date(2027, 1, 1))["state"] == "expired"
    with pytest.raises(SubscriptionExpired) as refused:
        svc.reactivate(store, acc, sid, ACTOR, today=date(2027, 1, 1))
    assert refused.value.status == 409 and refused.value.slug == "subscription-expired"
    assert svc.get(store, acc, sid, date(2026, 12, 31))["state"] == "suspended"  # nothing was written


def test_change_auto_renewal_method_and_renewal_inventory(store: MemoryStore, acc: str) -> None:
    sid = create(store, acc)["subscription_id"]
    off = svc.change(store, acc, sid, SubscriptionChange.model_validate({"auto_renew": False}), ACTOR, TODAY)
    assert off["auto_renew"] is False and off["renewal_date"] is None
    item = store.get_item(*keys.subscription(acc, sid))
    assert item is not None and "gsi1pk" not in item
    body = {"auto_renew": True, "renewal_items": [{"product_code": PRODUCT, "quantity": 7}], "payment_method_id": None}
    on = svc.change(store, acc, sid, SubscriptionChange.model_validate(body), ACTOR, TODAY)
    assert on["renewal_inventory"] == [{"product_code": PRODUCT, "quantity": 7}]
    assert on["inventory"] == [{"product_code": PRODUCT, "quantity": 2}]
    assert on["renewal_date"] == on["term_end"] and on["version"] == 3
    with pytest.raises(InvalidInput) as refused:
        svc.change(
            store,
            acc,
            sid,
            SubscriptionChange.model_validate({"renewal_items": [{"product_code": MONTHLY, "quantity": 1}]}),
            ACTOR,
            TODAY,
        )
    assert refused.value.field == "renewal_items.0.product_code"
    for empty in ({}, {"auto_renew": None}):
        with pytest.raises(ValidationError):
            SubscriptionChange.model_validate(empty)


def test_an_update_from_a_stale_read_is_refused(store: MemoryStore, acc: str) -> None:
    sub = Subscription.from_item(store.get_item(*keys.subscription(acc, create(store, acc)["subscription_id"])) or {})
    svc.save_update(store, sub, sub.suspended(TODAY))
    with pytest.raises(StaleSubscription):
        svc.save_update(store, sub, sub.renewed("sub-x-t2"))


def test_inventory_waits_for_a_later_start(store: MemoryStore, acc: str) -> None:
    sid = create(store, acc, start_date="2026-04-15")["subscription_id"]
    with pytest.raises(Conflict) as refused:
        add(store, acc, sid, "early", today=TODAY)
    assert "starts on 2026-04-15" in refused.value.detail
    assert add(store, acc, sid, "on-time", today=date(2026, 4, 15)).body["amount"] == 3 * PRICE
