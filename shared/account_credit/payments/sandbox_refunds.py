"""Refunds for the sandbox provider, kept apart from ``sandbox.py`` (owned by the deposits capability).

``SandboxRefundingProvider`` is the sandbox plus ``refund``: deterministic and offline like
the rest of the sandbox. A charge the sandbox made (payment id ``pi_sbx_...``) is refunded;
anything else fails like an unknown payment at a real provider. The refund id depends only
on the payment and the idempotency key, so a retried refund is the same refund.
"""

from __future__ import annotations

import hashlib

from ..money import Money
from .port import Refund
from .sandbox import SandboxProvider


class SandboxRefundingProvider(SandboxProvider):
    @classmethod
    def from_env(cls) -> SandboxRefundingProvider:
        made = super().from_env()  # builds ``cls``, whatever settings the sandbox reads
        assert isinstance(made, cls)
        return made

    def refund(self, *, payment_id: str, amount: Money, reference: str, idempotency_key: str) -> Refund:
        if not payment_id.startswith("pi_sbx_") or amount.amount <= 0:
            return Refund(status="failed", message=f"no such sandbox payment {payment_id!r}")
        digest = hashlib.sha256(f"{payment_id}:{idempotency_key}".encode()).hexdigest()[:24]
        return Refund(status="succeeded", refund_id="re_sbx_" + digest)
