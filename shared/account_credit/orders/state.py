"""An order as the domain sees it, and the states it may move through. Pure: no store, no HTTP.

    paid --cancel--> cancelled
    paid --refund some--> partly_refunded --refund some--> partly_refunded
    paid | partly_refunded --refund the rest--> refunded

A paid order is final for its money until it is refunded, in part (by certificates per line) or whole, the money
going back the way it came (``orders/refunds.py``, ``orders/refund.py``). Cancel is "refund everything": on an order
nothing was refunded of it moves paid -> cancelled; on a partly refunded one it refunds the rest (-> refunded).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from account_credit.kernel.errors import Conflict
from account_credit.kernel.money import Money


class OrderState(StrEnum):
    PAID = "paid"
    CANCELLED = "cancelled"
    PARTLY_REFUNDED = "partly_refunded"
    REFUNDED = "refunded"


# Which state each action leads to, from which states.
TRANSITIONS: dict[str, dict[OrderState, OrderState]] = {
    "cancel": {OrderState.PAID: OrderState.CANCELLED},
    "refund_some": {
        OrderState.PAID: OrderState.PARTLY_REFUNDED,
        OrderState.PARTLY_REFUNDED: OrderState.PARTLY_REFUNDED,
    },
    "refund_rest": {OrderState.PAID: OrderState.REFUNDED, OrderState.PARTLY_REFUNDED: OrderState.REFUNDED},
}
REFUNDABLE = frozenset({OrderState.PAID, OrderState.PARTLY_REFUNDED})


class OrderNotCancellable(Conflict):
    slug = "order-not-cancellable"
    title = "The order cannot be cancelled"


class OrderNotRefundable(Conflict):
    slug = "order-not-refundable"
    title = "The order cannot be refunded"


class PaidBy(StrEnum):
    BALANCE = "balance"
    CARD = "card"
    GIFT_CARD = "gift_card"
    CREDIT = "credit"


@dataclass(frozen=True)
class CardCharge:
    provider: str
    payment_id: str | None
    last4: str


@dataclass(frozen=True)
class Payment:
    method: PaidBy
    amount: int
    entry_id: str
    card: CardCharge | None = None
    gift_card_code: str | None = None  # the gift card an order paid by gift card took its value from


@dataclass(frozen=True)
class Order:
    order_id: str
    account_id: str
    channel: str
    state: OrderState
    total: Money
    payment: Payment

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Order:
        pay = item["payment"]
        card = pay.get("card")
        return cls(
            order_id=item["order_id"],
            account_id=item["account_id"],
            channel=item["channel"],
            state=OrderState(item["state"]),
            total=Money(int(item["total"]), item["currency"]),
            payment=Payment(
                method=PaidBy(pay["method"]),
                amount=int(pay["amount"]),
                entry_id=pay["entry_id"],
                card=CardCharge(card["provider"], card.get("payment_id"), card["last4"]) if card else None,
                gift_card_code=(pay.get("gift_card") or {}).get("code"),
            ),
        )

    def cancelled(self) -> Order:
        """The order after a cancel; OrderNotCancellable from any state but paid."""
        to = TRANSITIONS["cancel"].get(self.state)
        if to is None:
            raise OrderNotCancellable(f"order {self.order_id} is {self.state}; only a paid order can be cancelled")
        return Order(self.order_id, self.account_id, self.channel, to, self.total, self.payment)

    def after_refund(self, everything_left: bool) -> OrderState:
        """The state after a refund (of the rest when ``everything_left``); OrderNotRefundable when nothing of the
        order can be refunded (cancelled or refunded in full)."""
        to = TRANSITIONS["refund_rest" if everything_left else "refund_some"].get(self.state)
        if to is None:
            raise OrderNotRefundable(f"order {self.order_id} is {self.state}: nothing of it is left to refund")
        return to
