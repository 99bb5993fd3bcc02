"""The local stack's stand-ins for what the portal gets from Cognito and the card provider on AWS. Local only:
tools/local_server.py answers these (when LOCAL_DEV_LOGIN=true, its default); template.yaml has no such routes,
so the deployed stack never serves them.

    POST /local/dev-token     {"role": "customer", "account_id": "acc_..."} -> {"token": "..."}
                              (the same token `make token` mints; partner: "partner_id"; operator: nothing else)
    POST /local/sandbox/pay   {"account_id", "deposit_id", "outcome": "pay"|"fail"} with the caller's bearer token:
                              the sandbox checkout of a card top-up - the signed webhook `tools.sandbox pay` sends
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from tools import localauth, sandbox

Answer = tuple[int, list[tuple[str, str]], bytes]
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def enabled() -> bool:
    return os.environ.get("LOCAL_DEV_LOGIN") == "true"


def _json(status: int, body: dict[str, Any], content_type: str = "application/json") -> Answer:
    return status, [("content-type", content_type), ("cache-control", "no-store")], json.dumps(body).encode()


def problem(status: int, title: str, detail: str, field: str | None = None) -> Answer:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "field": field}
    return _json(status, body, "application/problem+json")


def _body(data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(data or b"{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def dev_token(body: dict[str, Any]) -> Answer:
    role = body.get("role")
    if role not in ("customer", "partner", "operator"):
        return problem(422, "Invalid role", "Choose customer, partner or operator.", "role")
    needs = {"customer": "account_id", "partner": "partner_id"}.get(role)
    value = body.get(needs) if needs else None
    if needs and not (isinstance(value, str) and ID.match(value)):
        return problem(422, f"{needs} is required", f"A {role} signs in with its {needs}.", needs)
    token = localauth.mint(
        role,
        account_id=value if role == "customer" else None,
        partner_id=value if role == "partner" else None,
        subject=f"portal-{role}-{value or 'local'}",
    )
    return _json(200, {"token": token})


def sandbox_pay(body: dict[str, Any], authorization: str | None, base: str) -> Answer:
    import requests

    account_id, deposit_id, outcome = body.get("account_id"), body.get("deposit_id"), body.get("outcome", "pay")
    for name, value in (("account_id", account_id), ("deposit_id", deposit_id)):
        if not (isinstance(value, str) and ID.match(value)):
            return problem(422, f"{name} is required", f"Give the card top-up's {name}.", name)
    if outcome not in ("pay", "fail"):
        return problem(422, "Invalid outcome", "The sandbox can pay or fail a payment.", "outcome")
    # Read the deposit as the caller: the sandbox pays only top-ups the signed-in user may see.
    r = requests.get(
        f"{base}/accounts/{account_id}/deposits/{deposit_id}",
        headers={"Authorization": authorization or ""},
        timeout=30,
    )
    if r.status_code != 200:
        return r.status_code, [("content-type", r.headers.get("content-type", "application/json"))], r.content
    deposit = r.json()
    if deposit.get("method") != "card":
        return problem(
            422, "Not a card top-up", "Bank transfers are paid by the bank, not at a checkout.", "deposit_id"
        )
    status, answer = sandbox.deliver_card_event(base, sandbox.card_event(deposit, outcome))
    if status >= 300:
        return problem(502, "The sandbox webhook was refused", f"HTTP {status}: {answer}")
    return _json(202, {"deposit_id": deposit_id, "outcome": outcome})


def handle(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer | None:
    """The answer to a /local/ request, or None for any other path (or when the development login is off)."""
    if not path.startswith("/local/") or not enabled():
        return None
    if method != "POST" or path not in ("/local/dev-token", "/local/sandbox/pay"):
        return _json(404, {"message": "Not Found"})
    data = _body(body)
    if data is None:
        return problem(422, "Invalid body", "Send one JSON object.", "body")
    if path == "/local/dev-token":
        return dev_token(data)
    base = f"http://{headers.get('host', '127.0.0.1')}"
    return sandbox_pay(data, headers.get("authorization"), base)
