"""Bank transfers API (operators): record a transfer from the statement, and the suspense list of unmatched ones.
Every route checks the operator role first (403), then calls exactly one service function."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from account_credit.bank import service as svc
from account_credit.bank import suspense
from account_credit.deposits import schemas as ds
from account_credit.deposits.router import IdemHeader
from account_credit.platform.http.resolver import json_response, operator, store

router = Router()
TAG = ["bank transfers"]


@router.post(
    "/bank-transfers",
    tags=TAG,
    summary="Record an incoming transfer (operator); matched by reference, else kept in suspense",
    description="The transfer id makes it idempotent: the same transfer is credited at most once, "
    "whether it also arrives through the bank webhook or not.",
    responses={201: {"description": "Credited or kept in suspense"}, 200: {"description": "Already recorded"}},
)
def record_transfer(body: ds.IncomingTransfer) -> Response[ds.TransferResult]:
    caller = operator(router, "record bank transfers")
    result = svc.record_transfer(store(), body, actor=caller.actor)
    return json_response(200 if result["outcome"] == "duplicate" else 201, result)


@router.get("/bank-transfers/suspense", tags=TAG, summary="Unmatched transfers (operator), newest first")
def list_suspense(
    state: Annotated[Literal["open", "assigned", "returned"] | None, Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ds.SuspenseList:
    operator(router, "list unmatched bank transfers")
    return ds.SuspenseList.model_validate(suspense.list_suspense(store(), state=state, limit=limit))


@router.post(
    "/bank-transfers/suspense/<transfer_id>/assign",
    tags=TAG,
    summary="Credit an unmatched transfer to an account (operator), once",
    responses={201: {"description": "Credited (a replay answers the same, `Idempotent-Replayed: true`)"}},
)
def assign_transfer(
    transfer_id: str, body: ds.AssignTransfer, idempotency_key: IdemHeader
) -> Response[ds.TransferResult]:
    caller = operator(router, "assign bank transfers")
    result = suspense.assign(store(), body.command(transfer_id, idempotency_key, caller.actor))
    return json_response(201, result.body, result.replayed)


@router.post(
    "/bank-transfers/suspense/<transfer_id>/return",
    tags=TAG,
    summary="Mark an unmatched transfer as returned to the payer (operator)",
)
def return_transfer(transfer_id: str, body: ds.ReturnTransfer) -> ds.SuspenseItem:
    caller = operator(router, "return bank transfers")
    return ds.SuspenseItem.model_validate(suspense.mark_returned(store(), body.command(transfer_id, caller.actor)))
