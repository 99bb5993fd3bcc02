"""Payment methods API: register a provider card token and list an account's methods."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from account_credit.orders.schemas import CardRegistration, PaymentMethodList, PaymentMethodView
from account_credit.payment_methods import registration as svc
from account_credit.platform.http.resolver import json_response, principal, store

router = Router()
TAG = ["payment methods"]


@router.post(
    "/accounts/<account_id>/payment-methods",
    tags=TAG,
    summary="Register a card the payment provider holds: its token, brand, last four and expiry (never the number)",
    responses={200: {"description": "Already registered"}, 201: {"description": "Registered"}},
)
def register_card(account_id: str, body: CardRegistration) -> Response[PaymentMethodView]:
    method, created = svc.register_card(store(), principal(router), account_id, body)
    return json_response(201 if created else 200, method.as_dict())


@router.get("/accounts/<account_id>/payment-methods", tags=TAG, summary="The account's payment methods")
def list_methods(account_id: str) -> PaymentMethodList:
    methods = svc.list_for(store(), principal(router), account_id)
    return PaymentMethodList(items=[PaymentMethodView(**m.as_dict()) for m in methods])
