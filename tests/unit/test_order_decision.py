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
from account_credit.orders.decision import PaymentContext, PayMethod, attempts, covers, decide, split
from account_credit.platform.store.memory import MemoryStore

B, CARD, C = PayMethod.BALANCE, PayMethod.CARD, PayMethod.CREDIT


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    order_settings.cache_clear()
    yield
    order_settings.cache_clear()


# --------------------------------------------------------------------------- the pure rule


def ctx(bill: bool = True, cards: bool = True, channel_cards: bool = True, card: bool = True, credit: bool = False):
    return PaymentContext(
        bill_to_balance=bill,
        cards_enabled=cards,
        channel_accepts_cards=channel_cards,
        has_card=card,
        may_use_credit=credit,
    )


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (ctx(), (B, CARD)),
        (ctx(credit=True), (B, CARD, C)),
        (ctx(bill=False), (CARD,)),
        (ctx(bill=False, credit=True), (CARD, C)),
        (ctx(cards=False), (B,)),
        (ctx(channel_cards=False, credit=True), (B, C)),
        (ctx(card=False), (B,)),
        (ctx(bill=False, cards=False), ()),
        (ctx(bill=False, cards=False, credit=True), (C,)),
    ],
)
def test_attempts_in_the_documented_order(context: PaymentContext, expected: tuple[PayMethod, ...]) -> None:
    assert attempts(context) == expected


def test_covers_states_the_two_floors() -> None:
    assert covers(B, balance=100, credit_limit=50, total=100)
    assert not covers(B, balance=99, credit_limit=50, total=100)
    assert covers(C, balance=50, credit_limit=50, total=100)
    assert not covers(C, balance=49, credit_limit=50, total=100)
    assert covers(C, balance=-10, credit_limit=110, total=100)
    with pytest.raises(ValueError):
        covers(CARD, balance=0, credit_limit=0, total=1)


def test_decide_prefers_balance_then_card_then_credit() -> None:
    assert decide(ctx(credit=True), balance=100, credit_limit=0, total=100, card_approved=True) is B
    assert decide(ctx(credit=True), balance=99, credit_limit=999, total=100, card_approved=True) is CARD
    assert decide(ctx(credit=True), balance=99, credit_limit=999, total=100, card_approved=False) is C
    assert decide(ctx(credit=False), balance=99, credit_limit=999, total=100, card_approved=False) is None
    # a balance-only channel never pays by card, even an approved one
    assert decide(ctx(channel_cards=False), balance=0, credit_limit=0, total=1, card_approved=True) is None


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
    context = PaymentContext(
        bill_to_balance=bill,
        cards_enabled=cards,
        channel_accepts_cards=channel != "azure-key-vault",
        has_card=token is not None,
        may_use_credit=credit,
    )
    expected = decide(context, balance=balance, credit_limit=limit, total=PRICE, card_approved=card == "card-approves")
    card_tried = CARD in attempts(context) and not (bill and balance >= PRICE)
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
        assert balance_of(store, acc) == balance, "a decline debits nothing"
        assert entries_of(store, acc) == entries_before
        assert store.get_item(f"ACCOUNT#{acc}", "ORDER#o-1") is None, "a decline is not stored"
        [declined] = events_of(store, acc, "order.declined")
        assert declined["payload"]["shortfall"] == shortfall
        assert events_of(store, acc, "order.paid") == []
    else:
        result = orders.pay_order(store, request.command(acc, customer_of(acc).actor), providers=lambda _: fake)
        assert not result.replayed
        payment = result.body["payment"]
        assert payment["method"] == expected
        moved = 0 if expected is CARD else -PRICE
        assert balance_of(store, acc) == balance + moved
        [entry] = entries_of(store, acc)[len(entries_before) :]
        assert entry["type"] == {B: "order_balance", CARD: "order_card", C: "order_credit"}[expected]
        assert (entry["amount"], entry["balance_after"]) == (moved, balance + moved)
        paid_from = {B: (PRICE, 0), CARD: (0, 0), C: split(balance, PRICE)}[expected]
        assert (payment["from_balance"], payment["from_credit"]) == paid_from
        [paid] = events_of(store, acc, "order.paid")
        assert (paid["payload"]["from_balance"], paid["payload"]["from_credit"]) == paid_from
        debited = events_of(store, acc, "balance.debited")
        assert len(debited) == (0 if expected is CARD else 1)
        assert events_of(store, acc, "order.declined") == []
        stored = store.get_item(f"ACCOUNT#{acc}", "ORDER#o-1")
        assert stored is not None and stored["state"] == "paid"

    assert len(fake.charge_calls) == (1 if card_tried else 0)
    if channel == "azure-key-vault" or not cards:
        assert fake.charge_calls == [], "a balance-only channel or cards off never charges a card"
    assert len(fake.money_taken) == (1 if expected is CARD else 0)
