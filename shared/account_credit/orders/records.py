"""What paying and cancelling share: scopes, provider idempotency keys and the order's API view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from account_credit.orders.schemas import OrderView
from account_credit.platform.payments import PaymentProvider

SCOPE = "order"
CANCEL_SCOPE = "order-cancel"

Providers = Callable[[str], PaymentProvider]


def charge_key(account_id: str, order_id: str) -> str:
    """Provider idempotency key of an order's card charge: one order, at most one charge."""
    return f"order-{account_id}-{order_id}"


def refund_key(account_id: str, order_id: str) -> str:
    return f"order-refund-{account_id}-{order_id}"


def view_of(item: dict[str, Any]) -> dict[str, Any]:
    """The API form of a stored order."""
    raw = {k: item.get(k) for k in OrderView.model_fields}
    if raw["net"] is None:  # an order made before orders carried VAT: its total was net, without VAT
        raw["net"], raw["vat"] = raw["total"], 0
    raw["documents"] = list(raw["documents"] or [])  # linked once the documents listing it are issued
    return OrderView.model_validate(raw).model_dump(mode="json")
