"""Payment methods API: add (card, gift card, pay on invoice), list with roles, set the default and alternate,
update a card, delete a method; operators create gift cards. Owner, its partner and operators."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from account_credit.orders.schemas import (
    CardRegistration,
    CardUpdate,
    GiftCardCreate,
    GiftCardView,
    PaymentMethodList,
    PaymentMethodView,
    PreferencesPut,
    PreferencesView,
)
from account_credit.payment_methods import registration as svc
from account_credit.platform.http.resolver import authorized, json_response, operator, store

router = Router()
TAG = ["payment methods"]


@router.post(
    "/accounts/<account_id>/payment-methods",
    tags=TAG,
    summary="Add a payment method: a card the payment provider holds (its token, brand, last four, expiry, "
    "billing address - never the number), a gift card by its code, or pay on invoice",
    responses={200: {"description": "Already added"}, 201: {"description": "Added"}},
)
def add(account_id: str, body: CardRegistration) -> Response[PaymentMethodView]:
    authorized(router, account_id)
    account = store().known_account(account_id)
    assert account is not None
    view, created = svc.add(store(), account_id, account.currency, body)
    return json_response(201 if created else 200, PaymentMethodView(**view).model_dump(mode="json"))


@router.get(
    "/accounts/<account_id>/payment-methods",
    tags=TAG,
    summary="The account's payment methods (the balance first), each with its role, and the preferences",
)
def list_methods(account_id: str) -> PaymentMethodList:
    authorized(router, account_id)
    return PaymentMethodList.model_validate(svc.list_view(store(), account_id))


@router.put(
    "/accounts/<account_id>/payment-methods/preferences",
    tags=TAG,
    summary="Set the default payment method and the alternate tried when the default fails",
)
def put_preferences(account_id: str, body: PreferencesPut) -> PreferencesView:
    authorized(router, account_id)
    return PreferencesView.model_validate(svc.put_preferences(store(), account_id, body))


@router.patch(
    "/accounts/<account_id>/payment-methods/<payment_method_id>",
    tags=TAG,
    summary="Change a card's expiry and billing address (at the payment provider, then here)",
)
def update_card(account_id: str, payment_method_id: str, body: CardUpdate) -> PaymentMethodView:
    authorized(router, account_id)
    return PaymentMethodView.model_validate(svc.update_card(store(), account_id, payment_method_id, body))


@router.delete(
    "/accounts/<account_id>/payment-methods/<payment_method_id>",
    tags=TAG,
    summary="Remove a payment method (refused while it is the only method of an auto-renewing subscription)",
    responses={204: {"description": "Removed", "content": {}}},
)
def delete(account_id: str, payment_method_id: str) -> Response[None]:
    authorized(router, account_id)
    svc.delete(store(), account_id, payment_method_id)
    return Response(status_code=204, body=None)


@router.post(
    "/gift-cards",
    tags=TAG,
    summary="Create a gift card (operators): a code worth an amount, added to an account by its code",
    responses={201: {"description": "Created"}},
)
def create_gift_card(body: GiftCardCreate) -> Response[GiftCardView]:
    caller = operator(router, "create gift cards")
    return json_response(201, svc.create_gift_card(store(), body, caller.actor))
