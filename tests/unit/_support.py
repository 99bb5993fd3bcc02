"""Plain helpers of the unit tier (fixtures live in conftest.py): principals, requests, a clock, v2 events."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

from account_credit.accounts import schemas
from account_credit.kernel.auth import Principal, Role
from account_credit.kernel.domain import Account

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"

# --------------------------------------------------------------------------- principals and requests

OPERATOR = Principal(subject="op-1", role=Role.OPERATOR)
PARTNER_A = Principal(subject="pa-user", role=Role.PARTNER, partner_id="partner-a")
PARTNER_B = Principal(subject="pb-user", role=Role.PARTNER, partner_id="partner-b")


def customer_of(account: Account | str) -> Principal:
    account_id = account if isinstance(account, str) else account.account_id
    return Principal(subject=f"cust-{account_id}", role=Role.CUSTOMER, account_id=account_id)


def account_request(currency: str = "USD", partner_id: str | None = None, **company: Any) -> schemas.AccountCreate:
    return schemas.AccountCreate(
        currency=currency,
        company={"name": "Acme Certificates Ltd", **company},
        billing_emails=["billing@acme.test"],
        partner_id=partner_id,
    )


def adjustment(kind: str, amount: int, reason: str = "manual correction", **extra: Any) -> schemas.Adjustment:
    return schemas.Adjustment(type=kind, amount=amount, reason=reason, **extra)


@dataclass
class Clock:
    """A settable clock for the timestamps the unit of work stamps on ledger entries."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set(self, value: datetime) -> None:
        self.now = value

    def tick(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


# --------------------------------------------------------------------------- API Gateway HTTP API (v2) events


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


_BASE_EVENT = load_event("apigw_v2_post_adjustment.json")


def operator_claims(sub: str = "op-1") -> dict[str, str]:
    return {"sub": sub, "custom:role": "operator"}


def partner_claims(partner_id: str, sub: str = "partner-user") -> dict[str, str]:
    return {"sub": sub, "custom:role": "partner", "custom:partner_id": partner_id}


def customer_claims(account_id: str, sub: str = "customer-user") -> dict[str, str]:
    return {"sub": sub, "custom:role": "customer", "custom:account_id": account_id}


_OPERATOR: Any = object()


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    claims: dict[str, Any] | None = _OPERATOR,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API payload v2.0 event as API Gateway sends it after the JWT authorizer.

    Built from the sample in tests/events. ``claims=None`` drops the authorizer block
    entirely; leaving ``claims`` out means an operator. Header names are lower-cased,
    as API Gateway v2 delivers them.
    """
    event = copy.deepcopy(_BASE_EVENT)
    event["rawPath"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["headers"] = {k: v for k, v in event["headers"].items() if k != "idempotency-key"}
    event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
    if query:
        event["rawQueryString"] = urlencode(query)
        event["queryStringParameters"] = dict(query)
    if claims is _OPERATOR:
        claims = operator_claims()
    if claims is None:
        event["requestContext"].pop("authorizer", None)
    else:
        event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    if raw_body is not None:
        event["body"] = raw_body
    elif body is not None:
        event["body"] = json.dumps(body)
    else:
        event.pop("body", None)
    return event


@dataclass(frozen=True)
class LambdaContext:
    function_name: str = "account-credit-accounts"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:account-credit-accounts"
    aws_request_id: str = "7f1d2c3b-0000-4000-8000-000000000001"


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: dict[str, str]  # lower-cased names
    raw_body: str

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def json(self) -> Any:
        return json.loads(self.raw_body)


def load_function(function: str) -> ModuleType:
    """functions/<function>/app.py by file path, once per test session (several functions are named app.py)."""
    name = f"{function}_app"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / function / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_accounts_app() -> ModuleType:
    return load_function("accounts")


class Api:
    """Calls the real ``lambda_handler`` in-process with v2 events."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.context = LambdaContext()

    def invoke(self, event: dict[str, Any]) -> HttpResult:
        out = self.module.lambda_handler(event, self.context)
        headers = {k.lower(): v for k, v in (out.get("headers") or {}).items()}
        return HttpResult(status=out["statusCode"], headers=headers, raw_body=out.get("body") or "")

    def request(self, method: str, path: str, **kwargs: Any) -> HttpResult:
        return self.invoke(api_event(method, path, **kwargs))
