"""The composition root: what each function's app is made of. The one module that may know every package.

Functions build their resolver here (``make_app``); the platform's HTTP edge gets the accounts capability's
visibility check from here, so the platform itself imports no capability.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

from account_credit.platform.http import resolver


def account_visible(app: APIGatewayHttpResolver, account_id: str) -> None:
    """NotFound unless the caller may see this account (asked only on the way to an error answer)."""
    from account_credit.accounts.service import get_account

    get_account(resolver.store(), resolver.principal(app), account_id)


def make_app(*routers: Router, json_bodies: bool = True) -> APIGatewayHttpResolver:
    return resolver.make_app(*routers, json_bodies=json_bodies, account_visible=account_visible)
