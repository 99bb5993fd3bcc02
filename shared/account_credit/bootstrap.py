"""The composition root: what each function's app is made of. The one module that may know every package.

Functions build their resolver here (``make_app``) with the account visibility check their error answers use
(an account the caller may not see is 404 before any complaint about the request).
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from account_credit.platform.http import resolver


def account_visible(app: APIGatewayHttpResolver, account_id: str) -> None:
    """NotFound unless the caller may see this account (asked only on the way to an error answer)."""
    resolver.authorized(app, account_id)


def make_app(*routers: Router, json_bodies: bool = True) -> APIGatewayHttpResolver:
    return resolver.make_app(*routers, json_bodies=json_bodies, account_visible=account_visible)
