"""What a caller asks of the orders capability, in domain terms: no HTTP request, no principal.

A router turns a request and its authenticated caller into a command; a schedule (renewals), a stream
consumer or a batch job builds the same command itself. Authorization happens at the edge, before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class OrderLine:
    product_code: str
    quantity: int


@dataclass(frozen=True)
class Proration:
    """Charge each line for the rest of a term only (``kernel.proration.prorate``): the term of ``months`` that
    starts on ``start``, counted from ``on``."""

    start: date
    months: int
    on: date


@dataclass(frozen=True)
class PayOrder:
    """Pay an order: priced from the catalog, paid by balance, card or credit. ``order_id`` is its idempotency
    key; ``actor`` is who asked (``customer:<sub>``, ``schedule:renewals``...), written on the ledger entry.

    ``methods``: the payment methods to try, in order (``"balance"``, ``"credit"`` or payment method ids), when the
    caller decides them (a subscription's assigned method, then the alternate); None: the account's rule for
    orders. ``capture_hold``: a hold (``holds``) the balance path uses up. ``proration``: lines priced for the rest
    of a term. ``subscription``: the subscription id and term the order pays for, recorded on the order."""

    account_id: str
    order_id: str
    channel: str
    lines: tuple[OrderLine, ...]
    may_use_credit: bool
    actor: str
    methods: tuple[str, ...] | None = None
    capture_hold: str | None = None
    proration: Proration | None = None
    subscription: tuple[str, int] | None = None

    def fingerprint(self) -> dict[str, Any]:
        """What the order id pins (the idempotency request hash covers exactly this)."""
        out: dict[str, Any] = {
            "channel": self.channel,
            "lines": [{"product_code": line.product_code, "quantity": line.quantity} for line in self.lines],
            "may_use_credit": self.may_use_credit,
        }
        # Only when given, so an order's hash is what it was before these existed.
        if self.proration is not None:
            p = self.proration
            out["proration"] = {"start": p.start.isoformat(), "months": p.months, "on": p.on.isoformat()}
        if self.subscription is not None:
            out["subscription"] = list(self.subscription)
        return out


@dataclass(frozen=True)
class CancelOrder:
    """Cancel a paid order: all of it goes back the way it came, once per ``idempotency_key``."""

    account_id: str
    order_id: str
    idempotency_key: str
    actor: str
    reason: str | None = None
    by_operator: bool = False  # operators cancel an order of any age; owners and partners within the refund window

    def fingerprint(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "reason": self.reason}


@dataclass(frozen=True)
class RefundLine:
    """``quantity`` more certificates of the order's line number ``line`` (1-based, as the order lists them)."""

    line: int
    quantity: int


@dataclass(frozen=True)
class RefundOrder:
    """Refund certificates of a paid order, once per ``idempotency_key``: ``lines`` (or, with ``everything``, all
    that is left of every line: a cancel of a partly refunded order). ``by_operator``: the caller is an operator,
    who may refund an order of any age (owners and partners: within ``orders.refunds.WINDOW_DAYS``)."""

    account_id: str
    order_id: str
    idempotency_key: str
    actor: str
    lines: tuple[RefundLine, ...] = ()
    everything: bool = False
    reason: str | None = None
    by_operator: bool = False

    def fingerprint(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "lines": [{"line": x.line, "quantity": x.quantity} for x in self.lines],
            "everything": self.everything,
            "reason": self.reason,
        }
