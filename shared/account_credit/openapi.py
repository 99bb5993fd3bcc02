"""The OpenAPI document of the whole API, built from every capability's router."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    import json

    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    from .api import all_routers
    from .http.resolver import TITLE, VERSION, make_app

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
    doc.setdefault("components", {}).setdefault("schemas", {})
    from .schemas import AdjustmentResult, Problem

    for model in (Problem, AdjustmentResult):
        doc["components"]["schemas"][model.__name__] = model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
    doc["paths"].setdefault(
        "/openapi.json",
        {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3 document"}},
            }
        },
    )
    return doc
