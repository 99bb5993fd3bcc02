"""Cancelling a paid order: all of it goes back the way it came, once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from account_credit.kernel.auth import Role
from account_credit.kernel.domain import EntryType, Movement
from account_credit.kernel.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    ServiceUnavailable,
)
from account_credit.kernel.ids import iso, utc_now
from account_credit.kernel.money import Money
from account_credit.orders.commands import CancelOrder
from account_credit.orders.records import CANCEL_SCOPE, Providers, refund_key, view_of
from account_credit.orders.refunds import may_refund
from account_credit.orders.state import Order, OrderNotCancellable, OrderState, PaidBy
from account_credit.payment_methods import gift_cards
from account_credit.platform import idempotency
from account_credit.platform.commit import commit
from account_credit.platform.events import DomainEvent, EventType
from account_credit.platform.payments import provider as default_provider
from account_credit.platform.store import (
    CommitResult,
    Posting,
    RecordUpdate,
    Store,
    keys,
)
from account_credit.platform.store.base import Answer, stored_response

logger = Logger(child=True)


class RefundWindowClosed(Forbidden):
    slug = "refund-window-closed"
    title = "The order is past the refund window"


class RefundInProgress(Conflict):
    slug = "refund-in-progress"
    title = "Another refund of the order is being made"

    def __init__(self, detail: str, held: dict[str, Any] | None = None, stale: bool = False) -> None:
        super().__init__(detail)
        self.held = held or {}
        self.stale = stale


# A claim older than this has no live request behind it (the orders function times out long before): a later
# refund completes the claimed one first (the claim carries its request), then makes its own.
STALE_CLAIM = timedelta(minutes=5)


def placed_at(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(item["created_at"]).replace("Z", "+00:00"))


def take_refund_number(
    store: Store,
    account_id: str,
    order_id: str,
    number: int,
    key: str,
    amount: int,
    request: dict[str, Any] | None = None,
) -> None:
    """Claim refund ``number`` of a card order for the request with Idempotency-Key ``key`` before the provider is
    asked; RefundInProgress when another request holds it (the same request, retried, holds it already), marked
    ``stale`` when that claim is older than ``STALE_CLAIM``. ``request``: what a refund asked for, kept on the claim
    so that a later refund can complete it."""
    at = keys.order_refund_claim(account_id, order_id, number)
    mine = {"kind": "order_refund_claim", "idempotency_key": key, "amount": amount, "created_at": iso(utc_now())}
    if store.put_if_absent(at, {**mine, **({"request": request} if request else {})}):
        return
    held = store.get_item(*at) or {}
    if held.get("idempotency_key") != key or int(held.get("amount", -1)) != amount:
        since = datetime.fromisoformat(str(held.get("created_at") or iso(utc_now())).replace("Z", "+00:00"))
        raise RefundInProgress(
            f"refund {number} of order {order_id} is being made by another request; retry when it is done "
            "(GET the order)",
            held,
            stale=utc_now() - since > STALE_CLAIM,
        )


class RefundFailed(DomainError):
    """The provider refused to refund a card payment; the order stays paid."""

    status = 502
    slug = "refund-failed"
    title = "The card refund failed"


def cancel_order(
    store: Store, cmd: CancelOrder, *, now: datetime | None = None, providers: Providers = default_provider
) -> CommitResult:
    """Cancel a paid order before fulfilment: the full amount goes back the way it came, once.

    Cancel is "refund everything", under the refunds' rules: owners and partners within the refund window
    (``orders.refunds.may_refund``), operators at any age. A partly refunded order gets the rest refunded instead
    (``orders.service.cancel_order`` sends it to ``orders.refund``: the same Idempotency-Key, state -> refunded).

    Balance and credit orders: an ``order_cancellation`` entry credits the total back.
    Card orders: the provider refunds the charge (idempotent per order), and a record-only
    ``order_cancellation`` entry documents it. Either way the order moves paid -> cancelled
    in the same transaction, conditioned on ``state = paid``: a second cancel (any key)
    cannot give the money back twice.
    """
    account_id, order_id = cmd.account_id, cmd.order_id
    claim = idempotency.claim(account_id, CANCEL_SCOPE, cmd.idempotency_key, cmd.fingerprint())
    pk, sk = keys.order(account_id, order_id)
    item = store.get_item(pk, sk)
    if item is None:
        raise NotFound(f"order {order_id} not found")
    order = Order.from_item(item)
    if order.state is not OrderState.PAID:
        old = store.get_item(claim.pk, claim.sk)
        if old is not None:
            return stored_response(old, claim)
    why = may_refund(Role.OPERATOR if cmd.by_operator else Role.CUSTOMER, placed_at(item), now or utc_now())
    if why is not None:
        raise RefundWindowClosed(why)
    order.cancelled()  # OrderNotCancellable from any state but paid
    total = order.total
    method = str(order.payment.method)
    reference = {"order_id": order_id, "cancels_entry": order.payment.entry_id, "method": method}
    uow = store.unit_of_work()
    refund_id: str | None = None
    if order.payment.method is PaidBy.CARD:
        card = order.payment.card
        if card is None or not card.payment_id:
            raise RefundFailed(f"order {order_id} has no card payment to refund")
        old = store.get_item(claim.pk, claim.sk)  # a reused key is refused before the provider is called
        if old is not None:
            return stored_response(old, claim)
        take_refund_number(store, account_id, order_id, 1, cmd.idempotency_key, total.amount)
        try:
            refund = providers(card.provider).refund(
                payment_id=card.payment_id,
                amount=total,
                reference=order_id,
                idempotency_key=refund_key(account_id, order_id),
            )
        except Exception as exc:  # the outcome is unknown: the retry uses the same refund key
            logger.exception("refund of order %s failed at %s", order_id, card.provider)
            raise ServiceUnavailable(
                "the payment provider did not answer; retry the cancel (the card is refunded at most once)"
            ) from exc
        if refund.status != "succeeded":
            store.delete_record(*keys.order_refund_claim(account_id, order_id, 1))  # nothing refunded: free again
            raise RefundFailed(f"the provider did not refund order {order_id}: {refund.message or 'refused'}")
        refund_id = refund.refund_id
        reference.update(card_amount=str(total.amount), refund_id=refund_id or "")
        movement = Movement(
            account_id=account_id,
            amount=Money.zero(total.currency),
            type=EntryType.ORDER_CANCELLATION,
            record_only=True,
            description=f"Order {order_id} cancelled: refunded to the card ending {card.last4}",
            actor=cmd.actor,
            reference=reference,
        )
    elif order.payment.method is PaidBy.GIFT_CARD and order.payment.gift_card_code:
        code = order.payment.gift_card_code
        uow.update(gift_cards.give_back(store, code, total.amount))  # in this transaction, like the redemption
        reference.update(gift_card_amount=str(total.amount), gift_card=code[-4:])
        movement = Movement(
            account_id=account_id,
            amount=Money.zero(total.currency),
            type=EntryType.ORDER_CANCELLATION,
            record_only=True,
            description=f"Order {order_id} cancelled: returned to the gift card ending {code[-4:]}",
            actor=cmd.actor,
            reference=reference,
        )
    else:
        movement = Movement(
            account_id=account_id,
            amount=total,
            type=EntryType.ORDER_CANCELLATION,
            description=f"Order {order_id} cancelled: {method} payment returned",
            actor=cmd.actor,
            reference=reference,
        )
    uow.move(movement)

    def respond(posting: Posting) -> Answer:
        """The order's paid -> cancelled update and the event, with this attempt's posting."""
        cancellation = {
            "cancelled_at": posting.entries[0].created_at,
            "reason": cmd.reason,
            "entry_id": posting.entries[0].entry_id,
            "refund_id": refund_id,
        }
        update = RecordUpdate(
            pk=pk,
            sk=sk,
            changes={"state": str(OrderState.CANCELLED), "cancellation": cancellation},
            expect={"state": str(OrderState.PAID)},
            on_mismatch=lambda _old: OrderNotCancellable(f"order {order_id} was cancelled meanwhile"),
        )
        event = DomainEvent(
            account_id=account_id,
            type=EventType.ORDER_CANCELLED,
            payload={
                "order_id": order_id,
                "method": method,
                "amount": total.amount,
                "currency": total.currency,
                "entry_id": posting.entries[0].entry_id,
                "refund_id": refund_id,
            },
        )
        body = view_of({**item, "state": str(OrderState.CANCELLED), "cancellation": cancellation})
        return Answer(body, records=(event.record(),), updates=(update,))

    return commit(uow, claim, respond)
