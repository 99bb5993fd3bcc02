"""The one exception map: domain errors and validation failures -> RFC 9457 problem+json."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from ..errors import DomainError
from ..schemas import Problem

PROBLEM_JSON = "application/problem+json"
logger = Logger(child=True)


def problem_response(
    status: int, slug: str, title: str, detail: str, *, instance: str | None, field: str | None = None, **extra: Any
) -> Response:
    body = Problem(
        type=f"/problems/{slug}", title=title, status=status, detail=detail, instance=instance, field=field
    ).model_dump(exclude_none=True)
    body.update({k: v for k, v in extra.items() if v is not None})
    # Powertools serializes dict bodies only for application/json, so encode here.
    return Response(status_code=status, content_type=PROBLEM_JSON, body=json.dumps(body, separators=(",", ":")))


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def register(app: APIGatewayHttpResolver) -> None:
    def path() -> str | None:
        try:
            return app.current_event.path
        except Exception:  # noqa: BLE001 - no event when rendering outside a request
            return None

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response:
        if exc.status >= 500:
            logger.warning("domain error answered as %s: %s", exc.status, exc.detail)
        return problem_response(
            exc.status, exc.slug, exc.title, exc.detail, instance=path(), field=exc.field, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response:
        errors = []
        for err in exc.errors():
            loc = err.get("loc", ())
            # A body that is not JSON: Powertools reports ("body", <char position>).
            field = "body" if err.get("type") == "json_invalid" else _field(loc)
            if loc and loc[0] == "header" and len(loc) > 1:
                field = "Idempotency-Key" if str(loc[1]).lower() == "idempotency-key" else str(loc[1])
            errors.append({"field": field, "message": str(err.get("msg", "invalid"))})
        first = errors[0] if errors else {"field": "body", "message": "invalid request"}
        return problem_response(
            422,
            "validation-error",
            "Request is not valid",
            f"{first['field']}: {first['message']}",
            instance=path(),
            field=first["field"],
            errors=errors,
        )

    @app.not_found
    def _not_found(exc: Exception) -> Response:
        return problem_response(404, "not-found", "Not found", "no such route", instance=path())

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return problem_response(
            500,
            "internal-error",
            "Internal error",
            "something went wrong on our side; it was logged",
            instance=path(),
        )
