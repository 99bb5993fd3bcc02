"""The payment decision: the pure rule, and the service held to it for every combination.

Settings (bill to balance, cards) x channel (portal, api, the balance-only azure-key-vault)
x card on file (none, approved, declined) x the order's credit opt-in x funds (balance
covers / only credit covers / already in credit / nothing covers) - each executed by the
real service over the in-memory store with a fake provider, and compared with ``decide``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
from _order_support import PRICE, FakeProvider, add_product, balance_of, entries_of, events_of, order, set_up
from _support import customer_of

from account_credit.kernel.domain import Account
from account_credit.kernel.errors import InsufficientFunds
from account_credit.orders import service as orders
from account_credit.orders.config import order_settings
from account_credit.orders.decision import (
    BALANCE,
    CREDIT,
    Option,
    Outcome,
    PaymentContext,
    PayMethod,
    attempts,
    covers,
    decide,
    split,
)
from account_credit.payment_methods import service as payment_methods
from account_credit.platform.store.memory import MemoryStore

B, CARD, GIFT, C, INV = PayMethod.BALANCE, PayMethod.CARD, PayMethod.GIFT_CARD, PayMethod.CREDIT, PayMethod.INVOICE
C1, C2, G1 = Option(CARD, "pm_1"), Option(CARD, "pm_2"), Option(GIFT, "pm_g")
INVOICE, GONE = Option(INV, "invoice"), Option(None, "pm_gone")


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    order_settings.cache_clear()
    yield
    order_settings.cache_clear()


# --------------------------------------------------------------------------- the pure rule


def ctx(
    bill: bool = True,
    cards: bool = True,
    channel_cards: bool = True,
    credit: bool = False,
    preferred: tuple[Option, ...] = (BALANCE, C1),
    given: tuple[Option, ...] | None = None,
) -> PaymentContext:
    return PaymentContext(
        bill_to_balance=bill,
        cards_enabled=cards,
        channel_accepts_cards=channel_cards,
        may_use_credit=credit,
        preferred=preferred,
        given=given,
    )


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (ctx(), (BALANCE, C1)),
        (ctx(credit=True), (BALANCE, C1, CREDIT)),
        (ctx(bill=False), (C1,)),
        (ctx(bill=False, credit=True), (C1, CREDIT)),
        (ctx(cards=False), (BALANCE,)),
        (ctx(channel_cards=False, credit=True), (BALANCE, CREDIT)),
        (ctx(preferred=(BALANCE,)), (BALANCE,)),
        (ctx(bill=False, cards=False), ()),
        (ctx(bill=False, cards=False, credit=True), (CREDIT,)),
        # default and alternate: cards and gift cards, in that order, each once
        (ctx(preferred=(C1, C2)), (BALANCE, C1, C2)),
        (ctx(preferred=(G1, C1), credit=True), (BALANCE, G1, C1, CREDIT)),
        (ctx(preferred=(C1, C1)), (BALANCE, C1)),
        # pay on invoice never pays an API order; a method that is gone is left out
        (ctx(preferred=(INVOICE, C2)), (BALANCE, C2)),
        (ctx(preferred=(GONE, C2)), (BALANCE, C2)),
        # the caller's list: exactly those, in order, whatever the settings
        (ctx(given=(C2, BALANCE, CREDIT)), (C2, BALANCE, CREDIT)),
        (ctx(bill=False, given=(BALANCE,)), (BALANCE,)),
        (ctx(given=(INVOICE, C1, C1)), (INVOICE, C1)),
        (ctx(given=()), ()),
    ],
)
def test_attempts_in_the_documented_order(context: PaymentContext, expected: tuple[Option, ...]) -> None:
    assert attempts(context) == expected


def test_covers_states_the_two_floors() -> None:
    assert covers(B, balance=100, credit_limit=50, total=100)
    assert not covers(B, balance=99, credit_limit=50, total=100)
    assert covers(C, balance=50, credit_limit=50, total=100)
    assert not covers(C, balance=49, credit_limit=50, total=100)
    assert covers(C, balance=-10, credit_limit=110, total=100)
    with pytest.raises(ValueError):
        covers(CARD, balance=0, credit_limit=0, total=1)


def test_decide_prefers_balance_then_the_default_then_the_alternate_then_credit() -> None:
    two = ctx(credit=True, preferred=(C1, C2))
    assert decide(two, balance=100, credit_limit=0, total=100, accepts={"pm_1": True})[0] == BALANCE
    assert decide(two, balance=99, credit_limit=999, total=100, accepts={"pm_1": True})[0] == C1
    paid, tried = decide(two, balance=99, credit_limit=999, total=100, accepts={"pm_2": True})
    assert paid == C2, "the alternate pays when the default declines"
    assert [outcome for _, outcome in tried] == [Outcome.INSUFFICIENT, Outcome.DECLINED, Outcome.PAID]
    assert decide(two, balance=99, credit_limit=999, total=100, accepts={})[0] == CREDIT
    assert decide(ctx(credit=False), balance=99, credit_limit=999, total=100, accepts={})[0] is None
    # a balance-only channel never pays by card, even an approved one
    assert decide(ctx(channel_cards=False), balance=0, credit_limit=0, total=1, accepts={"pm_1": True})[0] is None
    # a gift card that does not cover the total is insufficient, not declined
    _, tried = decide(ctx(preferred=(G1,)), balance=0, credit_limit=0, total=1, accepts={})
    assert tried == ((BALANCE, Outcome.INSUFFICIENT), (G1, Outcome.INSUFFICIENT))


def test_decide_on_a_callers_list_records_every_outcome() -> None:
    given = ctx(cards=False, given=(GONE, INVOICE, C1, BALANCE))
    paid, tried = decide(given, balance=100, credit_limit=0, total=100, accepts={"pm_1": True})
    assert paid == BALANCE
    assert tried == (
        (GONE, Outcome.UNAVAILABLE),
        (INVOICE, Outcome.NEEDS_TRANSFER),
        (C1, Outcome.UNAVAILABLE),  # cards are off: the card is not charged
        (BALANCE, Outcome.PAID),
    )


@pytest.mark.parametrize(
    ("before", "total", "expected"),
    [(500, 100, (100, 0)), (30, 100, (30, 70)), (0, 100, (0, 100)), (-50, 100, (0, 100)), (100, 100, (100, 0))],
)
def test_split_between_balance_and_credit(before: int, total: int, expected: tuple[int, int]) -> None:
    assert split(before, total) == expected


# --------------------------------------------------------------------------- the service, every combination

FUNDS = {
    "balance-covers": (12_000, 20_000),
    "only-credit-covers": (3_000, 20_000),
    "already-in-credit": (-2_000, 20_000),
    "nothing-covers": (3_000, 5_000),
}
CARDS = {"no-card": None, "card-approves": "pm_card_visa", "card-declines": "pm_card_declined"}
CHANNELS = ["portal", "api", "azure-key-vault"]

MATRIX = list(itertools.product([True, False], [True, False], CHANNELS, CARDS, [True, False], FUNDS))


def _id(case: tuple) -> str:
    bill, cards, channel, card, credit, funds = case
    return "-".join(
        [
            "bill" if bill else "nobill",
            "cards" if cards else "nocards",
            channel,
            card,
            "credit" if credit else "nocredit",
            funds,
        ]
    )


@pytest.mark.parametrize(("bill", "cards", "channel", "card", "credit", "funds"), MATRIX, ids=map(_id, MATRIX))
def test_payment_decision_for_every_combination(
    store: MemoryStore,
    open_account: Callable[..., Account],
    bill: bool,
    cards: bool,
    channel: str,
    card: str,
    credit: bool,
    funds: str,
) -> None:
    balance, limit = FUNDS[funds]
    token = CARDS[card]
    add_product(store)
    acc = set_up(
        store,
        open_account(),
        balance=balance,
        credit_limit=limit,
        bill_to_balance=bill,
        cards_enabled=cards,
        card_token=token,
    )
    fake = FakeProvider()
    card_option = ()
    if token is not None:
        [saved] = payment_methods.list_methods(store, acc)
        assert payment_methods.preferences(store, acc).alternate == saved.payment_method_id, "the first card"
        card_option = (Option(CARD, saved.payment_method_id),)
    context = PaymentContext(
        bill_to_balance=bill,
        cards_enabled=cards,
        channel_accepts_cards=channel != "azure-key-vault",
        may_use_credit=credit,
        preferred=(BALANCE, *card_option),
    )
    accepts = {o.payment_method_id or "": card == "card-approves" for o in card_option}
    expected, tried = decide(context, balance=balance, credit_limit=limit, total=PRICE, accepts=accepts)
    card_tried = any(o.method is CARD for o, _ in tried)
    recorded = [
        {"method": str(o.method), "payment_method_id": o.payment_method_id, "outcome": str(out)} for o, out in tried
    ]
    entries_before = entries_of(store, acc)
    request = order("o-1", channel=channel, may_use_credit=credit)

    if expected is None:
        with pytest.raises(InsufficientFunds) as info:
            orders.pay_order(store, request.command(acc, customer_of(acc).actor), providers=lambda _: fake)
        if credit:
            shortfall = PRICE - (balance + limit)
        elif bill:
            shortfall = PRICE - balance
        else:
            shortfall = PRICE
        assert info.value.extra["shortfall"] == shortfall
        assert [{k: a[k] for k in recorded[0]} for a in info.value.extra["attempts"]] == recorded
        assert balance_of(store, acc) == balance, "a decline debits nothing"
        assert entries_of(store, acc) == entries_before
        assert store.get_item(f"ACCOUNT#{acc}", "ORDER#o-1") is None, "a decline is not stored"
        [declined] = events_of(store, acc, "order.declined")
        assert declined["payload"]["shortfall"] == shortfall
        assert declined["payload"]["attempts"] == info.value.extra["attempts"]
        assert events_of(store, acc, "order.paid") == []
    else:
        result = orders.pay_order(store, request.command(acc, customer_of(acc).actor), providers=lambda _: fake)
        assert not result.replayed
        payment = result.body["payment"]
        assert payment["method"] == expected.method
        assert [{k: a[k] for k in recorded[0]} for a in payment["attempts"]] == recorded
        moved = 0 if expected.method is CARD else -PRICE
        assert balance_of(store, acc) == balance + moved
        [entry] = entries_of(store, acc)[len(entries_before) :]
        assert entry["type"] == {B: "order_balance", CARD: "order_card", C: "order_credit"}[expected.method]
        assert (entry["amount"], entry["balance_after"]) == (moved, balance + moved)
        paid_from = {B: (PRICE, 0), CARD: (0, 0), C: split(balance, PRICE)}[expected.method]
        assert (payment["from_balance"], payment["from_credit"]) == paid_from
        [paid] = events_of(store, acc, "order.paid")
        assert (paid["payload"]["from_balance"], paid["payload"]["from_credit"]) == paid_from
        assert paid["payload"]["attempts"] == payment["attempts"]
        debited = events_of(store, acc, "balance.debited")
        assert len(debited) == (0 if expected.method is CARD else 1)
        assert events_of(store, acc, "order.declined") == []
        stored = store.get_item(f"ACCOUNT#{acc}", "ORDER#o-1")
        assert stored is not None and stored["state"] == "paid"

    assert len(fake.charge_calls) == (1 if card_tried else 0)
    if channel == "azure-key-vault" or not cards:
        assert fake.charge_calls == [], "a balance-only channel or cards off never charges a card"
    assert len(fake.money_taken) == (1 if expected is not None and expected.method is CARD else 0)
