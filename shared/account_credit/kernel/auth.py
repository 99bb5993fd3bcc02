"""Who is calling, from the JWT claims API Gateway verified (or the local server did).

Roles: ``customer`` (its own account only), ``partner`` (the accounts it manages),
``operator`` (every account, plus operator-only actions). An account the caller may
not see is answered exactly like a missing one (404), so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    account_id: str | None = None
    partner_id: str | None = None

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
