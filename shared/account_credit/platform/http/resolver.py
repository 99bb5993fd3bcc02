"""Resolver factory shared by every HTTP function, and the current principal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, ResponseBuilder, Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from account_credit.kernel.auth import Principal, Role, machine_client, machine_refusal, scopes_of, visible
from account_credit.platform.http import edge, problems
from account_credit.platform.store import clients
from account_credit.platform.store.process import store

TITLE = "Account Credit API"
VERSION = "1.0.0"


class JsonApi(APIGatewayHttpResolver):
    """The resolver of the JWT routes: a request body is refused (415/422, nothing runs) unless it is one JSON
    object sent as JSON; an account the caller cannot see answers 404 before any complaint about the body. An
    ordering system's token (client credentials) is refused (403) any write but placing an order, before the
    body or the account is looked at."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        machine = _machine_refusal(event)
        refusal = machine or edge.check_body(dict(event))
        if refusal is None:
            return super().resolve(edge.normalised(dict(event)), context)
        BaseRouter.current_event = APIGatewayProxyEventV2(dict(event))  # where Powertools keeps it (a class attribute)
        BaseRouter.lambda_context = context
        self.append_context(_route_args=dict(event.get("pathParameters") or {}))
        try:
            hidden = None if machine else problems.hidden_account(self)
            response = hidden or problems.problem_response(
                refusal.status,
                refusal.slug,
                refusal.title,
                refusal.detail,
                instance=self.current_event.path,
                field=refusal.field,
            )
            builder: ResponseBuilder[Any] = ResponseBuilder(response, serializer=self._serializer, route=None)
            return builder.build(self.current_event, self._cors)
        finally:
            self.clear_context()


def make_app(
    *routers: Router,
    json_bodies: bool = True,
    account_visible: problems.AccountVisible | None = None,
) -> APIGatewayHttpResolver:
    """The resolver of one function. ``json_bodies=False`` for routes that read and verify a raw body themselves
    (signed webhooks); ``account_visible`` raises NotFound for an account the caller may not see (the composition
    root, account_credit.bootstrap, passes the accounts capability's check)."""
    app = JsonApi(enable_validation=True) if json_bodies else APIGatewayHttpResolver(enable_validation=True)
    problems.register(app, account_visible=account_visible)
    for router in routers:
        app.include_router(router)
    return app


def json_response(status: int, body: dict[str, Any], replayed: bool = False) -> Response:  # type: ignore[type-arg]
    """A JSON answer; ``replayed`` marks the stored first answer of an Idempotency-Key (header
    ``Idempotent-Replayed: true``)."""
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


def _claims(event: Mapping[str, Any]) -> Mapping[str, Any]:
    context = event.get("requestContext") or {}
    return ((context.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}


def _machine_refusal(event: Mapping[str, Any]) -> edge.Refusal | None:
    """403 for a request an ordering system's scopes do not allow (decided on the token alone, no store read)."""
    claims = _claims(event)
    if machine_client(claims) is None:
        return None
    http = (event.get("requestContext") or {}).get("http") or {}
    why = machine_refusal(scopes_of(claims), str(http.get("method", "")), str(http.get("path", "")))
    if why is None:
        return None
    return edge.Refusal(403, "forbidden", "Not allowed for this role", why, "Authorization")


def principal(router: Router | APIGatewayHttpResolver) -> Principal:
    """The caller, from the claims of the JWT the API's authorizer verified. A client-credentials token (an
    ordering system) is the customer or partner its client is bound to (403 when it is bound to none), and only
    for what its scopes allow."""
    event = router.current_event
    assert isinstance(event, APIGatewayProxyEventV2)
    claims = event.request_context.authorizer.jwt_claim
    client_id = machine_client(claims)
    if client_id is None:
        return Principal.from_claims(claims)
    caller = Principal.for_client(claims, clients.binding(store(), client_id))
    caller.require_may(event.request_context.http.method, event.request_context.http.path)
    return caller


def authorized(router: Router | APIGatewayHttpResolver, account_id: str) -> Principal:
    """The caller, once it is clear it may act on ``account_id``: a missing account and someone else's both
    answer 404 (authorization at the edge; the services below take commands, not principals)."""
    caller = principal(router)
    # Who manages an account can change (PUT /accounts/{id}/partner): a partner's access is checked on the account
    # as stored now, never on this container's cached copy. Owner and operator checks rest on immutable fields.
    found = store().get_account(account_id) if caller.role is Role.PARTNER else store().known_account(account_id)
    visible(caller, found, account_id)
    return caller


def operator(router: Router | APIGatewayHttpResolver, what: str, account_id: str | None = None) -> Principal:
    """The caller, once it is clear it is an operator (403 ``only an operator may <what>``). With ``account_id``,
    the account's visibility is checked first, so a caller that may not see it gets 404, never 403."""
    caller = authorized(router, account_id) if account_id is not None else principal(router)
    caller.require_operator(what)
    return caller
