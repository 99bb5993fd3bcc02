"""Local stand-in for API Gateway's JWT authorizer: an RS256 key in .local/, PyJWT to sign and verify.

python -m tools.localauth operator
python -m tools.localauth customer --account acc_...
python -m tools.localauth partner --partner p1
python -m tools.localauth client --client local-shop-1a2b   # an ordering system (client credentials)
"""

from __future__ import annotations

import argparse
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from tools.template import ROOT

ISSUER = "https://auth.account-credit.local"
AUDIENCE = "account-credit-local"
KEY_FILE = ROOT / ".local" / "jwt-signing-key.pem"


@lru_cache(maxsize=1)
def _private_key() -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if not KEY_FILE.exists():
        KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        KEY_FILE.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        KEY_FILE.chmod(0o600)
    return serialization.load_pem_private_key(Path(KEY_FILE).read_bytes(), password=None)


def mint(
    role: str,
    *,
    account_id: str | None = None,
    partner_id: str | None = None,
    subject: str | None = None,
    ttl: int = 12 * 3600,
) -> str:
    import jwt

    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject or f"local-{role}",
        "iat": now,
        "exp": now + ttl,
        "token_use": "id",
        "custom:role": role,
    }
    if account_id:
        claims["custom:account_id"] = account_id
    if partner_id:
        claims["custom:partner_id"] = partner_id
    return jwt.encode(claims, _private_key(), algorithm="RS256")


def mint_client(client_id: str, scope: str = "account-credit/orders", *, ttl: int = 3600) -> str:
    """An ordering system's access token as Cognito's client-credentials grant issues it: ``client_id``, ``scope``,
    ``token_use: access``, ``sub`` = the client id, no ``aud`` and no custom attributes."""
    import jwt

    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": client_id,
        "client_id": client_id,
        "scope": scope,
        "token_use": "access",
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, _private_key(), algorithm="RS256")


def verify(authorization: str | None) -> dict[str, Any]:
    """Claims of a valid ``Bearer`` token, or ValueError (the server answers 401 like API Gateway)."""
    import jwt

    if not authorization or not authorization.lower().startswith("bearer "):
        raise ValueError("missing bearer token")
    token = authorization.split(" ", 1)[1].strip()
    try:
        claims = dict(
            jwt.decode(
                token,
                _private_key().public_key(),
                algorithms=["RS256"],
                issuer=ISSUER,
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
            )
        )
    except jwt.PyJWTError as exc:
        raise ValueError(str(exc)) from exc
    # Like API Gateway's JWT authorizer: ``aud`` must name the audience; a token without ``aud`` (a client-credentials
    # access token) is checked by its ``client_id`` instead. On AWS that client id must be in the authorizer's
    # audience (stack parameter OrderingClientIds); locally every client id passes here and the binding decides.
    aud = claims.get("aud")
    if aud is not None:
        if AUDIENCE not in ([aud] if isinstance(aud, str) else list(aud)):
            raise ValueError("Audience doesn't match")
    elif not claims.get("client_id"):
        raise ValueError('Token is missing the "aud" claim')
    return claims


def main() -> None:
    p = argparse.ArgumentParser(description="Mint a local JWT for a role")
    p.add_argument("role", choices=["customer", "partner", "operator", "client"])
    p.add_argument("--account", help="account id (customer)")
    p.add_argument("--partner", help="partner id (partner)")
    p.add_argument("--sub", help="subject")
    p.add_argument("--client", help="client id (client: an ordering system, see tools/ordering_client.py)")
    p.add_argument("--scope", default="account-credit/orders", help="scopes of a client token (space-separated)")
    a = p.parse_args()
    if a.role == "client":
        if not a.client:
            p.error("client needs --client CLIENT_ID")
        print(mint_client(a.client, a.scope))
        return
    print(mint(a.role, account_id=a.account, partner_id=a.partner, subject=a.sub))


if __name__ == "__main__":
    main()
