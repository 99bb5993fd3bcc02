"""What paying and cancelling share: scopes, provider idempotency keys and the order's API view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from account_credit.orders.schemas import OrderView
from account_credit.platform.payments import PaymentProvider

SCOPE = "order"
CANCEL_SCOPE = "order-cancel"
REFUND_SCOPE = "order-refund"

Providers = Callable[[str], PaymentProvider]


def charge_key(account_id: str, order_id: str) -> str:
    """Provider idempotency key of an order's card charge: one order, at most one charge."""
    return f"order-{account_id}-{order_id}"


def refund_key(account_id: str, order_id: str, number: int | None = None) -> str:
    """Provider idempotency key of an order's card refund: the whole order (a cancel), or its refund ``number``."""
    whole = f"order-refund-{account_id}-{order_id}"
    return whole if number is None else f"{whole}-{number}"


def refunded_counts(item: dict[str, Any]) -> list[int]:
    """Certificates refunded so far per line of a stored order (all of them once it is cancelled)."""
    lines = item.get("lines") or []
    if item.get("state") == "cancelled":
        return [int(x["quantity"]) for x in lines]
    done = [int(n) for n in item.get("refunded") or []]
    return done + [0] * (len(lines) - len(done))


def view_of(item: dict[str, Any]) -> dict[str, Any]:
    """The API form of a stored order."""
    raw = {k: item.get(k) for k in OrderView.model_fields}
    open_ = item.get("state") in ("paid", "partly_refunded")
    done = refunded_counts(item)
    raw["lines"] = [
        {**line, "line": n, "refunded": d, "refundable": int(line["quantity"]) - d if open_ else 0}
        for n, (line, d) in enumerate(zip(raw["lines"] or [], done, strict=True), start=1)
    ]
    raw["refunds"] = list(raw["refunds"] or [])
    if raw["net"] is None:  # an order made before orders carried VAT: its total was net, without VAT
        raw["net"], raw["vat"] = raw["total"], 0
    raw["documents"] = list(raw["documents"] or [])  # linked once the documents listing it are issued
    return OrderView.model_validate(raw).model_dump(mode="json")
