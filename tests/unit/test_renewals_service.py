"""The daily renewal run over the in-memory store: holds in the window, one charge per term whatever reruns,
crashes or overlapping runs, daily retries and failure notes, suspension after the grace period, the forecast
and its once-per-window alert."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest
from _deposit_support import configure
from _order_support import PRICE, PRODUCT, FakeProvider, add_product, balance_of, events_of, set_up
from _renewal_support import read, renewal_orders, set_subscription, subscription
from _support import OPERATOR, adjustment

from account_credit.accounts import service as accounts_svc
from account_credit.holds import service as holds
from account_credit.kernel.domain import Account
from account_credit.kernel.errors import InsufficientFunds
from account_credit.orders import service as orders
from account_credit.orders.commands import OrderLine, PayOrder
from account_credit.payment_methods import service as payment_methods
from account_credit.platform.events import EventType
from account_credit.platform.payments.port import SavedCard
from account_credit.platform.store.memory import MemoryStore
from account_credit.renewals import service as renewals
from account_credit.renewals.config import RenewalSettings

START = date(2026, 1, 10)  # term 1: [2026-01-10, 2027-01-10)
RENEWAL = date(2027, 1, 10)
CFG = RenewalSettings(hold_days=7, grace_days=3, forecast_days=30)


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def acc(store: MemoryStore, open_account: Any) -> Account:
    add_product(store)
    account: Account = open_account()
    set_up(store, account, balance=25_000, credit_limit=0, cards_enabled=False)
    subscription(store, account.account_id, "sub_a", start=START)
    return account


def run(store: MemoryStore, day: date, provider: FakeProvider, **kw: Any) -> renewals.RunReport:
    return renewals.run_day(store, day, providers=lambda _name: provider, cfg=CFG, **kw)


def types(store: MemoryStore, account_id: str, kind: str) -> list[dict[str, Any]]:
    return events_of(store, account_id, kind)


def top_up(store: MemoryStore, account_id: str, amount: int, key: str) -> None:
    accounts_svc.adjust(store, adjustment("credit", amount).command(account_id, key, OPERATOR.actor))


def test_the_hold_is_placed_once_in_the_window_and_the_renewal_paid_once_on_its_day(
    store: MemoryStore, acc: Account, provider: FakeProvider
) -> None:
    a = acc.account_id
    assert run(store, date(2027, 1, 2), provider).holds_placed == []  # 8 days ahead: not yet
    assert run(store, date(2027, 1, 3), provider).holds_placed == ["renewal-sub_a-2"]
    assert run(store, date(2027, 1, 4), provider).holds_placed == []  # once per term
    hold = holds.get(store, a, "renewal-sub_a-2")
    assert hold is not None and (hold.amount, hold.state, hold.term) == (PRICE, "active", 2)
    assert balance_of(store, a) == 25_000  # reserved, not moved

    report = run(store, RENEWAL, provider)
    assert report.renewed == ["sub_a#2"]
    assert run(store, RENEWAL, provider).renewed == []  # a rerun finds it done
    sub = read(store, a, "sub_a")
    assert (sub["term"], sub["term_start"], sub["term_end"], sub["version"]) == (2, "2027-01-10", "2028-01-10", 2)
    assert sub["gsi1sk"].startswith("2028-01-10#") and sub["orders"] == ["renewal-sub_a-2"]
    assert balance_of(store, a) == 25_000 - PRICE
    (order,) = renewal_orders(store, a)
    assert (order["channel"], order["total"], order["actor"]) == ("renewal", PRICE, "schedule:renewals")
    hold = holds.get(store, a, "renewal-sub_a-2")
    assert hold is not None and hold.state != "active"  # used up by the payment, or given back after it
    assert (store.get_account(a) or acc).held == 0
    (done,) = types(store, a, EventType.RENEWAL_SUCCEEDED)
    expected = {"subscription_id": "sub_a", "term": 2, "amount": PRICE, "method": "balance"}
    assert {k: done["payload"][k] for k in expected} == expected


def test_a_crash_after_the_charge_and_overlapping_runs_never_charge_twice(
    store: MemoryStore, acc: Account, provider: FakeProvider
) -> None:
    a = acc.account_id
    sub = renewals.Due.from_item(read(store, a, "sub_a"))
    # A run that paid and died before advancing the subscription:
    orders.pay_order(store, renewals._command(sub, None, None), providers=lambda _n: provider)
    reports: list[renewals.RunReport] = []
    threads = [threading.Thread(target=lambda: reports.append(run(store, RENEWAL, provider))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(len(r.renewed) for r in reports) == 1
    assert balance_of(store, a) == 25_000 - PRICE
    assert len(renewal_orders(store, a)) == 1
    assert read(store, a, "sub_a")["term"] == 2
    assert len(types(store, a, EventType.RENEWAL_SUCCEEDED)) == 1


def test_an_unpaid_renewal_is_noted_once_a_day_retried_and_paid_after_a_top_up(
    store: MemoryStore, open_account: Any, provider: FakeProvider
) -> None:
    add_product(store)
    account: Account = open_account()
    a = account.account_id
    set_up(store, account, balance=3_000, credit_limit=0, cards_enabled=False)
    subscription(store, a, "sub_b", start=START)
    assert run(store, RENEWAL, provider).failed == ["sub_b#2"]
    assert run(store, RENEWAL, provider).failed == []  # the same day again: noted once
    failed = types(store, a, EventType.RENEWAL_FAILED)
    assert len(failed) == 1
    p = failed[0]["payload"]
    assert (p["term"], p["amount"], p["retry_until"], p["attempts"]) == (2, PRICE, "2027-01-13", 1)
    assert p["reasons"] and p["currency"] == "USD"
    assert not types(store, a, EventType.ORDER_PAID)
    assert run(store, date(2027, 1, 11), provider).failed == ["sub_b#2"]  # retried the next day
    assert read(store, a, "sub_b")["renewal_attempts"] == 2
    top_up(store, a, 20_000, "top-up-1")
    assert run(store, date(2027, 1, 12), provider).renewed == ["sub_b#2"]
    sub = read(store, a, "sub_b")
    assert (sub["term"], sub["renewal_attempts"], sub["renewal_failed_since"]) == (2, 0, None)
    assert balance_of(store, a) == 23_000 - PRICE


def test_after_the_grace_period_the_subscription_is_suspended_once_and_its_hold_released(
    store: MemoryStore, open_account: Any, provider: FakeProvider
) -> None:
    add_product(store)
    account: Account = open_account()
    a = account.account_id
    set_up(store, account, balance=4_000, credit_limit=0, cards_enabled=False)
    subscription(store, a, "sub_c", start=START)
    assert run(store, date(2027, 1, 5), provider).holds_placed == ["renewal-sub_c-2"]  # what the balance spares
    assert (store.get_account(a) or account).held == 4_000
    for day in (10, 11, 12):
        assert run(store, date(2027, 1, day), provider).failed == ["sub_c#2"]
    assert run(store, date(2027, 1, 13), provider).suspended == ["sub_c"]  # the last day of the grace period
    assert run(store, date(2027, 1, 14), provider).suspended == []
    sub = read(store, a, "sub_c")
    assert (sub["state"], sub["term"]) == ("suspended", 1)
    assert "gsi1pk" not in sub and "gsi1sk" not in sub  # out of the renewal index
    (event,) = types(store, a, EventType.SUBSCRIPTION_SUSPENDED)
    assert event["payload"] == {"subscription_id": "sub_c", "term": 1, "reason": "renewal_failed"}
    hold = holds.get(store, a, "renewal-sub_c-2")
    assert hold is not None and hold.state == "released"
    assert (store.get_account(a) or account).held == 0 and balance_of(store, a) == 4_000
    assert not renewal_orders(store, a)


def test_auto_renew_turned_off_or_suspended_by_the_customer_renews_nothing(
    store: MemoryStore, acc: Account, provider: FakeProvider
) -> None:
    a = acc.account_id
    subscription(store, a, "sub_d", start=START)
    set_subscription(store, a, "sub_a", auto_renew=False)
    set_subscription(store, a, "sub_d", state="suspended")
    report = run(store, RENEWAL, provider)
    assert (report.renewed, report.failed, report.looked_at) == ([], [], 0)
    assert balance_of(store, a) == 25_000


def test_a_customer_change_between_the_read_and_the_advance_is_kept(
    store: MemoryStore, acc: Account, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = acc.account_id
    real = renewals._advance
    changed: list[bool] = []

    def customer_first(sub: renewals.Due, item: dict[str, Any], order_id: str, now: str) -> Any:
        if not changed:  # the customer changes the renewal method right before this run's write
            changed.append(True)
            set_subscription(store, a, "sub_a", payment_method_id="balance")
        return real(sub, item, order_id, now)

    monkeypatch.setattr(renewals, "_advance", customer_first)
    assert run(store, RENEWAL, provider).renewed == ["sub_a#2"]
    sub = read(store, a, "sub_a")
    assert (sub["term"], sub["payment_method_id"], sub["version"]) == (2, "balance", 3)


def test_only_the_given_account_is_run(
    store: MemoryStore, acc: Account, open_account: Any, provider: FakeProvider
) -> None:
    other: Account = open_account()
    set_up(store, other, balance=25_000, credit_limit=0, cards_enabled=False)
    subscription(store, other.account_id, "sub_e", start=START)
    assert run(store, RENEWAL, provider, account_id=other.account_id).renewed == ["sub_e#2"]
    assert read(store, acc.account_id, "sub_a")["term"] == 1


@pytest.mark.parametrize(
    ("payment", "kind", "said"),
    [
        ({"method": "balance"}, EventType.RENEWAL_SUCCEEDED, {"method": "balance"}),
        (
            {"method": "card", "card": {"brand": "visa", "last4": "4242"}},
            EventType.RENEWAL_SUCCEEDED,
            {"method": "card", "last4": "4242", "brand": "visa"},
        ),
        (
            {
                "method": "balance",
                "attempts": [
                    {"method": "card", "payment_method_id": "pm_1", "outcome": "declined", "decline_code": "expired"},
                    {"method": "balance", "payment_method_id": None, "outcome": "succeeded", "decline_code": None},
                ],
            },
            EventType.RENEWAL_PAID_WITH_ALTERNATE,
            {"method": "balance", "failed_method": "pm_1", "decline_code": "expired"},
        ),
        (
            {"method": "card", "attempts": [{"method": "card", "outcome": "succeeded"}], "card": {"last4": "1111"}},
            EventType.RENEWAL_SUCCEEDED,
            {"method": "card", "last4": "1111", "brand": None},
        ),
    ],
)
def test_the_event_of_a_paid_renewal_says_whether_the_alternate_paid(
    payment: dict[str, Any], kind: EventType, said: dict[str, Any]
) -> None:
    assert renewals.outcome({"order_id": "o", "payment": payment}) == (kind, said)


def test_the_forecast_counts_renewals_in_the_window_and_alerts_once_per_window(
    store: MemoryStore, open_account: Any, provider: FakeProvider
) -> None:
    add_product(store)
    account: Account = open_account()
    a = account.account_id
    set_up(store, account, balance=15_000, credit_limit=0, cards_enabled=False)
    subscription(store, a, "sub_f", start=START)  # renews 2027-01-10
    subscription(store, a, "sub_g", start=date(2026, 2, 5))  # renews 2027-02-05
    subscription(store, a, "sub_h", start=date(2026, 1, 20), auto_renew=False)  # not renewing
    fc = renewals.forecast(store, a, date(2027, 1, 1), 30)
    assert (fc.due, fc.available, fc.short, fc.window_end) == (PRICE, 15_000, False, "2027-01-31")
    assert [s["subscription_id"] for s in fc.subscriptions] == ["sub_f"]
    fc = renewals.forecast(store, a, date(2027, 1, 6), 30)
    assert (fc.due, fc.short) == (2 * PRICE, True)
    assert fc.as_dict()["shortfall"] == 2 * PRICE - 15_000

    assert run(store, date(2026, 12, 10), provider).forecast_alerts == []  # 31 days ahead: not in the window
    assert run(store, date(2027, 1, 6), provider).forecast_alerts == [a]
    assert run(store, date(2027, 1, 7), provider).forecast_alerts == []  # once per window
    # a held amount still counts as available for the renewals it is held for
    held = renewals.forecast(store, a, date(2027, 1, 7), 30)
    assert held.available == 15_000 and (store.get_account(a) or account).held == PRICE
    (alert,) = types(store, a, EventType.RENEWAL_FORECAST_SHORT)
    assert alert["payload"]["due"] == 2 * PRICE and alert["payload"]["window_end"] == "2027-02-05"


def test_a_renewal_whose_product_is_no_longer_sold_fails_and_says_why(
    store: MemoryStore, acc: Account, provider: FakeProvider
) -> None:
    a = acc.account_id
    subscription(store, a, "sub_i", start=START, items=(("gone-1y", 1),))
    report = run(store, RENEWAL, provider)
    assert report.failed == ["sub_i#2"] and report.renewed == ["sub_a#2"]
    (failed,) = types(store, a, EventType.RENEWAL_FAILED)
    assert "gone-1y" in failed["payload"]["reasons"][0]


def test_a_balance_that_exactly_covers_the_renewal_pays_it_through_its_hold(
    store: MemoryStore, open_account: Any, provider: FakeProvider
) -> None:
    """The hold reserves the whole balance; the renewal's own debit uses it up in the same write, and meanwhile an
    order cannot take any of it."""
    add_product(store)
    account: Account = open_account()
    a = set_up(store, account, balance=PRICE, credit_limit=0, cards_enabled=False)
    subscription(store, a, "sub_x", start=START)
    assert run(store, date(2027, 1, 3), provider).holds_placed == ["renewal-sub_x-2"]
    now = store.get_account(a)
    assert now is not None and (now.balance, now.held, now.available) == (PRICE, PRICE, 0)
    with pytest.raises(InsufficientFunds):
        orders.pay_order(store, PayOrder(a, "o-1", "portal", (OrderLine(PRODUCT, 1),), False, "customer:x"))
    assert run(store, RENEWAL, provider).renewed == ["sub_x#2"]
    now = store.get_account(a)
    assert now is not None and (now.balance, now.held) == (0, 0)
    hold = holds.get(store, a, "renewal-sub_x-2")
    assert hold is not None and (hold.state, hold.reason) == ("captured", "order renewal-sub_x-2")
    (order,) = renewal_orders(store, a)
    assert order["payment"]["method"] == "balance" and order["subscription"] == {"subscription_id": "sub_x", "term": 2}


def test_the_alternate_card_pays_when_the_default_card_declines(
    store: MemoryStore, open_account: Any, provider: FakeProvider
) -> None:
    add_product(store)
    account: Account = open_account()
    a = set_up(store, account, balance=0, credit_limit=0, cards_enabled=True)
    first = payment_methods.save_card(store, a, _card("pm_first"))
    declining = payment_methods.save_card(store, a, _card("pm_will_decline"))
    payment_methods.set_preferences(store, a, declining.payment_method_id, first.payment_method_id)
    subscription(store, a, "sub_c", start=START)
    report = run(store, RENEWAL, provider)
    assert report.paid_with_alternate == ["sub_c#2"]
    (order,) = renewal_orders(store, a)
    assert [(t["payment_method_id"], t["outcome"], t["decline_code"]) for t in order["payment"]["attempts"]] == [
        (declining.payment_method_id, "declined", "card_declined"),
        (first.payment_method_id, "paid", None),
    ]
    (told,) = types(store, a, EventType.RENEWAL_PAID_WITH_ALTERNATE)
    assert told["payload"]["failed_method"] == declining.payment_method_id
    assert [c["token"] for c in provider.charge_calls] == ["pm_will_decline", "pm_first"]
    assert run(store, RENEWAL, provider).renewed == [] and len(provider.charge_calls) == 2


def _card(token: str) -> SavedCard:
    return SavedCard(provider="fake", token=token, brand="visa", last4=token[-4:], exp_month=12, exp_year=2099)


def test_a_renewal_paid_on_invoice_issues_one_payment_request_and_is_paid_once_the_transfer_is_in(
    store: MemoryStore, open_account: Any, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch)
    add_product(store)
    account: Account = open_account()
    a = set_up(store, account, balance=0, credit_limit=0, cards_enabled=False)
    payment_methods.add_invoice(store, a)
    subscription(store, a, "sub_i", start=START, payment_method_id="invoice")

    first = run(store, RENEWAL, provider)
    assert (first.awaiting_transfer, first.failed, first.renewed) == (["sub_i#2"], [], [])
    again = run(store, date(2027, 1, 11), provider)
    assert (again.awaiting_transfer, again.failed) == ([], [])  # the request is issued once, nothing "failed"
    (requested,) = types(store, a, EventType.RENEWAL_AWAITING_TRANSFER)
    (proforma,) = types(store, a, EventType.PROFORMA_ISSUED)  # the payment request, mailed with the bank details
    assert requested["payload"]["proforma_number"] == proforma["payload"]["number"]
    assert proforma["payload"]["amount"] == PRICE and requested["payload"]["term"] == 2

    top_up(store, a, PRICE, "the-transfer")  # the transfer is credited to the balance
    paid = run(store, date(2027, 1, 12), provider)
    assert paid.renewed == ["sub_i#2"]
    (order,) = renewal_orders(store, a)
    assert order["payment"]["method"] == "balance" and balance_of(store, a) == 0
    assert read(store, a, "sub_i")["term"] == 2


def test_a_renewal_on_invoice_without_a_transfer_is_suspended_after_the_grace_period(
    store: MemoryStore, open_account: Any, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch)
    add_product(store)
    account: Account = open_account()
    a = set_up(store, account, balance=0, credit_limit=0, cards_enabled=False)
    payment_methods.add_invoice(store, a)
    subscription(store, a, "sub_j", start=START, payment_method_id="invoice")
    run(store, RENEWAL, provider)
    assert run(store, date(2027, 1, 13), provider).suspended == ["sub_j"]  # grace of 3 days in CFG
    assert read(store, a, "sub_j")["state"] == "suspended"
