"""Webhooks in: the payment provider's and the bank's signed events. Public routes: the signature is the auth."""

from __future__ import annotations

import base64

from aws_lambda_powertools.event_handler.api_gateway import Router

from account_credit.deposits import schemas as ds
from account_credit.deposits import service as svc
from account_credit.platform.http.problems import documented as problem
from account_credit.platform.http.resolver import store

router = Router()


TAG = ["webhooks"]


def _raw_body() -> bytes:
    """The exact bytes that were signed (API Gateway base64-encodes bodies it considers binary)."""
    event = router.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


@router.post(
    "/webhooks/<provider>",
    tags=TAG,
    summary="Signed events of the payment provider (`stripe`, `sandbox`) or the bank (`bank`)",
    description="Provider events use Stripe's format and its `Stripe-Signature` header "
    '(`t=<unix>,v1=<HMAC-SHA256 of "<t>.<body>">`); the bank posts a transfer (transfer_id, amount, currency, '
    "reference, payer, booked_date) signed the same way in `Bank-Signature` with its own secret. A bad or "
    "missing signature, or a timestamp more than 300 s in the past or future, is refused with 400 and "
    "nothing is stored. Duplicates and unknown event types are acknowledged with 200.",
    responses={
        200: {"description": "Acknowledged (processed, duplicate or ignored)"},
        400: problem("Signature refused; nothing stored"),
        404: problem("No such provider in this deployment"),
        503: problem("Not processable yet; the provider delivers again"),
    },
    # Public (the signature is the auth), and the signed body is read raw, not validated before the check.
    openapi_extensions={
        "security": [],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            ds.ProviderEvent.model_json_schema(),
                            {"$ref": "#/components/schemas/IncomingTransfer"},
                        ]
                    }
                }
            },
        },
    },
)
def receive(provider: str) -> ds.WebhookAck:
    return ds.WebhookAck.model_validate(
        svc.receive_webhook(store(), provider, _raw_body(), dict(router.current_event.headers or {}))
    )
