"""Auto top-up API: the account's owner, its partner or an operator reads and sets the setting. Each route
authorizes the caller, then calls one service function."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from account_credit.auto_top_up import schemas
from account_credit.auto_top_up import service as svc
from account_credit.platform.http.resolver import authorized, store

router = Router()
TAG = ["auto top-up"]


@router.get(
    "/accounts/<account_id>/auto-top-up",
    tags=TAG,
    summary="The auto top-up setting and the card it would charge",
)
def get_auto_top_up(account_id: str) -> schemas.AutoTopUpView:
    authorized(router, account_id)
    return schemas.AutoTopUpView.model_validate(svc.view(store(), account_id))


@router.put(
    "/accounts/<account_id>/auto-top-up",
    tags=TAG,
    summary="Set auto top-up: when the balance falls below `below`, charge the default card `amount` (once per fall)",
)
def put_auto_top_up(account_id: str, body: schemas.AutoTopUpUpdate) -> schemas.AutoTopUpView:
    caller = authorized(router, account_id)
    return schemas.AutoTopUpView.model_validate(svc.configure(store(), account_id, body, caller.actor))
