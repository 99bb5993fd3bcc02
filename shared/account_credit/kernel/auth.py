"""Who is calling, from the JWT claims API Gateway verified (or the local server did).

Roles: ``customer`` (its own account only), ``partner`` (the accounts it manages),
``operator`` (every account, plus operator-only actions). An account the caller may
not see is answered exactly like a missing one (404), so ids cannot be probed.

Machines: an ordering system calls with an OAuth client-credentials access token (``client_id``, ``scope``, no
role claim). Its client is bound to one account or one partner (the binding item, platform/store/clients.py); the
principal is that customer or partner, marked as a machine, and its scopes allow only reading and placing orders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from account_credit.kernel.domain import Account
from account_credit.kernel.errors import Forbidden, NotFound, Unauthorized


class Role(StrEnum):
    CUSTOMER = "customer"
    PARTNER = "partner"
    OPERATOR = "operator"


# Cognito puts custom attributes in the ID token as "custom:<name>"; other issuers may use plain names.
def _claim(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(f"custom:{name}", claims.get(name))
    return str(value) if value not in (None, "") else None


RESOURCE_SERVER = "account-credit"  # the Cognito resource server's identifier (template.yaml)


class Scope(StrEnum):
    """What an ordering system's client may do (the resource server's scopes)."""

    ORDERS = f"{RESOURCE_SERVER}/orders"  # place orders (POST /accounts/{id}/orders) and read
    READ = f"{RESOURCE_SERVER}/read"  # read only


_ORDER_PATH = re.compile(r"^/accounts/[^/]+/orders/?$")
_READ_METHODS = frozenset({"GET", "HEAD"})


def machine_client(claims: Mapping[str, Any]) -> str | None:
    """The client id when the claims are a client-credentials access token (a ``client_id`` and no role claim),
    else None (a person's token: its role claim decides)."""
    if _claim(claims, "role") is not None:
        return None
    client_id = claims.get("client_id")
    if client_id in (None, "") or claims.get("token_use", "access") != "access":
        return None
    return str(client_id)


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """The ``scope`` claim: space-separated (Cognito); API Gateway may hand a list over as ``[a b]``."""
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, (list, tuple, set, frozenset)):
        return frozenset(str(s) for s in raw)
    return frozenset(str(raw or "").strip("[]").replace(",", " ").split())


def machine_refusal(scopes: frozenset[str], method: str, path: str) -> str | None:
    """Why a machine with these scopes may not make this request, or None: reading needs ``read`` or ``orders``,
    placing an order (POST /accounts/{id}/orders) needs ``orders``; every other write is refused."""
    method = method.upper()
    if method in _READ_METHODS:
        if scopes & {Scope.READ.value, Scope.ORDERS.value}:
            return None
        return f"an ordering system's token needs the scope {Scope.READ.value} or {Scope.ORDERS.value} to read"
    if method == "POST" and _ORDER_PATH.match(path):
        if Scope.ORDERS.value in scopes:
            return None
        return f"an ordering system's token needs the scope {Scope.ORDERS.value} to place orders"
    return "an ordering system may only place orders (POST /accounts/{account_id}/orders) and read"


@dataclass(frozen=True)
class ClientBinding:
    """An ordering system's OAuth client and the one account or partner it acts for."""

    client_id: str
    name: str
    account_id: str | None = None
    partner_id: str | None = None
    created_at: str = ""
    created_by: str = ""

    def __post_init__(self) -> None:
        if bool(self.account_id) == bool(self.partner_id):
            raise ValueError("a client is bound to exactly one account or one partner")


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    account_id: str | None = None
    partner_id: str | None = None
    client_id: str | None = None  # set for an ordering system (client credentials), never for a person
    scopes: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_client(cls, claims: Mapping[str, Any], binding: ClientBinding | None) -> Principal:
        """The principal of a client-credentials token: the customer or partner its client is bound to."""
        client_id = machine_client(claims)
        if client_id is None:
            raise Unauthorized("the token is not an ordering system's client-credentials token")
        if binding is None or binding.client_id != client_id:
            raise Forbidden(f"the client {client_id} is not bound to an account or partner")
        return cls(
            subject=client_id,
            role=Role.CUSTOMER if binding.account_id else Role.PARTNER,
            account_id=binding.account_id,
            partner_id=binding.partner_id,
            client_id=client_id,
            scopes=scopes_of(claims),
        )

    @property
    def is_machine(self) -> bool:
        return self.client_id is not None

    def require_may(self, method: str, path: str) -> None:
        """Forbidden when a machine's scopes do not allow this request (a person's role is checked elsewhere)."""
        if self.is_machine:
            why = machine_refusal(self.scopes, method, path)
            if why is not None:
                raise Forbidden(why)

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Principal:
        role = _claim(claims, "role")
        if role not in {r.value for r in Role}:
            raise Unauthorized("the token carries no valid role claim")
        p = cls(
            subject=str(claims.get("sub", "")),
            role=Role(role),
            account_id=_claim(claims, "account_id"),
            partner_id=_claim(claims, "partner_id"),
        )
        if p.role is Role.CUSTOMER and not p.account_id:
            raise Unauthorized("a customer token must carry account_id")
        if p.role is Role.PARTNER and not p.partner_id:
            raise Unauthorized("a partner token must carry partner_id")
        return p

    @property
    def actor(self) -> str:
        if self.client_id is not None:
            return f"client:{self.client_id}"
        return f"{self.role.value}:{self.subject}"

    def can_see(self, account: Account) -> bool:
        if self.role is Role.OPERATOR:
            return True
        if self.role is Role.PARTNER:
            return account.partner_id is not None and account.partner_id == self.partner_id
        return account.account_id == self.account_id

    def require_operator(self, what: str) -> None:
        if self.role is not Role.OPERATOR:
            raise Forbidden(f"only an operator may {what}")


def visible(principal: Principal, account: Account | None, account_id: str) -> Account:
    if account is None or not principal.can_see(account):
        raise NotFound(f"account {account_id} not found")
    return account
