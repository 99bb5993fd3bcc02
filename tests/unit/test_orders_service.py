"""Orders service over the in-memory store: pricing, replays, declines, settings races, cancel, metrics."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _order_support import (
    PRICE,
    PRODUCT,
    FakeProvider,
    add_product,
    balance_of,
    entries_of,
    events_of,
    order,
    set_up,
)
from _support import OPERATOR, account_request, customer_of

from account_credit.accounts import service as accounts_svc
from account_credit.kernel.domain import Account
from account_credit.kernel.errors import (
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
)
from account_credit.kernel.money import Money
from account_credit.orders import records
from account_credit.orders import service as orders
from account_credit.orders.config import order_settings
from account_credit.orders.schemas import OrderCancel, OrderCreate
from account_credit.platform.store.memory import MemoryStore

Opener = Callable[..., Account]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    order_settings.cache_clear()
    yield
    order_settings.cache_clear()


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


def pay(store: MemoryStore, acc: str, req: OrderCreate, fake: FakeProvider | None = None) -> Any:
    provider = fake or FakeProvider()
    return orders.pay_order(store, req.command(acc, customer_of(acc).actor), providers=lambda _name: provider)


def cancel(store: MemoryStore, acc: str, order_id: str, key: str, fake: FakeProvider | None = None) -> Any:
    provider = fake or FakeProvider()
    command = OrderCancel(reason="ordered by mistake").command(acc, order_id, key, customer_of(acc).actor)
    return orders.cancel_order(store, command, providers=lambda _: provider)


# --------------------------------------------------------------------------- pricing


def test_lines_are_priced_from_the_catalog_and_frozen_on_the_order(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    add_product(store, "codesign-2y", {"USD": 35_000, "EUR": 32_000}, name="Code Signing")
    acc = set_up(store, open_account(), balance=200_000)
    req = OrderCreate(
        order_id="po-7",
        channel="portal",
        lines=[{"product_code": PRODUCT, "quantity": 3}, {"product_code": "codesign-2y", "quantity": 1}],
    )
    body = pay(store, acc, req).body
    assert [(ln["product_code"], ln["unit_price"], ln["amount"]) for ln in body["lines"]] == [
        (PRODUCT, PRICE, 3 * PRICE),
        ("codesign-2y", 35_000, 35_000),
    ]
    assert body["total"] == 3 * PRICE + 35_000 == body["payment"]["amount"]
    add_product(store, prices={"USD": 99_999})  # a later price change
    again = orders.get_order(store, acc, "po-7")
    assert again["lines"][0]["unit_price"] == PRICE
    assert again == body


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"product_code": "no-such-thing", "quantity": 1}, "no product"),
        ({"product_code": "eur-only", "quantity": 1}, "no price in USD"),
        ({"product_code": "retired", "quantity": 1}, "no longer sold"),
    ],
)
def test_a_line_that_cannot_be_priced_is_422_naming_the_line(
    store: MemoryStore, open_account: Opener, line: dict, message: str
) -> None:
    add_product(store)
    add_product(store, "eur-only", {"EUR": 100})
    add_product(store, "retired", active=False)
    acc = set_up(store, open_account(), balance=100_000)
    req = OrderCreate(order_id="bad", channel="api", lines=[{"product_code": PRODUCT, "quantity": 1}, line])
    with pytest.raises(InvalidInput) as info:
        pay(store, acc, req)
    assert info.value.field == "lines.1.product_code"
    assert message in info.value.detail
    assert balance_of(store, acc) == 100_000


def test_an_account_is_priced_in_its_own_currency(store: MemoryStore, open_account: Opener) -> None:
    add_product(store, prices={"USD": PRICE, "JPY": 1_500})
    acc = set_up(store, open_account("JPY"), balance=10_000)
    body = pay(store, acc, order("jp-1", quantity=2)).body
    assert (body["currency"], body["total"]) == ("JPY", 3_000)
    assert balance_of(store, acc) == 7_000


# --------------------------------------------------------------------------- idempotency


def test_the_order_id_replays_the_first_answer_and_debits_once(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=15_000)
    first = pay(store, acc, order("o-1"))
    again = pay(store, acc, order("o-1"))  # would be declined if it were paid again
    assert (first.replayed, again.replayed) == (False, True)
    assert again.body == first.body and again.replayed and not first.replayed
    assert balance_of(store, acc) == 15_000 - PRICE
    assert len(events_of(store, acc, "order.paid")) == 1


def test_the_same_order_id_with_other_lines_is_refused(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=50_000)
    pay(store, acc, order("o-1"))
    for other in (order("o-1", quantity=2), order("o-1", channel="api"), order("o-1", may_use_credit=True)):
        with pytest.raises(IdempotencyKeyReused):
            pay(store, acc, other)
    assert balance_of(store, acc) == 50_000 - PRICE


def test_a_replay_survives_catalog_changes(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=50_000)
    first = pay(store, acc, order("o-1"))
    add_product(store, active=False)
    assert pay(store, acc, order("o-1")).body == first.body
    with pytest.raises(InvalidInput):
        pay(store, acc, order("o-2"))


def test_a_decline_is_not_stored_so_a_retry_after_a_top_up_pays(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=4_000)
    with pytest.raises(InsufficientFunds) as info:
        pay(store, acc, order("o-1"))
    assert info.value.extra["shortfall"] == PRICE - 4_000
    assert info.value.extra["tried"] == ["balance"]
    accounts_svc.adjust(
        store,
        accounts_svc.schemas.Adjustment(type="credit", amount=6_000, reason="top-up").command(
            acc, "top-up", OPERATOR.actor
        ),
    )
    paid = pay(store, acc, order("o-1"))
    assert not paid.replayed
    assert balance_of(store, acc) == 0


def test_card_replay_never_charges_again(store: MemoryStore, open_account: Opener, fake: FakeProvider) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=0, card_token="pm_card_visa")
    first = pay(store, acc, order("o-1"), fake)
    again = pay(store, acc, order("o-1"), fake)
    assert again.replayed and again.body == first.body
    assert len(fake.charge_calls) == 1, "the stored answer is found before the provider is called"
    assert first.body["payment"]["card"]["payment_id"] == "pi_fake_1"
    card_id = first.body["payment"]["card"]["payment_method_id"]
    assert fake.charge_calls[0]["key"] == f"{records.charge_key(acc, 'o-1')}-{card_id}", "one charge per order and card"
    assert fake.charge_calls[0]["amount"] == Money(PRICE, "USD")


def test_provider_outage_is_503_and_the_retry_charges_once(
    store: MemoryStore, open_account: Opener, fake: FakeProvider
) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=0, card_token="pm_card_visa")
    fake.fail = True
    with pytest.raises(ServiceUnavailable):
        pay(store, acc, order("o-1", may_use_credit=True), fake)
    assert store.get_item(f"ACCOUNT#{acc}", "ORDER#o-1") is None
    assert balance_of(store, acc) == 0, "an unknown card outcome never falls through to credit"
    fake.fail = False
    assert pay(store, acc, order("o-1", may_use_credit=True), fake).body["payment"]["method"] == "card"
    assert len(fake.money_taken) == 1


def test_a_card_charge_that_lost_the_race_is_given_back(store: MemoryStore, open_account: Opener) -> None:
    """Two deliveries of one order id: the other one paid by credit while this one charged the card."""
    add_product(store)
    acc = set_up(store, open_account(), balance=0, bill_to_balance=False, card_token="pm_card_visa")

    class RacingProvider(FakeProvider):
        def charge_saved_card(self, **kw: Any) -> Any:
            # Meanwhile the other delivery's card attempt failed and it paid into credit.
            pay(store, acc, order("o-1", may_use_credit=True), FakeProvider(approve=False))
            return super().charge_saved_card(**kw)

    racing = RacingProvider()
    result = pay(store, acc, order("o-1", may_use_credit=True), racing)
    assert result.replayed and result.body["payment"]["method"] == "credit"
    assert [c["payment_id"] for c in racing.refund_calls] == ["pi_fake_1"], "the duplicate charge is voided"
    assert balance_of(store, acc) == -PRICE


# --------------------------------------------------------------------------- settings read from a cache


class StaleStore(MemoryStore):
    """A warm container: known_account answers from a snapshot taken earlier (like the DynamoDB cache)."""

    def __init__(self) -> None:
        super().__init__()
        self.snapshots: dict[str, Account] = {}

    def known_account(self, account_id: str) -> Account | None:
        return self.snapshots.get(account_id) or self.get_account(account_id)


def test_bill_to_balance_turned_off_elsewhere_is_honoured(fake: FakeProvider) -> None:
    store = StaleStore()
    add_product(store)
    account = accounts_svc.open_account(store, account_request())
    acc = set_up(store, account, balance=50_000, card_token="pm_card_visa")
    store.snapshots[acc] = store.get_account(acc)  # cached with bill_to_balance on
    store.update_account(acc, {"settings": {"bill_to_balance": False, "cards_enabled": True}})
    body = pay(store, acc, order("o-1"), fake).body
    assert body["payment"]["method"] == "card", "the balance transaction saw the newer settings and started over"
    assert balance_of(store, acc) == 50_000


def test_cards_turned_off_elsewhere_are_never_charged(fake: FakeProvider) -> None:
    store = StaleStore()
    add_product(store)
    account = accounts_svc.open_account(store, account_request())
    acc = set_up(store, account, balance=0, bill_to_balance=False, card_token="pm_card_visa")
    store.snapshots[acc] = store.get_account(acc)  # cached with cards on
    store.update_account(acc, {"settings": {"bill_to_balance": False, "cards_enabled": False}})
    body = pay(store, acc, order("o-1", may_use_credit=True), fake).body
    assert body["payment"]["method"] == "credit"
    assert fake.charge_calls == []


# --------------------------------------------------------------------------- reading


def test_get_order_shows_how_it_was_paid(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=3_000)
    paid = pay(store, acc, order("emergency", may_use_credit=True)).body
    got = orders.get_order(store, acc, "emergency")
    assert got == paid
    assert got["payment"] | {"entry_id": None} == {
        "method": "credit",
        "amount": PRICE,
        "from_balance": 3_000,
        "from_credit": PRICE - 3_000,
        "entry_id": None,
        "card": None,
        "gift_card": None,
        "attempts": [
            {"method": "balance", "payment_method_id": "balance", "outcome": "insufficient", "decline_code": None},
            {"method": "credit", "payment_method_id": None, "outcome": "paid", "decline_code": None},
        ],
    }
    assert got["state"] == "paid" and got["cancellation"] is None


def test_a_missing_order_or_account_is_404(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=50_000)
    other = open_account().account_id
    pay(store, acc, order("o-1"))
    with pytest.raises(NotFound):
        orders.get_order(store, acc, "missing")
    with pytest.raises(NotFound):
        orders.pay_order(store, order("o-2").command(other + "-missing", "operator:op"))
    assert balance_of(store, acc) == 50_000 - PRICE


# --------------------------------------------------------------------------- cancelling


@pytest.mark.parametrize(("start", "credit"), [(25_000, False), (3_000, True)], ids=["balance", "credit"])
def test_cancel_gives_the_money_back_once(store: MemoryStore, open_account: Opener, start: int, credit: bool) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=start)
    paid = pay(store, acc, order("o-1", may_use_credit=credit)).body
    assert balance_of(store, acc) == start - PRICE
    done = cancel(store, acc, "o-1", "cancel-1")
    assert not done.replayed and done.body["state"] == "cancelled"
    assert balance_of(store, acc) == start
    entry = entries_of(store, acc)[-1]
    assert (entry["type"], entry["amount"], entry["balance_after"]) == ("order_cancellation", PRICE, start)
    assert entry["reference"]["cancels_entry"] == paid["payment"]["entry_id"]
    [event] = events_of(store, acc, "order.cancelled")
    assert (event["payload"]["amount"], event["payload"]["entry_id"]) == (PRICE, entry["entry_id"])

    again = cancel(store, acc, "o-1", "cancel-1")
    assert again.replayed and again.body == done.body
    with pytest.raises(orders.OrderNotCancellable):
        cancel(store, acc, "o-1", "cancel-2")
    assert balance_of(store, acc) == start
    got = orders.get_order(store, acc, "o-1")
    assert got == done.body
    assert got["cancellation"]["reason"] == "ordered by mistake"


def test_concurrent_cancels_with_different_keys_credit_once(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=PRICE)
    pay(store, acc, order("o-1"))
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        try:
            cancel(store, acc, "o-1", f"k-{i}")
            outcomes.append("ok")
        except orders.OrderNotCancellable:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 11
    assert balance_of(store, acc) == PRICE


def test_cancel_a_card_order_refunds_the_card(store: MemoryStore, open_account: Opener, fake: FakeProvider) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=500, card_token="pm_card_visa")
    pay(store, acc, order("o-1"), fake)
    done = cancel(store, acc, "o-1", "c-1", fake)
    assert done.body["cancellation"]["refund_id"] == "re_fake_1"
    assert fake.refund_calls == [
        {"payment_id": "pi_fake_1", "amount": Money(PRICE, "USD"), "key": records.refund_key(acc, "o-1")}
    ]
    assert balance_of(store, acc) == 500, "a card refund goes to the card, not the balance"
    entry = entries_of(store, acc)[-1]
    assert (entry["type"], entry["amount"]) == ("order_cancellation", 0)
    assert entry["reference"]["refund_id"] == "re_fake_1"
    with pytest.raises(orders.OrderNotCancellable):
        cancel(store, acc, "o-1", "c-2", fake)
    assert len(fake.refund_calls) == 1


def test_a_refused_refund_leaves_the_order_paid(store: MemoryStore, open_account: Opener, fake: FakeProvider) -> None:
    add_product(store)
    acc = set_up(store, open_account(), card_token="pm_card_visa")
    pay(store, acc, order("o-1"), fake)
    entries = entries_of(store, acc)
    fake.refund_ok = False
    with pytest.raises(orders.RefundFailed):
        cancel(store, acc, "o-1", "c-1", fake)
    assert orders.get_order(store, acc, "o-1")["state"] == "paid"
    assert entries_of(store, acc) == entries


def test_a_refund_outage_is_503_and_the_retry_refunds_once(
    store: MemoryStore, open_account: Opener, fake: FakeProvider
) -> None:
    add_product(store)
    acc = set_up(store, open_account(), card_token="pm_card_visa")
    pay(store, acc, order("o-1"), fake)

    class Flaky(FakeProvider):
        def refund(self, **kw: Any) -> Any:
            raise TimeoutError("no answer")

    with pytest.raises(ServiceUnavailable):
        cancel(store, acc, "o-1", "c-1", Flaky())
    assert orders.get_order(store, acc, "o-1")["state"] == "paid"
    assert cancel(store, acc, "o-1", "c-1", fake).body["state"] == "cancelled"
    assert len(fake.refunds) == 1


def test_a_reused_cancel_key_is_refused_before_any_refund(
    store: MemoryStore, open_account: Opener, fake: FakeProvider
) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=PRICE, card_token="pm_card_visa")
    pay(store, acc, order("by-balance"), fake)
    pay(store, acc, order("by-card"), fake)
    cancel(store, acc, "by-balance", "same-key", fake)
    with pytest.raises(IdempotencyKeyReused):
        cancel(store, acc, "by-card", "same-key", fake)
    assert fake.refund_calls == []


def test_cancel_of_a_missing_order_is_404(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=50_000)
    other = open_account().account_id
    pay(store, acc, order("o-1"))
    with pytest.raises(NotFound):
        cancel(store, acc, "nope", "k")
    with pytest.raises(NotFound):
        cancel(store, other, "o-1", "k")  # an order is looked up in its own account only


# --------------------------------------------------------------------------- metrics


def emf(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def test_metrics_count_paid_per_method_declines_and_debit_latency(
    store: MemoryStore, open_account: Opener, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_product(store)
    acc = set_up(store, open_account(), balance=PRICE, card_token="pm_card_visa")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")
    capsys.readouterr()
    pay(store, acc, order("b"))
    pay(store, acc, order("c"))
    pay(store, acc, order("b"))  # a replay is not a new paid order
    store.update_account(acc, {"settings": {"bill_to_balance": True, "cards_enabled": False}})
    with pytest.raises(InsufficientFunds):
        pay(store, acc, order("d"))
    blobs = emf(capsys.readouterr().out)
    paid = [(b.get("method"), b["OrdersPaid"]) for b in blobs if "OrdersPaid" in b]
    assert paid == [("balance", [1.0]), ("card", [1.0])]
    assert [b["OrdersDeclined"] for b in blobs if "OrdersDeclined" in b] == [[1.0]]
    latency = [b for b in blobs if "DebitLatencyMs" in b]
    assert [b["method"] for b in latency] == ["balance"]
    assert latency[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "DebitLatencyMs", "Unit": "Milliseconds"}]


def test_channel_configuration_decides_balance_only(
    store: MemoryStore, open_account: Opener, monkeypatch: pytest.MonkeyPatch, fake: FakeProvider
) -> None:
    monkeypatch.setenv("BALANCE_ONLY_CHANNELS", "Azure-Key-Vault, vendor-x")
    order_settings.cache_clear()
    add_product(store)
    acc = set_up(store, open_account(), balance=0, card_token="pm_card_visa")
    for channel in ("vendor-x", "azure-key-vault"):
        with pytest.raises(InsufficientFunds) as info:
            pay(store, acc, order(f"o-{channel}", channel=channel), fake)
        assert "accepts only the balance" in info.value.detail
    assert fake.charge_calls == []
    assert pay(store, acc, order("o-portal"), fake).body["payment"]["method"] == "card"
