"""Deposits API: card and bank-transfer top-ups of an account. Each route authorizes the caller for the account
(404 if it may not see it) and calls exactly one service function."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from account_credit.accounts import schemas
from account_credit.deposits import schemas as ds
from account_credit.deposits import service as svc
from account_credit.platform.http.problems import documented as problem
from account_credit.platform.http.resolver import authorized, json_response, store

router = Router()
TAG = ["deposits"]
IdemHeader = Annotated[
    schemas.IdempotencyKey,
    Header(alias="Idempotency-Key", description="Unique per top-up; a replay returns the first answer"),
]


@router.post(
    "/accounts/<account_id>/deposits",
    tags=TAG,
    summary="Top up by card (pending until the provider confirms) or by bank transfer (issues a proforma)",
    responses={
        201: {"description": "Pending deposit; card: checkout details, bank: the proforma invoice"},
        502: problem("The payment provider failed to start the card payment; nothing was stored"),
    },
)
def create_deposit(account_id: str, body: ds.DepositCreate, idempotency_key: IdemHeader) -> Response[ds.DepositCreated]:
    caller = authorized(router, account_id)
    result = svc.create_deposit(store(), body.command(account_id, idempotency_key, caller.actor))
    return json_response(201, result.body, result.replayed)


@router.get("/accounts/<account_id>/deposits", tags=TAG, summary="Deposits with their state, newest first")
def list_deposits(
    account_id: str,
    state: Annotated[ds.DepositStateName | None, Query()] = None,  # type: ignore[valid-type]
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ds.DepositList:
    authorized(router, account_id)
    return ds.DepositList.model_validate(svc.list_deposits(store(), account_id, state=state, limit=limit))


@router.get(
    "/accounts/<account_id>/deposits/<deposit_id>",
    tags=TAG,
    summary="One top-up, its state and (bank transfer) its proforma invoice and transfers",
)
def get_deposit(account_id: str, deposit_id: str) -> ds.DepositView:
    authorized(router, account_id)
    return ds.DepositView.model_validate(svc.get_deposit(store(), account_id, deposit_id))
