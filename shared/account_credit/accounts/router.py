"""Accounts API: each route authorizes the caller (the account's visibility: 404; an operator-only action: 403)
and then calls exactly one service function."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic.json_schema import SkipJsonSchema

from account_credit.accounts import schemas
from account_credit.accounts import service as svc
from account_credit.kernel.auth import Principal, Role
from account_credit.kernel.domain import EntryType
from account_credit.kernel.errors import Forbidden
from account_credit.platform.http.problems import documented as problem
from account_credit.platform.http.resolver import authorized, json_response, operator, principal, store

router = Router()
BOUND = "Inclusive: a date (YYYY-MM-DD, the whole day) or an RFC 3339 date-time (without an offset: UTC)"
ISO: dict[str, Any] = {"anyOf": [{"format": "date"}, {"format": "date-time"}]}
EntryTypeName = Literal[tuple(t.value for t in EntryType)]  # type: ignore[valid-type] # values, not enum reprs
TAG = ["accounts"]
IdemHeader = Annotated[
    schemas.IdempotencyKey,
    Header(alias="Idempotency-Key", description="Unique per money movement; a replay returns the first answer"),
]


def managing_partner(caller: Principal, requested: str | None) -> str | None:
    """Who manages an account ``caller`` opens: an operator names any partner (or none), a partner always
    itself, whatever the body says; a customer may not open accounts (403)."""
    if caller.role is Role.CUSTOMER:
        raise Forbidden("only an operator or a partner may open accounts")
    return caller.partner_id if caller.role is Role.PARTNER else requested


@router.post("/accounts", tags=TAG, summary="Open an account", responses={201: {"description": "Opened"}})
def open_account(body: schemas.AccountCreate) -> Response[schemas.AccountView]:
    partner_id = managing_partner(principal(router), body.partner_id)
    account = svc.open_account(store(), body.model_copy(update={"partner_id": partner_id}))
    return json_response(201, svc.view(account))


@router.get("/accounts/<account_id>", tags=TAG, summary="Balance, credit limit, available and settings")
def get_account(account_id: str) -> schemas.AccountView:
    authorized(router, account_id)
    return schemas.AccountView.model_validate(svc.view(svc.get_account(store(), account_id)))


@router.patch("/accounts/<account_id>", tags=TAG, summary="Update company details and billing emails")
def patch_account(account_id: str, body: schemas.AccountPatch) -> schemas.AccountView:
    authorized(router, account_id)
    account = svc.update_details(store(), account_id, body)
    return schemas.AccountView.model_validate(svc.view(account))


@router.put("/accounts/<account_id>/settings", tags=TAG, summary="Payment settings and low-balance threshold")
def put_settings(account_id: str, body: schemas.Settings) -> schemas.AccountView:
    authorized(router, account_id)
    account = svc.put_settings(store(), account_id, body)
    return schemas.AccountView.model_validate(svc.view(account))


@router.put("/accounts/<account_id>/credit-limit", tags=TAG, summary="Set the credit limit (operator)")
def put_credit_limit(account_id: str, body: schemas.CreditLimit) -> schemas.AccountView:
    operator(router, "set a credit limit", account_id)  # 404 before 403: never reveal a foreign account
    account = svc.set_credit_limit(store(), account_id, body.credit_limit)
    return schemas.AccountView.model_validate(svc.view(account))


@router.post(
    "/accounts/<account_id>/adjustments",
    tags=TAG,
    summary="Credit or debit the balance with a reason (operator)",
    responses={
        201: {"description": "Posted (a replay of the Idempotency-Key answers the same, `Idempotent-Replayed: true`)"},
        402: problem("A debit the balance and credit limit do not cover (`shortfall`); nothing written"),
    },
)
def post_adjustment(
    account_id: str, body: schemas.Adjustment, idempotency_key: IdemHeader
) -> Response[schemas.AdjustmentResult]:
    caller = operator(router, "adjust a balance", account_id)
    result = svc.adjust(store(), body.command(account_id, idempotency_key, caller.actor))
    return json_response(201, result.body, result.replayed)


@router.get("/accounts/<account_id>/transactions", tags=TAG, summary="Ledger entries, newest first, cursor paging")
def list_transactions(
    account_id: str,
    since: Annotated[str | SkipJsonSchema[None], Query(alias="from", description=BOUND, json_schema_extra=ISO)] = None,
    until: Annotated[str | SkipJsonSchema[None], Query(alias="to", description=BOUND, json_schema_extra=ISO)] = None,
    entry_type: Annotated[EntryTypeName | None, Query(alias="type")] = None,  # type: ignore[valid-type]
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> schemas.EntryPage:
    authorized(router, account_id)
    page = svc.list_transactions(
        store(),
        account_id,
        since=svc.parse_bound(since, "from"),
        until=svc.parse_bound(until, "to"),
        entry_type=entry_type,
        cursor=cursor,
        limit=limit,
    )
    return schemas.EntryPage(items=[schemas.Entry(**e.as_dict()) for e in page.items], next_cursor=page.next_cursor)
