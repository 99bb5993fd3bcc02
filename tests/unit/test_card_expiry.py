"""The card-expiry scan: which months it reads (a table), who relies on a card (a table), and the scan on the
in-memory store: only the cards of the months due are read, each relied-on card is announced once."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from _auto_top_up_support import events_of, prefer, save_card, subscribe

from account_credit.payment_methods import expiry
from account_credit.payment_methods.reliance import Preferences, Subscription
from account_credit.platform.store.memory import MemoryStore


@pytest.mark.parametrize(
    ("today", "days", "months"),
    [
        (date(2026, 11, 30), 30, ["2026-11"]),  # December ends on the 31st: 31 days away
        (date(2026, 12, 1), 30, ["2026-12"]),
        (date(2026, 12, 2), 30, ["2026-12"]),
        (date(2026, 12, 31), 30, ["2026-12"]),  # the last day a December card works
        (date(2026, 12, 2), 60, ["2026-12", "2027-01"]),
        (date(2027, 1, 31), 28, ["2027-01", "2027-02"]),  # 28 February 2027
        (date(2028, 1, 31), 28, ["2028-01"]),  # 29 February 2028: a leap year
        (date(2026, 3, 15), 0, []),
        (date(2026, 3, 31), 0, ["2026-03"]),
        (date(2026, 1, 1), 365, [f"2026-{m:02d}" for m in range(1, 13)]),
    ],
)
def test_the_scan_reads_the_months_whose_last_day_falls_within_the_notice(
    today: date, days: int, months: list[str]
) -> None:
    assert expiry.months_to_scan(today, days) == months


def sub(sid: str, pm: str | None = None, *, active: bool = True, auto_renew: bool = True) -> Subscription:
    return Subscription(subscription_id=sid, active=active, auto_renew=auto_renew, payment_method_id=pm)


@pytest.mark.parametrize(
    ("prefs", "subs", "relied"),
    [
        (Preferences(), [], []),
        (Preferences("pm_1"), [], ["default"]),
        (Preferences("balance", "pm_1"), [], ["alternate"]),
        (Preferences("pm_1", "pm_1"), [], ["default", "alternate"]),
        (Preferences("balance"), [sub("s1", "pm_1")], ["subscription:s1"]),
        (Preferences("pm_1"), [sub("s2"), sub("s1", "pm_2")], ["default", "subscription:s2"]),  # falls back
        (Preferences("pm_2"), [sub("s1")], []),  # falls back to another card
        (Preferences("balance"), [sub("s1", "pm_1", auto_renew=False)], []),
        (Preferences("balance"), [sub("s1", "pm_1", active=False)], []),
    ],
)
def test_a_card_is_relied_on_by_the_default_the_alternate_and_active_auto_renewing_subscriptions(
    prefs: Preferences, subs: list[Subscription], relied: list[str]
) -> None:
    assert expiry.relied_on_by("pm_1", prefs, subs) == relied


@pytest.fixture
def acc(store: MemoryStore, open_account: Any) -> str:
    return str(open_account("EUR").account_id)


def test_each_relied_on_card_about_to_expire_is_announced_once(store: MemoryStore, acc: str) -> None:
    save_card(store, acc, "pm_default", exp=(12, 2026))
    save_card(store, acc, "pm_sub", exp=(12, 2026))
    save_card(store, acc, "pm_spare", exp=(12, 2026))  # nobody relies on it
    save_card(store, acc, "pm_later", exp=(1, 2027))  # relied on, but expires later
    prefer(store, acc, "pm_default", alternate="pm_later")
    subscribe(store, acc, "sub_1", payment_method_id="pm_sub")
    subscribe(store, acc, "sub_2")  # the default pays it

    first = expiry.scan(store, date(2026, 12, 1), 30)
    assert first.as_dict() == {"months": ["2026-12"], "cards_read": 3, "relied_on": 2, "announced": 2}
    again = expiry.scan(store, date(2026, 12, 2), 30)
    assert (again.relied_on, again.announced) == (2, 0)

    told = {e["payload"]["payment_method_id"]: e["payload"] for e in events_of(store, acc, "card.expiring")}
    assert told == {
        "pm_default": {
            "payment_method_id": "pm_default",
            "brand": "visa",
            "last4": "4242",
            "exp_month": 12,
            "exp_year": 2026,
            "relied_on_by": ["default", "subscription:sub_2"],
        },
        "pm_sub": {
            "payment_method_id": "pm_sub",
            "brand": "visa",
            "last4": "4242",
            "exp_month": 12,
            "exp_year": 2026,
            "relied_on_by": ["subscription:sub_1"],
        },
    }

    later = expiry.scan(store, date(2027, 1, 2), 30)
    assert (later.months, later.announced) == (["2027-01"], 1)
    assert len(events_of(store, acc, "card.expiring")) == 3


def test_the_scan_reads_only_the_expiry_index_of_the_months_due(
    store: MemoryStore, open_account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        other = str(open_account("EUR").account_id)
        save_card(store, other, f"pm_{n}", exp=(6, 2027))
        prefer(store, other, f"pm_{n}")
    due = str(open_account("EUR").account_id)
    save_card(store, due, "pm_due", exp=(12, 2026))
    prefer(store, due, "pm_due")
    asked: list[str] = []
    real = store.index_page

    def index_page(index_pk: str, **kw: Any) -> Any:
        asked.append(index_pk)
        return real(index_pk, **kw)

    monkeypatch.setattr(store, "index_page", index_page)
    result = expiry.scan(store, date(2026, 12, 10), 30)
    assert asked == ["CARDEXP#2026-12"]
    assert (result.cards_read, result.announced) == (1, 1)


def test_the_notice_comes_from_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CARD_EXPIRY_NOTICE_DAYS", raising=False)
    assert expiry.notice_days() == 30
    monkeypatch.setenv("CARD_EXPIRY_NOTICE_DAYS", "45")
    assert expiry.notice_days() == 45
    monkeypatch.setenv("CARD_EXPIRY_NOTICE_DAYS", "400")
    with pytest.raises(ValueError, match="CARD_EXPIRY_NOTICE_DAYS"):
        expiry.notice_days()


def test_the_daily_function_scans_as_of_the_day_it_is_given(
    store: MemoryStore, acc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util
    import sys

    from _support import ROOT, LambdaContext

    name = "card_expiry_app"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / "card_expiry" / "app.py")
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    app = sys.modules[name]
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setattr(app, "store", lambda: store)
    save_card(store, acc, "pm_default", exp=(2, 2027))
    prefer(store, acc, "pm_default")
    out = app.lambda_handler({"today": "2027-02-01"}, LambdaContext())
    assert out == {"months": ["2027-02"], "cards_read": 1, "relied_on": 1, "announced": 1}
