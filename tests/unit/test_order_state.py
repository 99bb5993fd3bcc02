"""The order's domain type and state machine: pure, no store."""

from __future__ import annotations

from typing import Any

import pytest

from account_credit.kernel.money import Money
from account_credit.orders.state import TRANSITIONS, Order, OrderNotCancellable, OrderNotRefundable, OrderState, PaidBy


def stored(state: str = "paid", method: str = "balance", **payment: Any) -> dict[str, Any]:
    return {
        "order_id": "PO-1",
        "account_id": "acc_1",
        "channel": "api",
        "state": state,
        "currency": "EUR",
        "total": 19_900,
        "lines": [],
        "payment": {"method": method, "amount": 19_900, "entry_id": "ent_1", "card": None, **payment},
    }


def test_an_order_is_read_from_its_item() -> None:
    order = Order.from_item(stored())
    assert order.state is OrderState.PAID
    assert order.total == Money(19_900, "EUR")
    assert order.payment.method is PaidBy.BALANCE
    assert order.payment.card is None


def test_a_card_order_keeps_what_a_refund_needs() -> None:
    card = {"provider": "sandbox", "payment_id": "pi_1", "last4": "4242", "brand": "visa", "payment_method_id": "pm"}
    order = Order.from_item(stored(method="card", card=card))
    assert order.payment.method is PaidBy.CARD
    assert order.payment.card is not None
    assert (order.payment.card.provider, order.payment.card.payment_id, order.payment.card.last4) == (
        "sandbox",
        "pi_1",
        "4242",
    )


def test_a_paid_order_cancels_once() -> None:
    cancelled = Order.from_item(stored()).cancelled()
    assert cancelled.state is OrderState.CANCELLED
    with pytest.raises(OrderNotCancellable, match="only a paid order"):
        cancelled.cancelled()


@pytest.mark.parametrize("state", [s for s in OrderState if s not in TRANSITIONS["cancel"]])
def test_no_state_but_paid_can_be_cancelled(state: OrderState) -> None:
    with pytest.raises(OrderNotCancellable):
        Order.from_item(stored(state=str(state))).cancelled()


def test_every_transition_leads_to_a_known_state() -> None:
    for action, moves in TRANSITIONS.items():
        for source, target in moves.items():
            assert isinstance(source, OrderState) and isinstance(target, OrderState)
            # only refunding some of a partly refunded order stays where it is (more certificates refunded)
            assert source is not target or (action, source) == ("refund_some", OrderState.PARTLY_REFUNDED)


@pytest.mark.parametrize(
    ("state", "everything_left", "after"),
    [
        (OrderState.PAID, False, OrderState.PARTLY_REFUNDED),
        (OrderState.PAID, True, OrderState.REFUNDED),
        (OrderState.PARTLY_REFUNDED, False, OrderState.PARTLY_REFUNDED),
        (OrderState.PARTLY_REFUNDED, True, OrderState.REFUNDED),
    ],
)
def test_a_refund_moves_a_paid_or_partly_refunded_order(
    state: OrderState, everything_left: bool, after: OrderState
) -> None:
    assert Order.from_item(stored(state=str(state))).after_refund(everything_left) is after


@pytest.mark.parametrize("state", [OrderState.CANCELLED, OrderState.REFUNDED])
@pytest.mark.parametrize("everything_left", [False, True])
def test_nothing_of_a_cancelled_or_refunded_order_can_be_refunded(state: OrderState, everything_left: bool) -> None:
    with pytest.raises(OrderNotRefundable, match="nothing of it is left"):
        Order.from_item(stored(state=str(state))).after_refund(everything_left)
