"""People in the stack's Cognito user pool, with the role claims the API reads (custom:role, custom:partner_id,
custom:account_id). The pool admits no self sign-up (AllowAdminCreateUserOnly), so the first operator is made here.

    make operator EMAIL=ops@example.com                          # ENV=dev by default
    make operator EMAIL=sales@partner.example ROLE=partner PARTNER=p1 ENV=prod
    .venv/bin/python -m tools.users create --env dev --email a@b.example --role customer --account acc_...
    .venv/bin/python -m tools.users create --pool-id eu-central-1_AbC --region eu-central-1 --email ...

The pool id comes from the stack's UserPoolId output (the stack and region of the samconfig.toml environment), or
from --pool-id. Cognito emails the person a temporary password; the first sign-in sets their own. Running it again
for the same person with the same role is a no-op; another role is refused (change it in the console on purpose).
Uses the AWS credentials of the shell (AWS_PROFILE etc.), with cognito-idp:AdminCreateUser/AdminGetUser and
cloudformation:DescribeStacks.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from tools import deploy

ROLES = ("operator", "partner", "customer")


class UsageError(ValueError):
    """The person cannot be created as asked (the message says why)."""


@dataclass(frozen=True)
class Person:
    email: str
    role: str
    partner_id: str | None = None
    account_id: str | None = None

    def claims(self) -> dict[str, str]:
        """custom:* attributes exactly as kernel/auth.py reads them: a partner needs its partner id, a customer its
        account id, an operator neither (an operator with a partner or account id would be a mistake)."""
        if self.role not in ROLES:
            raise UsageError(f"role must be one of {', '.join(ROLES)}, not {self.role!r}")
        if "@" not in self.email:
            raise UsageError(f"{self.email!r} is not an email address")
        if self.role == "partner" and not self.partner_id:
            raise UsageError("a partner needs its partner id (PARTNER=...)")
        if self.role == "customer" and not self.account_id:
            raise UsageError("a customer needs its account id (ACCOUNT=acc_...)")
        if self.role != "partner" and self.partner_id:
            raise UsageError(f"only a partner has a partner id, not a {self.role}")
        if self.role != "customer" and self.account_id:
            raise UsageError(f"only a customer has an account id, not a {self.role}")
        out = {"custom:role": self.role}
        if self.partner_id:
            out["custom:partner_id"] = self.partner_id
        if self.account_id:
            out["custom:account_id"] = self.account_id
        return out


def create(cognito: Any, pool_id: str, person: Person, *, send_invitation: bool = True) -> str:
    """Create ``person`` in the pool (email verified, the role claims set); returns "created" or "exists".

    An existing user with the same claims is left as it is; one with other claims is refused."""
    claims = person.claims()
    try:
        existing = cognito.admin_get_user(UserPoolId=pool_id, Username=person.email)
    except cognito.exceptions.UserNotFoundException:
        existing = None
    if existing is not None:
        have = {a["Name"]: a["Value"] for a in existing.get("UserAttributes", []) if a["Name"].startswith("custom:")}
        if have != claims:
            raise UsageError(f"{person.email} exists with other claims {have}; not changed")
        return "exists"
    attributes = [{"Name": "email", "Value": person.email}, {"Name": "email_verified", "Value": "true"}]
    attributes += [{"Name": k, "Value": v} for k, v in claims.items()]
    kwargs: dict[str, Any] = {
        "UserPoolId": pool_id,
        "Username": person.email,
        "UserAttributes": attributes,
        "DesiredDeliveryMediums": ["EMAIL"],
    }
    if not send_invitation:
        kwargs["MessageAction"] = "SUPPRESS"
    cognito.admin_create_user(**kwargs)
    return "created"


def stack_output(cloudformation: Any, stack_name: str, key: str) -> str:
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    for output in stack.get("Outputs", []):
        if output["OutputKey"] == key:
            return str(output["OutputValue"])
    raise UsageError(f"stack {stack_name} has no {key} output (JwtIssuer set? then users live in that issuer)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    new = sub.add_parser("create", help="create a person with role claims")
    new.add_argument("--email", required=True)
    new.add_argument("--role", default="operator", choices=ROLES)
    new.add_argument("--partner", help="partner id (role partner)")
    new.add_argument("--account", help="account id (role customer)")
    new.add_argument("--env", default="dev", help="samconfig.toml environment whose stack holds the pool")
    new.add_argument("--pool-id", help="the user pool id (instead of the stack's UserPoolId output)")
    new.add_argument("--region", help="AWS region (default: the environment's)")
    new.add_argument("--no-invitation", action="store_true", help="do not email the temporary password")
    args = parser.parse_args(argv)

    import boto3

    person = Person(email=args.email, role=args.role, partner_id=args.partner or None, account_id=args.account or None)
    try:
        person.claims()
        region = args.region
        pool_id = args.pool_id
        if not pool_id:
            env = deploy.environment(args.env)
            region = region or env.region
            pool_id = stack_output(boto3.client("cloudformation", region_name=region), env.stack_name, "UserPoolId")
        result = create(
            boto3.client("cognito-idp", region_name=region), pool_id, person, send_invitation=not args.no_invitation
        )
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{person.email}: {result} in {pool_id} as {person.claims()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
