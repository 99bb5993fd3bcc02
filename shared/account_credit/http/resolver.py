"""Resolver factory shared by every HTTP function, and the current principal."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from ..auth import Principal
from ..store import Store
from . import problems

TITLE = "Account Credit API"
VERSION = "1.0.0"


def make_app(*routers: Router) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    problems.register(app)
    for router in routers:
        app.include_router(router)
    return app


def json_response(status: int, body: dict[str, Any], replayed: bool = False) -> Response:  # type: ignore[type-arg]
    """A JSON answer; ``replayed`` marks the stored first answer of an Idempotency-Key (header
    ``Idempotent-Replayed: true``)."""
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


def principal(router: Router | APIGatewayHttpResolver) -> Principal:
    """The caller, from the claims of the JWT the API's authorizer verified."""
    event = router.current_event
    assert isinstance(event, APIGatewayProxyEventV2)
    return Principal.from_claims(event.request_context.authorizer.jwt_claim)


@lru_cache(maxsize=1)
def store() -> Store:
    """The process-wide store: DynamoDB, or the in-memory fake when STORE=memory (local only)."""
    import os

    if os.environ.get("STORE") == "memory":
        from ..store.memory import MemoryStore

        return MemoryStore()
    from ..store.dynamo import DynamoStore

    return DynamoStore()
