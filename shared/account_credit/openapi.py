"""The OpenAPI document of the whole API, built from every capability's router.

Every answer a route can give is listed: the success bodies come from the routers' pydantic models, the
failures are RFC 9457 problems (``application/problem+json``, schema ``Problem``). The answers every JWT route
shares are added here, in one place, so a route only declares what is its own (402, 502...). API Gateway's
own answers (401 without a valid token, 404 for a route or method that does not exist) are
``application/json`` bodies ``{"message": ...}`` (schema ``GatewayMessage``), exactly as on AWS.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from account_credit.platform.http.problems import documented

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
GATEWAY_REF = {"$ref": "#/components/schemas/GatewayMessage"}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})

# The answers every signed-in route can give, whatever it does.
COMMON: dict[int, str] = {
    403: "The caller's role may not do this",
    404: "Not found: a missing account and someone else's account answer alike",
    422: "The request is not valid (`field` names what) or an Idempotency-Key was reused with another body",
    503: "Temporarily unavailable (throttled or not configured); nothing was written, retry",
}
WRITES: dict[int, str] = {
    409: "Conflicts with the current state, or contention that outlasted the retries; nothing was written",
}
BODY: dict[int, str] = {415: "The body is not JSON (`Content-Type: application/json`)"}


problem = documented


def _unauthorized() -> dict[str, Any]:
    return {
        "description": 'No valid token: API Gateway\'s own answer (`{"message":"Unauthorized"}`); a valid token '
        "without the role claims the API needs is a problem",
        "content": {"application/json": {"schema": GATEWAY_REF}, PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }


def complete(doc: dict[str, Any]) -> dict[str, Any]:
    """Add the shared failure answers to every operation and make every failure a problem+json."""
    for operations in doc.get("paths", {}).values():
        for method, op in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses: dict[str, Any] = op.setdefault("responses", {})
            public = op.get("security") == []
            wanted: dict[int, str] = {}
            if not public:
                wanted.update(COMMON)
                if method in WRITE_METHODS:
                    wanted.update(WRITES)
                if "requestBody" in op:
                    wanted.update(BODY)
            for code, description in wanted.items():
                responses.setdefault(str(code), problem(description))
            if not public:
                responses["401"] = _unauthorized()
            for status, answer in responses.items():
                if int(status) >= 400 and status != "401":
                    answer["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
                    answer.setdefault("description", "Problem")
    return doc


def all_routers() -> list[Any]:
    """Every capability's router: the whole API (a new capability adds its router here)."""
    from account_credit.accounts.router import router as accounts
    from account_credit.auto_top_up.router import router as auto_top_up
    from account_credit.bank.router import router as bank_transfers
    from account_credit.billing.router import router as documents
    from account_credit.catalog.router import router as catalog
    from account_credit.deposits.router import router as deposits
    from account_credit.deposits.webhooks import router as webhooks
    from account_credit.orders.router import router as orders
    from account_credit.payment_methods.router import router as payment_methods
    from account_credit.purchase_orders.router import router as purchase_orders
    from account_credit.reconciliation.router import router as reconciliation
    from account_credit.statements.router import router as statements
    from account_credit.subscriptions.router import router as subscriptions

    return [
        accounts,
        auto_top_up,
        bank_transfers,
        catalog,
        deposits,
        documents,
        orders,
        payment_methods,
        purchase_orders,
        reconciliation,
        statements,
        subscriptions,
        webhooks,
    ]


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    import json

    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    from account_credit.bootstrap import make_app
    from account_credit.platform.http.resolver import TITLE, VERSION

    app = make_app(*all_routers())
    raw = app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description="Prepaid account credit: balances, ledger, deposits and order payments. "
        "Amounts are integers in minor units of the account's currency. Errors are RFC 9457 problem+json.",
        security_schemes={"jwt": HTTPBearer(bearerFormat="JWT")},
        security=[{"jwt": []}],
    )
    doc: dict[str, Any] = json.loads(raw)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    from account_credit.accounts.schemas import AdjustmentResult
    from account_credit.platform.http.problems import GatewayMessage, Problem

    for model in (Problem, AdjustmentResult, GatewayMessage):
        schemas[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
    # Powertools' own validation-error schemas are never answered (a 422 is a Problem).
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    doc["paths"].setdefault(
        "/openapi.json",
        {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3 document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    )
    return complete(doc)
