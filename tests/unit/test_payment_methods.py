"""Payment methods: the preferences (default + alternate), cards with their expiry index, gift cards, pay on
invoice, update and delete, and the order decision paying by them with every attempt recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from _order_support import PRICE, FakeProvider, add_product, balance_of, entries_of, events_of, order, set_up
from _support import OPERATOR, customer_of

from account_credit.kernel.domain import Account
from account_credit.kernel.errors import Conflict, InsufficientFunds, InvalidInput, NotFound
from account_credit.kernel.money import Money
from account_credit.orders import service as orders
from account_credit.orders.commands import CancelOrder
from account_credit.orders.config import order_settings
from account_credit.payment_methods import gift_cards
from account_credit.payment_methods import service as methods
from account_credit.platform.payments import sandbox
from account_credit.platform.payments.port import BillingAddress, SavedCard
from account_credit.platform.store import RecordUpdate, keys
from account_credit.platform.store.memory import MemoryStore

Opener = Callable[..., Account]
ADDRESS = BillingAddress(line1="1 Main St", city="Bratislava", postal_code="81101", country="SK")


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    order_settings.cache_clear()
    yield
    order_settings.cache_clear()


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


def card(token: str, exp: tuple[int, int] = (12, 2099), provider: str = "fake") -> SavedCard:
    return SavedCard(provider=provider, token=token, brand="visa", last4="4242", exp_month=exp[0], exp_year=exp[1])


def pay(store: MemoryStore, acc: str, order_id: str, fake: FakeProvider, **kw: Any) -> dict[str, Any]:
    cmd = order(order_id, **kw).command(acc, customer_of(acc).actor)
    return orders.pay_order(store, cmd, providers=lambda _: fake).body


def attempts_of(payment: dict[str, Any]) -> list[tuple[str | None, str | None, str]]:
    return [(a["method"], a["payment_method_id"], a["outcome"]) for a in payment["attempts"]]


# --------------------------------------------------------------------------- preferences


def test_without_preferences_the_balance_is_the_default_and_the_first_card_the_alternate(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account().account_id
    assert methods.preferences(store, acc) == methods.Preferences("balance", None, 0)
    first = methods.save_card(store, acc, card("pm_a"))
    second = methods.save_card(store, acc, card("pm_b"))
    prefs = methods.preferences(store, acc)
    assert (prefs.default, prefs.alternate) == ("balance", first.payment_method_id)
    assert prefs.role_of(second.payment_method_id) is None
    assert methods.save_card(store, acc, card("pm_a")) == first, "the same token is one method"


def test_set_preferences_checks_the_methods(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account().account_id
    a = methods.save_card(store, acc, card("pm_a")).payment_method_id
    b = methods.save_card(store, acc, card("pm_b")).payment_method_id
    assert methods.set_preferences(store, acc, a, b) == methods.Preferences(a, b, 2)
    with pytest.raises(InvalidInput) as unknown:
        methods.set_preferences(store, acc, "pm_nope", b)
    assert unknown.value.field == "default"
    with pytest.raises(InvalidInput) as same:
        methods.set_preferences(store, acc, a, a)
    assert same.value.field == "alternate"
    methods.delete_method(store, acc, b)
    with pytest.raises(InvalidInput) as deleted:
        methods.set_preferences(store, acc, a, b)
    assert deleted.value.field == "alternate"
    assert methods.set_preferences(store, acc, "balance", a).as_dict() == {"default": "balance", "alternate": a}


def test_plan_for_is_the_assigned_method_then_the_alternate_each_once_and_only_existing(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account().account_id
    a = methods.save_card(store, acc, card("pm_a")).payment_method_id
    b = methods.save_card(store, acc, card("pm_b")).payment_method_id
    assert methods.plan_for(store, acc, None) == ("balance", a)
    assert methods.plan_for(store, acc, b) == (b, a)
    assert methods.plan_for(store, acc, a) == (a,)
    methods.set_preferences(store, acc, b, "balance")
    assert methods.plan_for(store, acc, None) == (b, "balance")
    assert methods.plan_for(store, acc, "pm_gone") == ("balance",), "a method that no longer exists is dropped"


# --------------------------------------------------------------------------- cards: expiry index, update, delete


def test_a_card_is_in_the_expiry_index_of_its_month_kept_right_on_update_and_gone_on_delete(
    store: MemoryStore, open_account: Opener, fake: FakeProvider
) -> None:
    acc = open_account().account_id
    pm = methods.save_card(store, acc, card("pm_a", (3, 2031)), ADDRESS).payment_method_id
    item = store.get_item(*keys.payment_method(acc, pm))
    assert item is not None
    assert (item["gsi1pk"], item["gsi1sk"]) == (keys.card_expiry_index("2031-03"), f"{acc}#{pm}")
    assert item["billing_address"]["city"] == "Bratislava"

    moved = BillingAddress(line1="2 High St", city="Kosice", postal_code="04001", country="SK", state="KE")
    updated = methods.update_card(store, acc, pm, 11, 2033, moved, providers=lambda _: fake)
    assert fake.update_calls == [{"token": "pm_a", "exp": (11, 2033), "address": moved}], "the provider first"
    assert updated.card is not None and (updated.card.exp_month, updated.card.exp_year) == (11, 2033)
    item = store.get_item(*keys.payment_method(acc, pm))
    assert item is not None and item["gsi1pk"] == keys.card_expiry_index("2033-11")
    assert item["billing_address"]["state"] == "KE"

    with pytest.raises(InvalidInput) as past:
        methods.update_card(store, acc, pm, 1, 2001, None, providers=lambda _: fake)
    assert past.value.field == "exp_year"
    with pytest.raises(NotFound):
        methods.update_card(store, acc, "pm_nope", 1, 2040, None, providers=lambda _: fake)

    methods.delete_method(store, acc, pm)
    assert store.get_item(*keys.payment_method(acc, pm)) is None
    assert store.get_item(*keys.card_token(acc, "fake", "pm_a")) is None
    again = methods.save_card(store, acc, card("pm_a")).payment_method_id
    assert again != pm, "the card may be added again"
    assert methods.preferences(store, acc).alternate == again, "the account's card again the first: the alternate"


def test_deleting_the_default_or_alternate_clears_the_role(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account().account_id
    a = methods.save_card(store, acc, card("pm_a")).payment_method_id
    b = methods.save_card(store, acc, card("pm_b")).payment_method_id
    methods.set_preferences(store, acc, a, b)
    methods.delete_method(store, acc, a)
    assert methods.preferences(store, acc).as_dict() == {"default": "balance", "alternate": b}
    methods.delete_method(store, acc, b)
    assert methods.preferences(store, acc).as_dict() == {"default": "balance", "alternate": None}
    with pytest.raises(NotFound):
        methods.delete_method(store, acc, b)
    with pytest.raises(Conflict):
        methods.delete_method(store, acc, "balance")


def _subscription(store: MemoryStore, acc: str, sub_id: str, **attrs: Any) -> None:
    pk, prefix = keys.subscriptions_prefix(acc)
    item = {"state": "active", "auto_renew": True, "payment_method_id": None, "subscription_id": sub_id, **attrs}
    store.put_if_absent((pk, f"{prefix}{sub_id}"), item)


def test_the_only_method_of_an_auto_renewing_subscription_cannot_be_deleted(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account().account_id
    a = methods.save_card(store, acc, card("pm_a")).payment_method_id  # the alternate
    b = methods.save_card(store, acc, card("pm_b")).payment_method_id
    _subscription(store, acc, "sub_1", payment_method_id=b)
    methods.set_preferences(store, acc, "balance", None)
    with pytest.raises(Conflict) as refused:
        methods.delete_method(store, acc, b)
    assert refused.value.field == "payment_method_id" and refused.value.extra["subscription_id"] == "sub_1"
    methods.set_preferences(store, acc, "balance", a)  # with an alternate the renewal has another method
    methods.delete_method(store, acc, b)

    # Falling back to the default: the default is its only method while there is no other alternate.
    _subscription(store, acc, "sub_2")
    methods.set_preferences(store, acc, a, None)
    with pytest.raises(Conflict):
        methods.delete_method(store, acc, a)
    # Suspended, or not auto-renewing: nothing to protect.
    store.update_record(RecordUpdate(keys.subscriptions_prefix(acc)[0], "SUB#sub_2", {"auto_renew": False}))
    methods.delete_method(store, acc, a)
    assert methods.preferences(store, acc).default == "balance"


# --------------------------------------------------------------------------- gift cards and pay on invoice


def test_a_gift_card_is_added_once_by_its_code_and_belongs_to_one_account(
    store: MemoryStore, open_account: Opener
) -> None:
    acc, other = open_account().account_id, open_account().account_id
    created = gift_cards.create(store, None, 5_000, "USD", OPERATOR.actor)
    assert created["remaining"] == created["amount"] == 5_000 and created["code"].startswith("GC-")
    pm, new = gift_cards.add_to_account(store, acc, "USD", created["code"])
    assert new and pm.type == "gift_card" and pm.as_dict()["last4"] == created["code"][-4:]
    assert gift_cards.add_to_account(store, acc, "USD", created["code"]) == (pm, False)
    with pytest.raises(InvalidInput) as taken:
        gift_cards.add_to_account(store, other, "USD", created["code"])
    assert taken.value.field == "code"
    with pytest.raises(InvalidInput):
        gift_cards.add_to_account(store, acc, "USD", "GC-NOPE-NOPE")
    with pytest.raises(Conflict):
        gift_cards.create(store, created["code"], 1, "USD", OPERATOR.actor)
    euro = gift_cards.create(store, None, 5_000, "EUR", OPERATOR.actor)
    with pytest.raises(InvalidInput, match="EUR"):
        gift_cards.add_to_account(store, acc, "USD", euro["code"])


def test_an_order_paid_by_gift_card_takes_its_value_in_the_orders_transaction_and_a_cancel_gives_it_back(
    store: MemoryStore, open_account: Opener, fake: FakeProvider
) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=0)
    code = gift_cards.create(store, "GC-TEST-0001", PRICE * 2 + 500, "USD", OPERATOR.actor)["code"]
    pm = gift_cards.add_to_account(store, acc, "USD", code)[0].payment_method_id
    methods.set_preferences(store, acc, pm, None)

    paid = pay(store, acc, "o-1", fake)
    assert paid["payment"]["method"] == "gift_card"
    assert paid["payment"]["gift_card"] == {"payment_method_id": pm, "last4": "0001", "remaining": PRICE + 500}
    assert "code" not in paid["payment"]["gift_card"], "the code is never handed out"
    assert attempts_of(paid["payment"]) == [
        ("balance", "balance", "insufficient"),
        ("gift_card", pm, "paid"),
    ]
    assert gift_cards.get(store, code)["remaining"] == PRICE + 500  # type: ignore[index]
    [entry] = [e for e in entries_of(store, acc) if e["type"] == "order_gift_card"]
    assert (entry["amount"], balance_of(store, acc)) == (0, 0), "record only: the balance does not move"
    assert fake.charge_calls == []

    pay(store, acc, "o-2", fake)
    assert gift_cards.get(store, code)["remaining"] == 500  # type: ignore[index]
    with pytest.raises(InsufficientFunds) as short:
        pay(store, acc, "o-3", fake)
    assert [(a["method"], a["outcome"]) for a in short.value.extra["attempts"]] == [
        ("balance", "insufficient"),
        ("gift_card", "insufficient"),
    ]
    assert gift_cards.get(store, code)["remaining"] == 500, "never below zero"  # type: ignore[index]

    orders.cancel_order(store, CancelOrder(acc, "o-1", "c-1", OPERATOR.actor), providers=lambda _: fake)
    assert gift_cards.get(store, code)["remaining"] == PRICE + 500  # type: ignore[index]
    assert balance_of(store, acc) == 0


def test_the_alternate_card_pays_when_the_default_declines_and_every_attempt_is_recorded(
    store: MemoryStore, open_account: Opener, fake: FakeProvider
) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=0)
    default = methods.save_card(store, acc, card("pm_card_chargeDeclined")).payment_method_id
    alternate = methods.save_card(store, acc, card("pm_card_visa")).payment_method_id
    methods.set_preferences(store, acc, default, alternate)

    paid = pay(store, acc, "o-1", fake)
    assert paid["payment"]["card"]["payment_method_id"] == alternate
    assert paid["payment"]["attempts"] == [
        {"method": "balance", "payment_method_id": "balance", "outcome": "insufficient", "decline_code": None},
        {"method": "card", "payment_method_id": default, "outcome": "declined", "decline_code": "card_declined"},
        {"method": "card", "payment_method_id": alternate, "outcome": "paid", "decline_code": None},
    ]
    assert [c["token"] for c in fake.charge_calls] == ["pm_card_chargeDeclined", "pm_card_visa"]
    assert len({c["key"] for c in fake.charge_calls}) == 2, "each card under its own idempotency key"
    assert len(fake.money_taken) == 1
    [event] = events_of(store, acc, "order.paid")
    assert event["payload"]["attempts"] == paid["payment"]["attempts"]
    assert orders.get_order(store, acc, "o-1")["payment"]["attempts"] == paid["payment"]["attempts"]


def test_an_expired_card_is_not_charged_and_the_alternate_is_tried(
    store: MemoryStore, open_account: Opener, fake: FakeProvider
) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=0)
    expired = methods.save_card(store, acc, card("pm_old", (1, 2020))).payment_method_id
    methods.set_preferences(store, acc, expired, None)
    with pytest.raises(InsufficientFunds) as declined:
        pay(store, acc, "o-1", fake)
    assert declined.value.extra["attempts"][-1] == {
        "method": "card",
        "payment_method_id": expired,
        "outcome": "declined",
        "decline_code": "expired_card",
    }
    assert fake.charge_calls == []
    [event] = events_of(store, acc, "order.declined")
    assert event["payload"]["attempts"] == declined.value.extra["attempts"]


def test_a_callers_list_is_tried_exactly_with_pay_on_invoice_waiting_for_the_transfer(
    store: MemoryStore, open_account: Opener, fake: FakeProvider
) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=0, credit_limit=50_000, bill_to_balance=False)
    invoice, created = methods.add_invoice(store, acc)
    assert created and invoice.payment_method_id == "invoice"
    assert methods.add_invoice(store, acc)[1] is False, "one per account"
    cmd = order("r-1").command(acc, "schedule:renewals")
    renewal = replace(cmd, methods=("invoice", "pm_gone", "balance", "credit"))
    paid = orders.pay_order(store, renewal, providers=lambda _: fake).body
    assert attempts_of(paid["payment"]) == [
        ("invoice", "invoice", "needs_transfer"),
        (None, "pm_gone", "unavailable"),
        ("balance", "balance", "insufficient"),  # the caller named it: tried although bill-to-balance is off
        ("credit", None, "paid"),
    ]
    with pytest.raises(InsufficientFunds) as only_invoice:
        orders.pay_order(store, replace(cmd, order_id="r-2", methods=("invoice",)), providers=lambda _: fake)
    assert [a["outcome"] for a in only_invoice.value.extra["attempts"]] == ["needs_transfer"]


# --------------------------------------------------------------------------- the sandbox's decline control


def test_a_registered_sandbox_card_declines_once_told_to(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "sandbox-cards.json")
    provider = sandbox.SandboxProvider(webhook_secret="x")
    visa = card("pm_card_visa", provider="sandbox")

    def charge(key: str) -> tuple[str, str | None]:
        c = provider.charge_saved_card(
            amount=Money(100, "USD"), card=visa, account_id="acc_1", reference="o", idempotency_key=key
        )
        return c.status, c.decline_code

    monkeypatch.setenv(sandbox.CARDS_FILE_ENV, path)
    assert charge("k1") == ("succeeded", None)
    sandbox.set_declining(path, "pm_card_visa", "expired_card")
    assert charge("k2") == ("declined", "expired_card")
    sandbox.set_declining(path, "pm_card_visa", None)
    assert charge("k3") == ("succeeded", None)
    monkeypatch.delenv(sandbox.CARDS_FILE_ENV)
    sandbox.set_declining(path, "pm_card_visa", "card_declined")
    assert charge("k4") == ("succeeded", None), "without the file configured (AWS, tests) nothing is overridden"
