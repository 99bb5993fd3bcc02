"""Orders API: pay for an order, read it, cancel it. Each route calls exactly one service function."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic.json_schema import SkipJsonSchema

from account_credit.accounts import schemas
from account_credit.accounts import service as accounts
from account_credit.accounts.router import BOUND, ISO, IdemHeader
from account_credit.kernel.auth import Role
from account_credit.kernel.errors import InvalidInput
from account_credit.orders import service as svc
from account_credit.orders import views
from account_credit.orders.schemas import OrderCancel, OrderCreate, OrderList, OrderView, RefundCreate
from account_credit.platform.http.problems import documented as problem
from account_credit.platform.http.resolver import authorized, json_response, store

router = Router()
TAG = ["orders"]
OptionalIdemHeader = Annotated[
    schemas.IdempotencyKey | None,
    Header(alias="Idempotency-Key", description="Optional for orders: the order id is the key; if sent, equal to it"),
]


@router.post(
    "/accounts/<account_id>/orders",
    tags=TAG,
    summary="Pay for an order: balance, else card (if the channel accepts cards), else credit (if allowed)",
    description="201 with the paid order; a repeat of the order id returns the first answer "
    "(header Idempotent-Replayed). 402 insufficient-funds with the shortfall when nothing can pay it; "
    "a declined order is not stored, so the same order id can be sent again after a top-up.",
    responses={
        201: {"description": "Paid"},
        402: problem("Declined: insufficient funds (`shortfall`); nothing was debited"),
        502: problem("The payment provider failed the card charge; nothing was debited"),
    },
)
def create_order(account_id: str, body: OrderCreate, idempotency_key: OptionalIdemHeader = None) -> Response[OrderView]:
    caller = authorized(router, account_id)
    if idempotency_key is not None and idempotency_key != body.order_id:
        raise InvalidInput(
            "for orders the order id is the idempotency key: send no Idempotency-Key or the order id",
            field="Idempotency-Key",
        )
    result = svc.pay_order(store(), body.command(account_id, caller.actor))
    return json_response(201, result.body, result.replayed)


@router.get(
    "/accounts/<account_id>/orders",
    tags=TAG,
    summary="The account's orders, newest first, cursor paging",
    description="Filters: `from`/`to` (the order's `created_at`), `state`, `channel`. A page may hold fewer than "
    "`limit` orders and still have a `next_cursor` (a rare filter): follow it until it is null. A cursor not "
    "handed out for this account's orders is 422 naming `cursor`.",
)
def list_orders(
    account_id: str,
    since: Annotated[str | SkipJsonSchema[None], Query(alias="from", description=BOUND, json_schema_extra=ISO)] = None,
    until: Annotated[str | SkipJsonSchema[None], Query(alias="to", description=BOUND, json_schema_extra=ISO)] = None,
    state: Annotated[Literal["paid", "cancelled", "partly_refunded", "refunded"] | None, Query()] = None,
    channel: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> OrderList:
    authorized(router, account_id)
    page = views.list_orders(
        store(),
        account_id,
        since=accounts.bound(accounts.parse_bound(since, "from"), end=False),
        until=accounts.bound(accounts.parse_bound(until, "to"), end=True),
        state=state,
        channel=channel,
        cursor=cursor,
        limit=limit,
    )
    return OrderList.model_validate({"items": page.items, "next_cursor": page.next_cursor})


@router.get("/accounts/<account_id>/orders/<order_id>", tags=TAG, summary="One order and how it was paid")
def get_order(account_id: str, order_id: str) -> OrderView:
    authorized(router, account_id)
    return OrderView.model_validate(svc.get_order(store(), account_id, order_id))


@router.post(
    "/accounts/<account_id>/orders/<order_id>/cancel",
    tags=TAG,
    summary="Cancel a paid order: refund everything left of it, the way the money came, once",
    description="Under the refunds' rules: the owner and its partner within 30 days of the order, operators at any "
    "age. An order nothing was refunded of becomes `cancelled`; a partly refunded one has the rest refunded "
    "(`refunded`, a refund in `refunds`).",
    responses={
        200: {"description": "Cancelled (a replay answers the same, `Idempotent-Replayed: true`)"},
        403: problem("refund-window-closed: the order is more than 30 days old and the caller is not an operator"),
        409: problem("order-not-cancellable / order-not-refundable, or refund-in-progress (another card refund)"),
        502: problem("The payment provider refused the card refund; the order stays paid"),
    },
)
def cancel_order(
    account_id: str, order_id: str, idempotency_key: IdemHeader, body: OrderCancel | SkipJsonSchema[None] = None
) -> Response[OrderView]:
    caller = authorized(router, account_id)
    operator = caller.role is Role.OPERATOR
    command = (body or OrderCancel()).command(account_id, order_id, idempotency_key, caller.actor, operator)
    result = svc.cancel_order(store(), command)
    return json_response(200, result.body, result.replayed)


@router.post(
    "/accounts/<account_id>/orders/<order_id>/refunds",
    tags=TAG,
    summary="Refund certificates of an order, per line, the way the money came, once per Idempotency-Key",
    description="The owner and its partner refund within 30 days of the order; operators at any age. Each line "
    "gives back its share of the line's gross for the certificates named (the last one takes what rounding left). "
    "The money goes back per source: first off the credit used, then to the balance, or to the card (a provider "
    "refund) or the gift card. A credit note follows (docs/ORDERS.md). A replay of the key answers the first "
    "answer; the same key with another body is 422.",
    responses={
        201: {"description": "Refunded: the order with the refund last in `refunds` (a replay: the first answer)"},
        403: problem("refund-window-closed: the order is more than 30 days old and the caller is not an operator"),
        409: problem("order-not-refundable (cancelled or refunded in full), or refund-in-progress (a card refund)"),
        502: problem("The payment provider refused the card refund; nothing was refunded"),
    },
)
def refund_order(
    account_id: str, order_id: str, body: RefundCreate, idempotency_key: IdemHeader
) -> Response[OrderView]:
    caller = authorized(router, account_id)
    operator = caller.role is Role.OPERATOR
    result = svc.refund_order(store(), body.command(account_id, order_id, idempotency_key, caller.actor, operator))
    return json_response(201, result.body, result.replayed)
