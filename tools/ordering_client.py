"""One OAuth client-credentials client per ordering system, bound to one account or one partner.

    python -m tools.ordering_client create --name "SSLmarket shop" --account acc_...            # local stack
    python -m tools.ordering_client create --name "Reseller feed" --partner p1 --scope read      # read only
    python -m tools.ordering_client create --name "SSLmarket shop" --account acc_... --stack account-credit-dev
    python -m tools.ordering_client show CLIENT_ID [--stack ...]
    python -m tools.ordering_client delete CLIENT_ID [--stack ...]

Locally (no ``--stack``) it writes the binding to the local stack's table (the DynamoDB Local of ``make run``, or
DYNAMODB_ENDPOINT / TABLE_NAME) and makes up a client id; mint its token with ``make token ROLE=client
CLIENT=<id>``. With ``--stack`` it reads the stack's outputs (UserPoolId, TableName, TokenUrl) and its
OrderingClientIds parameter, creates the Cognito app client (client_credentials, a secret, the scope), writes the
binding to the stack's table and prints the secret once, the token URL and the OrderingClientIds value to deploy
(API Gateway's JWT authorizer accepts a client-credentials token only when its client id is in the audience).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tools.template import ROOT

_SHARED = str(ROOT / "shared")
if _SHARED not in sys.path:
    sys.path.insert(0, _SHARED)

from account_credit.kernel.auth import ClientBinding, Scope  # noqa: E402
from account_credit.platform.store import clients  # noqa: E402
from account_credit.platform.store.base import Store  # noqa: E402

SCOPES = {"orders": Scope.ORDERS.value, "read": Scope.READ.value}
ACCESS_TOKEN_MINUTES = 60


@dataclass(frozen=True)
class Created:
    binding: ClientBinding
    scope: str
    secret: str | None = None  # Cognito shows it once; a local client has none


@dataclass(frozen=True)
class Stack:
    """What the command needs from a deployed stack (its outputs and the OrderingClientIds parameter)."""

    user_pool_id: str
    table: str
    token_url: str = ""
    ordering_client_ids: list[str] = field(default_factory=list)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "client"


def create(
    store: Store,
    name: str,
    *,
    account_id: str | None = None,
    partner_id: str | None = None,
    scope: str = Scope.ORDERS.value,
    cognito: Any = None,
    user_pool_id: str | None = None,
    created_by: str = "",
) -> Created:
    """Create the client (in Cognito when ``cognito`` and ``user_pool_id`` are given, else a local id) and bind it.
    The binding is written last: a client that fails to bind is deleted again, so no client exists unbound."""
    if bool(account_id) == bool(partner_id):
        raise ValueError("bind the client to exactly one of --account or --partner")
    if scope not in SCOPES.values():
        raise ValueError(f"unknown scope {scope!r}; one of {', '.join(SCOPES.values())}")
    if account_id and store.get_account(account_id) is None:
        raise ValueError(f"account {account_id} not found")
    secret: str | None = None
    if cognito is not None:
        if not user_pool_id:
            raise ValueError("a Cognito client needs the user pool id")
        made = cognito.create_user_pool_client(
            UserPoolId=user_pool_id,
            ClientName=name,
            GenerateSecret=True,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=[scope],
            AccessTokenValidity=ACCESS_TOKEN_MINUTES,
            TokenValidityUnits={"AccessToken": "minutes"},
            EnableTokenRevocation=True,
            PreventUserExistenceErrors="ENABLED",
        )["UserPoolClient"]
        client_id, secret = str(made["ClientId"]), str(made["ClientSecret"])
    else:
        client_id = f"local-{_slug(name)}-{secrets.token_hex(4)}"
    binding = ClientBinding(
        client_id=client_id,
        name=name,
        account_id=account_id,
        partner_id=partner_id,
        created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        created_by=created_by,
    )
    try:
        clients.bind(store, binding)
    except BaseException:
        if cognito is not None:
            cognito.delete_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)
        raise
    return Created(binding=binding, scope=scope, secret=secret)


def delete(store: Store, client_id: str, *, cognito: Any = None, user_pool_id: str | None = None) -> bool:
    """Revoke: the binding goes first (its tokens are refused from the next request on), then the Cognito client
    (no new tokens). True if a binding was removed."""
    removed = clients.unbind(store, client_id)
    if cognito is not None and user_pool_id:
        with contextlib.suppress(cognito.exceptions.ResourceNotFoundException):
            cognito.delete_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)
    return removed


def audience_value(existing: list[str], client_id: str, *, removed: bool = False) -> str:
    """The OrderingClientIds parameter value after adding (or removing) ``client_id``."""
    ids = [i for i in existing if i and i != client_id]
    if not removed:
        ids.append(client_id)
    return ",".join(ids)


def read_stack(stack_name: str, cloudformation: Any) -> Stack:
    found = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
    params = {p["ParameterKey"]: p.get("ParameterValue", "") for p in found.get("Parameters", [])}
    if "UserPoolId" not in outputs:
        raise SystemExit(f"stack {stack_name} has no UserPoolId output (an external JwtIssuer: create clients there)")
    return Stack(
        user_pool_id=outputs["UserPoolId"],
        table=outputs["TableName"],
        token_url=outputs.get("TokenUrl", ""),
        ordering_client_ids=[i.strip() for i in params.get("OrderingClientIds", "").split(",") if i.strip()],
    )


def _local_store() -> Store:
    """The local stack's table, as ``make run`` and tools.schedule use it."""
    from tools import ddb_local
    from tools.local_server import local_endpoint, prepare

    endpoint = os.environ["DYNAMODB_ENDPOINT"] = local_endpoint()
    try:
        ddb_local.wait_ready(endpoint, timeout=3)
    except SystemExit:
        sys.exit(f"no DynamoDB answers at {endpoint}: start the local stack with `make run`")
    prepare(memory=False, ddb_port=0, start_ddb=False)
    from account_credit.platform.store.dynamo import DynamoStore

    return DynamoStore()


def _aws(stack_name: str, region: str | None) -> tuple[Store, Any, Stack]:
    import boto3

    session = boto3.Session(region_name=region)
    stack = read_stack(stack_name, session.client("cloudformation"))
    from account_credit.platform.store.dynamo import DynamoStore

    return (
        DynamoStore(table=stack.table, dynamo_client=session.client("dynamodb")),
        session.client("cognito-idp"),
        stack,
    )


def _deploy_hint(stack_name: str, value: str) -> str:
    return (
        "API Gateway accepts this client's tokens once its id is in the authorizer's audience. Deploy with\n"
        f"  OrderingClientIds={value or '(empty)'}\n"
        "in parameter_overrides of samconfig.toml (or with the other overrides on the command line):\n"
        f'  sam deploy --stack-name {stack_name} --parameter-overrides OrderingClientIds="{value}" ...'
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Ordering systems' OAuth clients (client credentials)")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("create", help="create a client bound to one account or one partner")
    c.add_argument("--name", required=True, help="the ordering system, e.g. 'SSLmarket shop'")
    who = c.add_mutually_exclusive_group(required=True)
    who.add_argument("--account", help="the account it orders for")
    who.add_argument("--partner", help="the partner whose accounts it orders for")
    c.add_argument("--scope", choices=sorted(SCOPES), default="orders", help="orders (order and read) or read")
    for name in ("show", "delete"):
        s = sub.add_parser(name)
        s.add_argument("client_id")
    for s in sub.choices.values():
        s.add_argument("--stack", help="a deployed stack (else the local stack)")
        s.add_argument("--region", help="its region (else the AWS default)")
    a = p.parse_args(argv)

    cognito: Any = None
    stack: Stack | None = None
    if a.stack:
        store, cognito, stack = _aws(a.stack, a.region)
    else:
        store = _local_store()

    if a.command == "show":
        found = clients.binding(store, a.client_id)
        if found is None:
            sys.exit(f"client {a.client_id} is not bound")
        bound = f"account {found.account_id}" if found.account_id else f"partner {found.partner_id}"
        print(f"{found.client_id}  {found.name!r}  {bound}  created {found.created_at}")
        return
    if a.command == "delete":
        removed = delete(store, a.client_id, cognito=cognito, user_pool_id=stack.user_pool_id if stack else None)
        print(f"client {a.client_id} {'unbound' if removed else 'was not bound'}")
        if stack is not None:
            print(_deploy_hint(a.stack, audience_value(stack.ordering_client_ids, a.client_id, removed=True)))
        return
    try:
        made = create(
            store,
            a.name,
            account_id=a.account,
            partner_id=a.partner,
            scope=SCOPES[a.scope],
            cognito=cognito,
            user_pool_id=stack.user_pool_id if stack else None,
            created_by=f"cli:{os.environ.get('USER', 'unknown')}",
        )
    except ValueError as exc:
        sys.exit(str(exc))
    b = made.binding
    print(f"client_id:     {b.client_id}")
    print(f"bound to:      {'account ' + str(b.account_id) if b.account_id else 'partner ' + str(b.partner_id)}")
    print(f"scope:         {made.scope}")
    if stack is None:
        print(f"local token:   make token ROLE=client CLIENT={b.client_id} SCOPE={made.scope}")
        return
    print(f"client_secret: {made.secret}   (shown once: store it in the ordering system's secrets)")
    if stack.token_url:
        print(f"token URL:     {stack.token_url}")
    print(_deploy_hint(a.stack, audience_value(stack.ordering_client_ids, b.client_id)))


if __name__ == "__main__":
    main()
