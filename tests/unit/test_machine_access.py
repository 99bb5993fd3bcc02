"""Ordering systems (client credentials): who a machine token is, and what its scopes let it do.

The claims are what Cognito's client-credentials grant puts in an access token (``client_id``, ``scope``,
``token_use: access``, no ``aud``, no custom attributes); the account or partner comes from the client's binding
item. Handlers run in-process on the memory store; the Cognito part of the command runs on moto's cognito-idp.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from _support import Api, account_request, customer_claims, operator_claims, partner_claims
from moto import mock_aws

from account_credit.accounts import service as svc
from account_credit.kernel.auth import (
    ClientBinding,
    Principal,
    Role,
    Scope,
    machine_client,
    machine_refusal,
    scopes_of,
)
from account_credit.kernel.errors import Conflict, Forbidden, Unauthorized
from account_credit.platform.store import clients, keys
from account_credit.platform.store.memory import MemoryStore
from tools import localauth, ordering_client

PRODUCT = {"name": "OV SSL", "term_months": 12, "prices": {"USD": 10_000, "EUR": 9_000}}


def machine(client_id: str, scope: str = Scope.ORDERS.value) -> dict[str, Any]:
    return {"sub": client_id, "client_id": client_id, "scope": scope, "token_use": "access"}


# --------------------------------------------------------------------------- the principal, from claims + binding


def test_a_client_credentials_token_is_the_customer_its_client_is_bound_to() -> None:
    claims = machine("shop-1")
    assert machine_client(claims) == "shop-1"
    p = Principal.for_client(claims, ClientBinding("shop-1", "Shop", account_id="acc_1"))
    assert (p.role, p.account_id, p.partner_id, p.is_machine) == (Role.CUSTOMER, "acc_1", None, True)
    assert p.scopes == {Scope.ORDERS.value}
    assert p.actor == "client:shop-1"
    partner = Principal.for_client(claims, ClientBinding("shop-1", "Feed", partner_id="p1"))
    assert (partner.role, partner.partner_id, partner.account_id) == (Role.PARTNER, "p1", None)


def test_a_person_is_never_a_machine() -> None:
    """A role claim decides for a person, whatever else the token carries (an ID token has no client_id; a
    person's access token has one but is not bound)."""
    person = {**customer_claims("acc_1"), "client_id": "portal"}
    assert machine_client(person) is None
    assert not Principal.from_claims(person).is_machine
    assert machine_client({"sub": "u", "client_id": "portal", "token_use": "id"}) is None
    assert machine_client({"sub": "u"}) is None


def test_an_unbound_or_mismatched_client_is_refused() -> None:
    with pytest.raises(Forbidden, match="not bound"):
        Principal.for_client(machine("shop-1"), None)
    with pytest.raises(Forbidden, match="not bound"):
        Principal.for_client(machine("shop-1"), ClientBinding("shop-2", "Other", account_id="acc_1"))
    with pytest.raises(Unauthorized):
        Principal.for_client(customer_claims("acc_1"), ClientBinding("shop-1", "Shop", account_id="acc_1"))
    with pytest.raises(ValueError, match="exactly one"):
        ClientBinding("shop-1", "Both", account_id="acc_1", partner_id="p1")
    with pytest.raises(ValueError, match="exactly one"):
        ClientBinding("shop-1", "Neither")


@pytest.mark.parametrize(
    ("scope", "method", "path", "allowed"),
    [
        (Scope.ORDERS.value, "POST", "/accounts/acc_1/orders", True),
        (Scope.ORDERS.value, "GET", "/accounts/acc_1", True),
        (Scope.ORDERS.value, "GET", "/accounts/acc_1/orders/o-1", True),
        (Scope.READ.value, "GET", "/accounts/acc_1/transactions", True),
        (Scope.READ.value, "POST", "/accounts/acc_1/orders", False),
        (Scope.ORDERS.value, "POST", "/accounts/acc_1/orders/o-1/cancel", False),
        (Scope.ORDERS.value, "POST", "/accounts/acc_1/orders/o-1/refunds", False),
        (Scope.ORDERS.value, "POST", "/accounts/acc_1/adjustments", False),
        (Scope.ORDERS.value, "PUT", "/accounts/acc_1/settings", False),
        (Scope.ORDERS.value, "PATCH", "/accounts/acc_1", False),
        (Scope.ORDERS.value, "POST", "/accounts", False),
        (Scope.ORDERS.value, "POST", "/accounts/acc_1/deposits", False),
        (Scope.ORDERS.value, "DELETE", "/accounts/acc_1/payment-methods/pm_1", False),
        ("", "GET", "/accounts/acc_1", False),
        ("openid aws.cognito.signin.user.admin", "GET", "/accounts/acc_1", False),
    ],
)
def test_scopes_allow_reading_and_ordering_only(scope: str, method: str, path: str, allowed: bool) -> None:
    assert (machine_refusal(scopes_of({"scope": scope}), method, path) is None) is allowed


def test_scope_claims_as_cognito_and_api_gateway_hand_them_over() -> None:
    both = {Scope.READ.value, Scope.ORDERS.value}
    assert scopes_of({"scope": "account-credit/read account-credit/orders"}) == both
    assert scopes_of({"scope": "[account-credit/read account-credit/orders]"}) == both
    assert scopes_of({"scope": ["account-credit/read", "account-credit/orders"]}) == both
    assert scopes_of({}) == frozenset()


def test_bindings_are_written_once_read_and_revoked() -> None:
    store = MemoryStore()
    binding = ClientBinding("shop-1", "Shop", account_id="acc_1", created_at="2026-01-01T00:00:00Z")
    clients.bind(store, binding)
    assert clients.binding(store, "shop-1") == binding
    assert store.get_item(*keys.ordering_client("shop-1"))["account_id"] == "acc_1"  # type: ignore[index]
    with pytest.raises(Conflict):
        clients.bind(store, ClientBinding("shop-1", "Again", partner_id="p1"))
    assert clients.unbind(store, "shop-1") is True
    assert clients.binding(store, "shop-1") is None
    assert clients.unbind(store, "shop-1") is False


# --------------------------------------------------------------------------- over the handlers


def _store() -> MemoryStore:
    from account_credit.platform.http import resolver

    s = resolver.store()
    assert isinstance(s, MemoryStore)
    return s


def open_account(apis: dict[str, Api], balance: int = 0, partner: str | None = None) -> str:
    claims = partner_claims(partner) if partner else operator_claims()
    r = apis["accounts"].request(
        "POST",
        "/accounts",
        body={"currency": "USD", "company": {"name": "Shop"}, "billing_emails": ["b@shop.test"]},
        claims=claims,
    )
    assert r.status == 201, r.raw_body
    acc = str(r.json["account_id"])
    if balance:
        fund = apis["accounts"].request(
            "POST",
            f"/accounts/{acc}/adjustments",
            body={"type": "credit", "amount": balance, "reason": "opening balance"},
            headers={"Idempotency-Key": f"fund-{acc}"},
        )
        assert fund.status == 201, fund.raw_body
    return acc


def with_product(apis: dict[str, Api]) -> None:
    assert apis["catalog"].request("PUT", "/catalog/products/ov-1y", body=PRODUCT).status in (200, 201)


def order(order_id: str, credit: bool = True) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "channel": "api",
        "lines": [{"product_code": "ov-1y", "quantity": 1}],
        "may_use_credit": credit,
    }


def problem(r: Any, status: int, slug: str) -> dict[str, Any]:
    assert r.status == status, r.raw_body
    assert r.content_type.startswith("application/problem+json")
    body: dict[str, Any] = r.json
    assert body["type"] == f"/problems/{slug}"
    return body


def test_an_ordering_system_orders_on_credit_and_reads_its_account(apis: dict[str, Api]) -> None:
    with_product(apis)
    acc = open_account(apis)
    clients.bind(_store(), ClientBinding("shop-1", "SSLmarket shop", account_id=acc))
    token = machine("shop-1")
    paid = apis["order"].request("POST", f"/accounts/{acc}/orders", body=order("m-1"), claims=token)
    assert paid.status == 201, paid.raw_body
    assert paid.json["actor"] == "client:shop-1"
    assert paid.json["payment"]["method"] == "credit", paid.json
    account = apis["accounts"].request("GET", f"/accounts/{acc}", claims=token)
    assert account.status == 200 and account.json["balance"] == -10_000
    assert apis["order"].request("GET", f"/accounts/{acc}/orders/m-1", claims=token).json["state"] == "paid"
    assert apis["order"].request("GET", f"/accounts/{acc}/orders", claims=token).status == 200
    assert apis["accounts"].request("GET", f"/accounts/{acc}/transactions", claims=token).status == 200
    assert apis["catalog"].request("GET", "/catalog/products", claims=token).status == 200


def test_every_other_write_is_403_before_the_body_is_looked_at(apis: dict[str, Api]) -> None:
    with_product(apis)
    acc = open_account(apis, balance=50_000)
    clients.bind(_store(), ClientBinding("shop-1", "SSLmarket shop", account_id=acc))
    token = machine("shop-1")
    assert apis["order"].request("POST", f"/accounts/{acc}/orders", body=order("m-1"), claims=token).status == 201
    refused = [
        ("accounts", "POST", f"/accounts/{acc}/adjustments", {"type": "credit", "amount": 1, "reason": "free money"}),
        ("accounts", "PUT", f"/accounts/{acc}/settings", {"low_balance_threshold": 1}),
        ("accounts", "PUT", f"/accounts/{acc}/credit-limit", {"credit_limit": 10**9}),
        ("accounts", "POST", "/accounts", {"currency": "USD"}),
        ("order", "POST", f"/accounts/{acc}/orders/m-1/cancel", None),
        ("order", "POST", f"/accounts/{acc}/orders/m-1/refunds", {"certificates": 1}),
        ("catalog", "PUT", "/catalog/products/ov-1y", {"not": "even valid"}),
    ]
    for function, method, path, body in refused:
        r = apis[function].request(method, path, body=body, claims=token, headers={"Idempotency-Key": "k-1"})
        answer = problem(r, 403, "forbidden")
        assert "may only place orders" in answer["detail"], (path, answer)
    assert apis["accounts"].request("GET", f"/accounts/{acc}").json["balance"] == 40_000
    assert apis["order"].request("GET", f"/accounts/{acc}/orders/m-1").json["state"] == "paid"


def test_another_accounts_orders_are_404(apis: dict[str, Api]) -> None:
    with_product(apis)
    acc, other = open_account(apis), open_account(apis, balance=50_000)
    assert apis["order"].request("POST", f"/accounts/{other}/orders", body=order("o-1")).status == 201
    clients.bind(_store(), ClientBinding("shop-1", "SSLmarket shop", account_id=acc))
    token = machine("shop-1")
    problem(apis["order"].request("GET", f"/accounts/{other}/orders/o-1", claims=token), 404, "not-found")
    problem(apis["accounts"].request("GET", f"/accounts/{other}", claims=token), 404, "not-found")
    placed = apis["order"].request("POST", f"/accounts/{other}/orders", body=order("m-2"), claims=token)
    problem(placed, 404, "not-found")
    assert apis["accounts"].request("GET", f"/accounts/{other}").json["balance"] == 40_000


def test_a_partner_bound_client_orders_for_the_partners_accounts_only(apis: dict[str, Api]) -> None:
    with_product(apis)
    managed, foreign = open_account(apis, partner="p1"), open_account(apis)
    clients.bind(_store(), ClientBinding("feed-1", "Reseller feed", partner_id="p1"))
    token = machine("feed-1")
    r = apis["order"].request("POST", f"/accounts/{managed}/orders", body=order("p-1"), claims=token)
    assert r.status == 201, r.raw_body
    problem(
        apis["order"].request("POST", f"/accounts/{foreign}/orders", body=order("p-2"), claims=token), 404, "not-found"
    )


def test_read_scope_unbound_and_revoked_clients(apis: dict[str, Api]) -> None:
    with_product(apis)
    acc = open_account(apis, balance=50_000)
    store = _store()
    clients.bind(store, ClientBinding("reader-1", "Report", account_id=acc))
    reader = machine("reader-1", Scope.READ.value)
    assert apis["accounts"].request("GET", f"/accounts/{acc}", claims=reader).status == 200
    refused = problem(
        apis["order"].request("POST", f"/accounts/{acc}/orders", body=order("r-1"), claims=reader), 403, "forbidden"
    )
    assert Scope.ORDERS.value in refused["detail"]
    unbound = apis["accounts"].request("GET", f"/accounts/{acc}", claims=machine("stranger"))
    assert "not bound" in problem(unbound, 403, "forbidden")["detail"]
    clients.unbind(store, "reader-1")
    problem(apis["accounts"].request("GET", f"/accounts/{acc}", claims=reader), 403, "forbidden")
    no_role_no_client = apis["accounts"].request("GET", f"/accounts/{acc}", claims={"sub": "x", "token_use": "access"})
    problem(no_role_no_client, 401, "unauthorized")


# --------------------------------------------------------------------------- local tokens


def test_local_client_tokens_carry_what_cognito_issues_and_pass_the_local_authorizer() -> None:
    token = localauth.mint_client("local-shop-1", Scope.ORDERS.value)
    raw = jwt.decode(token, options={"verify_signature": False})
    assert "aud" not in raw and not any(k.startswith("custom:") for k in raw)
    claims = localauth.verify(f"Bearer {token}")
    assert machine_client(claims) == "local-shop-1" and scopes_of(claims) == {Scope.ORDERS.value}
    assert localauth.verify(f"Bearer {localauth.mint('operator')}")["custom:role"] == "operator"
    no_aud = jwt.encode({"iss": localauth.ISSUER, "sub": "x", "exp": 4_000_000_000}, localauth._private_key(), "RS256")
    with pytest.raises(ValueError, match="aud"):
        localauth.verify(f"Bearer {no_aud}")
    wrong_aud = jwt.encode(
        {"iss": localauth.ISSUER, "sub": "x", "aud": "other", "exp": 4_000_000_000}, localauth._private_key(), "RS256"
    )
    with pytest.raises(ValueError, match="Audience"):
        localauth.verify(f"Bearer {wrong_aud}")


# --------------------------------------------------------------------------- the command (Cognito on moto)


@pytest.fixture
def cognito() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name="eu-central-1")
        pool = idp.create_user_pool(PoolName="account-credit-test-users")["UserPool"]["Id"]
        idp.create_resource_server(
            UserPoolId=pool,
            Identifier="account-credit",
            Name="Account Credit API",
            Scopes=[{"ScopeName": "orders", "ScopeDescription": "o"}, {"ScopeName": "read", "ScopeDescription": "r"}],
        )
        yield idp, pool


def _account(store: MemoryStore) -> str:
    return svc.open_account(store, account_request("USD")).account_id


def test_create_makes_a_client_credentials_client_and_binds_it(cognito: tuple[Any, str]) -> None:
    idp, pool = cognito
    store = MemoryStore()
    acc = _account(store)
    made = ordering_client.create(store, "SSLmarket shop", account_id=acc, cognito=idp, user_pool_id=pool)
    client = idp.describe_user_pool_client(UserPoolId=pool, ClientId=made.binding.client_id)["UserPoolClient"]
    assert client["AllowedOAuthFlows"] == ["client_credentials"] and client["AllowedOAuthFlowsUserPoolClient"]
    assert client["AllowedOAuthScopes"] == [Scope.ORDERS.value]
    assert made.secret and client["ClientSecret"] == made.secret
    assert clients.binding(store, made.binding.client_id) == made.binding
    assert ordering_client.delete(store, made.binding.client_id, cognito=idp, user_pool_id=pool) is True
    assert clients.binding(store, made.binding.client_id) is None
    assert idp.list_user_pool_clients(UserPoolId=pool, MaxResults=10)["UserPoolClients"] == []


def test_create_refuses_a_missing_account_and_leaves_no_client(cognito: tuple[Any, str]) -> None:
    idp, pool = cognito
    store = MemoryStore()
    with pytest.raises(ValueError, match="not found"):
        ordering_client.create(store, "Shop", account_id="acc_missing", cognito=idp, user_pool_id=pool)
    with pytest.raises(ValueError, match="exactly one"):
        ordering_client.create(store, "Shop", cognito=idp, user_pool_id=pool)
    assert idp.list_user_pool_clients(UserPoolId=pool, MaxResults=10)["UserPoolClients"] == []


class _EveryKeyTaken(MemoryStore):
    """A table where the binding's key is already taken (put_if_absent never writes)."""

    def put_if_absent(self, key: tuple[str, str], attrs: dict[str, Any]) -> bool:
        return False


def test_a_client_that_cannot_be_bound_is_deleted_again(cognito: tuple[Any, str]) -> None:
    idp, pool = cognito
    store = _EveryKeyTaken()
    with pytest.raises(Conflict):
        ordering_client.create(store, "Shop", partner_id="p1", cognito=idp, user_pool_id=pool)
    assert idp.list_user_pool_clients(UserPoolId=pool, MaxResults=10)["UserPoolClients"] == []


def test_a_local_client_is_a_binding_only() -> None:
    store = MemoryStore()
    made = ordering_client.create(store, "Reseller Feed!", partner_id="p1", scope=Scope.READ.value)
    assert made.binding.client_id.startswith("local-reseller-feed-") and made.secret is None
    assert clients.binding(store, made.binding.client_id) == made.binding


def test_the_audience_parameter_value_after_adding_or_removing_a_client() -> None:
    assert ordering_client.audience_value([], "c1") == "c1"
    assert ordering_client.audience_value(["c1", "c2"], "c3") == "c1,c2,c3"
    assert ordering_client.audience_value(["c1", "c2"], "c1") == "c2,c1"
    assert ordering_client.audience_value(["c1", "c2"], "c1", removed=True) == "c2"


def test_the_command_reads_what_it_needs_from_the_stack() -> None:
    template = {
        "Parameters": {"OrderingClientIds": {"Type": "String", "Default": ""}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "UserPoolId": {"Value": "eu-central-1_abc"},
            "TableName": {"Value": "account-credit-dev-table"},
            "TokenUrl": {"Value": "https://account-credit-dev-1.auth.eu-central-1.amazoncognito.com/oauth2/token"},
        },
    }
    with mock_aws():
        cfn = boto3.client("cloudformation", region_name="eu-central-1")
        cfn.create_stack(
            StackName="account-credit-dev",
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": "OrderingClientIds", "ParameterValue": "c1, c2"}],
        )
        stack = ordering_client.read_stack("account-credit-dev", cfn)
    assert (stack.user_pool_id, stack.table) == ("eu-central-1_abc", "account-credit-dev-table")
    assert stack.token_url.endswith("/oauth2/token") and stack.ordering_client_ids == ["c1", "c2"]
