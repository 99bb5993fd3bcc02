"""Subscriptions API: the account's owner, its partner and operators create subscriptions, add inventory, change
renewal, suspend and reactivate. Each route authorizes the caller, then calls one service function."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from account_credit.accounts.router import IdemHeader
from account_credit.kernel.ids import utc_now
from account_credit.platform.http.problems import documented as problem
from account_credit.platform.http.resolver import authorized, json_response, store
from account_credit.renewals import service as renewals
from account_credit.renewals.config import renewal_settings
from account_credit.subscriptions import schemas
from account_credit.subscriptions import service as svc

router = Router()
TAG = ["subscriptions"]


@router.post(
    "/accounts/<account_id>/subscriptions",
    tags=TAG,
    summary="Create a subscription: its first term is charged now (prorated when the start is backdated)",
    description="201 with the subscription; its first order (`orders[0]`) shows the charge. A repeat of the "
    "Idempotency-Key returns the first answer (header Idempotent-Replayed) and charges nothing again. "
    "402 insufficient-funds when nothing can pay it: no subscription is created.",
    responses={
        201: {"description": "Created and paid"},
        402: problem("Declined: insufficient funds (`shortfall`); nothing was charged or created"),
        502: problem("The payment provider failed the card charge; nothing was created"),
    },
)
def create(
    account_id: str, body: schemas.SubscriptionCreate, idempotency_key: IdemHeader
) -> Response[schemas.SubscriptionView]:
    caller = authorized(router, account_id)
    result = svc.create(store(), account_id, body, idempotency_key, caller.actor)
    return json_response(201, result.body, result.replayed)


@router.get(
    "/accounts/<account_id>/renewals/forecast",
    tags=TAG,
    summary="What the renewals due soon will cost, against what can pay them (the renewal-aware low-balance forecast)",
    description="Active auto-renewing subscriptions whose renewal date falls within the forecast window "
    "(RENEWAL_FORECAST_DAYS, 30 by default), or is past it within the grace period. `short` says the balance and "
    "credit will not cover them; the daily renewal run tells the customer once per window.",
)
def renewal_forecast(account_id: str) -> schemas.RenewalForecast:
    authorized(router, account_id)
    days = renewal_settings().forecast_days
    return schemas.RenewalForecast.model_validate(
        renewals.forecast(store(), account_id, utc_now().date(), days).as_dict()
    )


@router.get("/accounts/<account_id>/subscriptions", tags=TAG, summary="The account's subscriptions, newest first")
def list_for_account(account_id: str) -> schemas.SubscriptionList:
    authorized(router, account_id)
    return schemas.SubscriptionList.model_validate(svc.list_for(store(), account_id))


@router.get(
    "/accounts/<account_id>/subscriptions/<subscription_id>",
    tags=TAG,
    summary="One subscription: inventory, renewal inventory, term, renewal date, state, method, orders",
)
def get_one(account_id: str, subscription_id: str) -> schemas.SubscriptionView:
    authorized(router, account_id)
    return schemas.SubscriptionView.model_validate(svc.get(store(), account_id, subscription_id))


@router.patch(
    "/accounts/<account_id>/subscriptions/<subscription_id>",
    tags=TAG,
    summary="Change auto-renewal, the payment method, the renewal inventory or how added inventory is billed",
)
def change(account_id: str, subscription_id: str, body: schemas.SubscriptionChange) -> schemas.SubscriptionView:
    caller = authorized(router, account_id)
    return schemas.SubscriptionView.model_validate(svc.change(store(), account_id, subscription_id, body, caller.actor))


@router.post(
    "/accounts/<account_id>/subscriptions/<subscription_id>/inventory",
    tags=TAG,
    summary="Add inventory, usable at once; charged for the rest of the term now or by the next billing run",
    responses={
        201: {"description": "Added (a replay of the Idempotency-Key answers the same and charges nothing again)"},
        402: problem("Declined: insufficient funds (`shortfall`); nothing was added"),
        502: problem("The payment provider failed the card charge; nothing was added"),
    },
)
def add_inventory(
    account_id: str, subscription_id: str, body: schemas.InventoryAdd, idempotency_key: IdemHeader
) -> Response[schemas.InventoryAdded]:
    caller = authorized(router, account_id)
    result = svc.add_inventory(store(), account_id, subscription_id, body, idempotency_key, caller.actor)
    return json_response(201, result.body, result.replayed)


@router.post(
    "/accounts/<account_id>/subscriptions/<subscription_id>/suspend",
    tags=TAG,
    summary="Suspend: no renewal, inventory unusable (already suspended: unchanged)",
)
def suspend(account_id: str, subscription_id: str) -> schemas.SubscriptionView:
    caller = authorized(router, account_id)
    return schemas.SubscriptionView.model_validate(svc.suspend(store(), account_id, subscription_id, caller.actor))


@router.post(
    "/accounts/<account_id>/subscriptions/<subscription_id>/reactivate",
    tags=TAG,
    summary="Reactivate within the term, without a charge (409 subscription-expired after the term)",
)
def reactivate(account_id: str, subscription_id: str) -> schemas.SubscriptionView:
    caller = authorized(router, account_id)
    return schemas.SubscriptionView.model_validate(svc.reactivate(store(), account_id, subscription_id, caller.actor))
