"""What paying and cancelling share: the order's record and view, and events completed from the posting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from account_credit.orders.schemas import OrderView
from account_credit.platform.events import DomainEvent, EventType
from account_credit.platform.payments import PaymentProvider
from account_credit.platform.store import (
    UnitOfWork,
)

SCOPE = "order"
CANCEL_SCOPE = "order-cancel"

Providers = Callable[[str], PaymentProvider]


def charge_key(account_id: str, order_id: str) -> str:
    """Provider idempotency key of an order's card charge: one order, at most one charge."""
    return f"order-{account_id}-{order_id}"


def refund_key(account_id: str, order_id: str) -> str:
    return f"order-refund-{account_id}-{order_id}"


def late_event(uow: UnitOfWork, account_id: str, event_type: EventType) -> dict[str, Any]:
    """Queue an event now; returns its payload, completed by ``respond`` once the posting is known.

    ``respond`` runs before the transaction is built (and again on every retry with a
    refreshed account), so the item written carries the final balance before/after.
    """
    record = DomainEvent(account_id=account_id, type=event_type).record()
    payload: dict[str, Any] = {}
    record.attrs["payload"] = payload
    uow.put(record)
    return payload


def view_of(item: dict[str, Any]) -> dict[str, Any]:
    """The API form of a stored order."""
    return OrderView.model_validate({k: item.get(k) for k in OrderView.model_fields}).model_dump(mode="json")
