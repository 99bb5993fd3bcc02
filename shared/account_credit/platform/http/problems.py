"""The one exception map: domain errors and validation failures -> RFC 9457 problem+json."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from account_credit.kernel.errors import DomainError, NotFound, Unauthorized
from account_credit.platform.http.model import Model

PROBLEM_JSON = "application/problem+json"


class GatewayMessage(Model):
    """API Gateway's own answer, before any function runs: 401 without a valid token, 404 for an unknown route."""

    message: str


class Problem(Model):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    errors: list[dict[str, str]] | None = None


logger = Logger(child=True)


def documented(description: str) -> Any:
    """A failure answer of a route in the OpenAPI document: a Problem as application/problem+json."""
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


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
        # An optional body model is a union: pydantic names the member (``OrderCancel``) first.
        if loc[0] == "body" and parts and parts[0][:1].isupper() and parts[0].isidentifier():
            parts = parts[1:]
    return ".".join(p for p in parts if p != "[key]") or "body"


AccountVisible = Callable[[APIGatewayHttpResolver, str], None]
_VISIBLE = "_account_visible"


def _path(app: APIGatewayHttpResolver) -> str | None:
    try:
        return app.current_event.path
    except Exception:  # noqa: BLE001 - no event when rendering outside a request
        return None


def hidden_account(app: APIGatewayHttpResolver) -> Response | None:
    """The 404 (or 401) to answer instead of a complaint about the request, when the path names an account the
    caller cannot see: a missing or foreign account is not found, whatever else is wrong with the request."""
    check: AccountVisible | None = getattr(app, _VISIBLE, None)
    try:
        args = app.context.get("_route_args") or app.current_event.path_parameters or {}
        account_id = args.get("account_id")
    except Exception:  # noqa: BLE001 - no event
        return None
    if check is None or not account_id:
        return None
    try:
        check(app, account_id)
    except (NotFound, Unauthorized) as exc:
        return problem_response(exc.status, exc.slug, exc.title, exc.detail, instance=_path(app), field=exc.field)
    except DomainError:
        return None
    return None


def register(app: APIGatewayHttpResolver, account_visible: AccountVisible | None = None) -> None:
    setattr(app, _VISIBLE, account_visible)

    def path() -> str | None:
        return _path(app)

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response:
        if exc.status >= 500:
            logger.warning("domain error answered as %s: %s", exc.status, exc.detail)
        return problem_response(
            exc.status, exc.slug, exc.title, exc.detail, instance=path(), field=exc.field, **exc.extra
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(exc: RequestUnsupportedContentType) -> Response:
        return hidden_account(app) or problem_response(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "the body must be JSON (Content-Type: application/json)",
            instance=path(),
            field="Content-Type",
        )

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response:
        hidden = hidden_account(app)
        if hidden is not None:
            return hidden
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
