"""What a caller asks of the orders capability, in domain terms: no HTTP request, no principal.

A router turns a request and its authenticated caller into a command; a schedule (renewals), a stream
consumer or a batch job builds the same command itself. Authorization happens at the edge, before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OrderLine:
    product_code: str
    quantity: int


@dataclass(frozen=True)
class PayOrder:
    """Pay an order: priced from the catalog, paid by balance, card or credit. ``order_id`` is its idempotency
    key; ``actor`` is who asked (``customer:<sub>``, ``schedule:renewals``...), written on the ledger entry."""

    account_id: str
    order_id: str
    channel: str
    lines: tuple[OrderLine, ...]
    may_use_credit: bool
    actor: str

    def fingerprint(self) -> dict[str, Any]:
        """What the order id pins (the idempotency request hash covers exactly this)."""
        return {
            "channel": self.channel,
            "lines": [{"product_code": line.product_code, "quantity": line.quantity} for line in self.lines],
            "may_use_credit": self.may_use_credit,
        }


@dataclass(frozen=True)
class CancelOrder:
    """Cancel a paid order: all of it goes back the way it came, once per ``idempotency_key``."""

    account_id: str
    order_id: str
    idempotency_key: str
    actor: str
    reason: str | None = None

    def fingerprint(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "reason": self.reason}
