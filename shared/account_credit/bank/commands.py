"""What an operator (or a job acting for one) asks of the bank capability, in domain terms: no HTTP request, no
principal. The router checks the operator role first (403) and passes the caller's actor; the bank's webhook
records transfers as ``bank`` with no caller at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AssignSuspense:
    """Credit an unmatched (suspense) transfer to an account, once per ``idempotency_key``."""

    transfer_id: str
    account_id: str
    idempotency_key: str
    actor: str

    def fingerprint(self) -> dict[str, Any]:
        """What the idempotency key pins: the transfer and the body of ``POST .../assign`` (stored records replay)."""
        return {"transfer_id": self.transfer_id, "account_id": self.account_id}


@dataclass(frozen=True)
class ReturnSuspense:
    """Mark an unmatched transfer returned to its payer (the money goes back outside this service)."""

    transfer_id: str
    reason: str
    actor: str
