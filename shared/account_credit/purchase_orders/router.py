"""Purchase orders API: the account's owner (or its partner) submits; operators approve, reject or cancel and see
the queue. Each route authorizes the caller, then calls one service function."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from account_credit.accounts.router import IdemHeader
from account_credit.platform.http.resolver import authorized, json_response, operator, store
from account_credit.purchase_orders import schemas
from account_credit.purchase_orders import service as svc

router = Router()
TAG = ["purchase orders"]


@router.post(
    "/accounts/<account_id>/purchase-orders",
    tags=TAG,
    summary="Submit a purchase order (its invoice is issued when an operator approves it)",
    responses={201: {"description": "Submitted (a replay of the Idempotency-Key answers the same)"}},
)
def submit(
    account_id: str, body: schemas.PurchaseOrderCreate, idempotency_key: IdemHeader
) -> Response[schemas.PurchaseOrderView]:
    caller = authorized(router, account_id)
    result = svc.submit(store(), account_id, body, idempotency_key, caller.actor)
    return json_response(201, result.body, result.replayed)


@router.get("/accounts/<account_id>/purchase-orders", tags=TAG, summary="The account's purchase orders, newest first")
def list_for_account(account_id: str) -> schemas.PurchaseOrderPage:
    authorized(router, account_id)
    return schemas.PurchaseOrderPage.model_validate(svc.list_for(store(), account_id))


@router.get(
    "/accounts/<account_id>/purchase-orders/<po_id>",
    tags=TAG,
    summary="One purchase order: state, invoice, amount, paid, outstanding, due date, payments",
)
def get_one(account_id: str, po_id: str) -> schemas.PurchaseOrderView:
    authorized(router, account_id)
    return schemas.PurchaseOrderView.model_validate(svc.get(store(), account_id, po_id))


@router.get("/purchase-orders", tags=TAG, summary="The operators' queue of purchase orders in one state")
def queue(
    state: Annotated[Literal["submitted", "approved", "rejected", "cancelled", "paid"], Query()] = "submitted",
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> schemas.PurchaseOrderPage:
    operator(router, "see the purchase orders of every account")
    return schemas.PurchaseOrderPage.model_validate(svc.queue(store(), state, cursor, limit))


@router.post(
    "/accounts/<account_id>/purchase-orders/<po_id>/approve",
    tags=TAG,
    summary="Approve: issue its invoice (operator); nothing is credited until payments arrive",
)
def approve(account_id: str, po_id: str) -> schemas.PurchaseOrderView:
    caller = operator(router, "approve purchase orders", account_id)
    return schemas.PurchaseOrderView.model_validate(svc.approve(store(), account_id, po_id, caller.actor))


@router.post(
    "/accounts/<account_id>/purchase-orders/<po_id>/reject", tags=TAG, summary="Reject with a reason (operator)"
)
def reject(account_id: str, po_id: str, body: schemas.Decision) -> schemas.PurchaseOrderView:
    caller = operator(router, "reject purchase orders", account_id)
    return schemas.PurchaseOrderView.model_validate(svc.reject(store(), account_id, po_id, body.reason, caller.actor))


@router.post(
    "/accounts/<account_id>/purchase-orders/<po_id>/cancel",
    tags=TAG,
    summary="Cancel an approved order's unpaid invoice with a reason (operator); payments received stay credited",
)
def cancel(account_id: str, po_id: str, body: schemas.Decision) -> schemas.PurchaseOrderView:
    caller = operator(router, "cancel purchase orders", account_id)
    return schemas.PurchaseOrderView.model_validate(svc.cancel(store(), account_id, po_id, body.reason, caller.actor))
