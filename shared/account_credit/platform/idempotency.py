"""Request fingerprints for Idempotency-Key handling."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from account_credit.platform.store import IdempotencyClaim


def request_hash(body: Any) -> str:
    """SHA-256 of the canonical JSON of the validated request (key order and spacing do not matter)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def claim(account_id: str, scope: str, key: str, body: Any) -> IdempotencyClaim:
    return IdempotencyClaim(account_id=account_id, scope=scope, key=key, request_hash=request_hash(body))
