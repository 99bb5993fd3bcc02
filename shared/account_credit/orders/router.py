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
from account_credit.kernel.errors import InvalidInput
from account_credit.orders import service as svc
from account_credit.orders import views
from account_credit.orders.schemas import OrderCancel, OrderCreate, OrderList, OrderView
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
    state: Annotated[Literal["paid", "cancelled"] | None, Query()] = None,
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
    summary="Cancel a paid order before fulfilment: the full amount goes back the way it came, once",
    responses={
        200: {"description": "Cancelled (a replay answers the same, `Idempotent-Replayed: true`)"},
        502: problem("The payment provider refused the card refund; the order stays paid"),
    },
)
def cancel_order(
    account_id: str, order_id: str, idempotency_key: IdemHeader, body: OrderCancel | SkipJsonSchema[None] = None
) -> Response[OrderView]:
    caller = authorized(router, account_id)
    command = (body or OrderCancel()).command(account_id, order_id, idempotency_key, caller.actor)
    result = svc.cancel_order(store(), command)
    return json_response(200, result.body, result.replayed)
