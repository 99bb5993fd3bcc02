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


@router.get(
    "/accounts",
    tags=TAG,
    summary="Find accounts: by company name, VAT id or payment reference (operators, partners)",
    description="Sorted by company name. `q`: a case-insensitive part of the company name, or the exact VAT id, "
    "or the exact payment reference. An operator sees every account (`partner_id`: one partner's); a partner "
    "only its own customers (`partner_id`, if sent, must be its own: 403 otherwise); a customer gets 403. A page "
    "may hold fewer than `limit` accounts and still have a `next_cursor`: follow it until it is null. A cursor "
    "not handed out for the same search scope is 422 naming `cursor`.",
    responses={200: {"description": "One page"}, 403: problem("A customer, or a partner naming another partner")},
)
def search_accounts(
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    partner_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> schemas.AccountList:
    page = svc.search_accounts(
        store(),
        partner_id=search_scope(principal(router), partner_id),
        q=q,
        currency=currency,
        cursor=cursor,
        limit=limit,
    )
    return schemas.AccountList.model_validate({"items": page.items, "next_cursor": page.next_cursor})


def search_scope(caller: Principal, requested: str | None) -> str | None:
    """Whose accounts ``caller`` searches: an operator any partner's (or everyone's: None), a partner only its
    own; a customer none (403)."""
    if caller.role is Role.CUSTOMER:
        raise Forbidden("only an operator or a partner may search accounts")
    if caller.role is Role.PARTNER:
        if requested is not None and requested != caller.partner_id:
            raise Forbidden("a partner may search only its own customers")
        return caller.partner_id
    return requested


@router.put(
    "/accounts/<account_id>/partner",
    tags=TAG,
    summary="Change the partner that manages the account (operator; audited)",
    description="`partner_id` null: no partner. Written with an `account.partner_changed` event (old and new "
    "partner, reason, who, when); the same partner again changes nothing.",
    responses={
        200: {"description": "The account as it is now"},
        409: problem("The account changed meanwhile: nothing written, retry"),
    },
)
def put_partner(account_id: str, body: schemas.PartnerChange) -> schemas.AccountView:
    caller = operator(router, "change an account's partner", account_id)
    account = svc.change_partner(store(), account_id, body, caller.actor)
    return schemas.AccountView.model_validate(svc.view(account))


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
