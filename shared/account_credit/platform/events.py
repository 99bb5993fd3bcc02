"""Domain events: facts for notifications, written in the same transaction as what they describe.

Nothing is published from memory after a commit: an event is an item in the table,
committed with the ledger entry it describes (or alone, for a decline that writes
nothing else). The table's DynamoDB stream delivers it to the notify function, so a
function that dies right after committing cannot lose it.

Item: pk=ACCOUNT#<id>, sk=EVENT#<created_at>#<event_id>, kind=event, TTL after 90 days
(the ledger is the permanent record; events only trigger notifications).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from account_credit.kernel.errors import Conflict
from account_credit.kernel.ids import iso, new_id, utc_now
from account_credit.platform.store import keys
from account_credit.platform.store.base import Record, Store, write_alone

EVENT_TTL_SECONDS = 90 * 24 * 3600


class EventType(StrEnum):
    DEPOSIT_RECEIVED = "deposit.received"
    DEPOSIT_REVERSED = "deposit.reversed"
    PROFORMA_ISSUED = "proforma.issued"
    ORDER_PAID = "order.paid"
    ORDER_DECLINED = "order.declined"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_REFUNDED = "order.refunded"  # certificates refunded: number, amount, to (per source), entry_id, refund_id
    BALANCE_DEBITED = "balance.debited"
    PO_SUBMITTED = "po.submitted"
    PO_APPROVED = "po.approved"
    PO_REJECTED = "po.rejected"
    PO_CANCELLED = "po.cancelled"
    PO_OVERDUE = "po.overdue"
    DOCUMENT_ISSUED = "document.issued"  # numbered and written; the documents function renders it
    DOCUMENT_STORED = "document.stored"  # its XML and PDF are archived: the email with the PDF goes out
    INVOICE_PAID = "invoice.paid"  # a credit invoice is paid in full
    INVOICE_OVERDUE = "invoice.overdue"  # a credit invoice is past its due date and not paid
    # Subscriptions, renewals, holds and payment methods (docs/SUBSCRIPTIONS.md): the payload of each is listed there.
    SUBSCRIPTION_CREATED = "subscription.created"
    SUBSCRIPTION_CHANGED = "subscription.changed"  # auto-renew, method or renewal inventory changed
    SUBSCRIPTION_INVENTORY_ADDED = "subscription.inventory_added"
    SUBSCRIPTION_SUSPENDED = "subscription.suspended"  # by the customer, or after a renewal's grace period
    SUBSCRIPTION_REACTIVATED = "subscription.reactivated"
    RENEWAL_SUCCEEDED = "renewal.succeeded"  # paid by the subscription's own (or the default) method
    RENEWAL_PAID_WITH_ALTERNATE = "renewal.paid_with_alternate"  # the first method failed, the alternate paid
    RENEWAL_FAILED = "renewal.failed"  # nothing paid it today: retried daily until the grace period ends
    RENEWAL_AWAITING_TRANSFER = "renewal.awaiting_transfer"  # pay on invoice: a payment request was issued
    RENEWAL_FORECAST_SHORT = "renewal.forecast_short"  # renewals due soon cost more than the balance + credit
    HOLD_PLACED = "hold.placed"
    HOLD_RELEASED = "hold.released"
    CARD_EXPIRING = "card.expiring"  # a card a subscription or the default relies on expires soon
    AUTO_TOP_UP_SUCCEEDED = "auto_top_up.succeeded"
    AUTO_TOP_UP_DECLINED = "auto_top_up.declined"
    ACCOUNT_PARTNER_CHANGED = "account.partner_changed"  # an operator moved the account: old, new, reason, actor


@dataclass(frozen=True)
class DomainEvent:
    account_id: str
    type: str
    payload: dict[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=lambda: new_id("evt"))
    created_at: str = field(default_factory=lambda: iso(utc_now()))

    def record(self) -> Record:
        return Record(
            *keys.event(self.account_id, self.created_at, self.event_id),
            attrs={
                "kind": "event",
                "event_id": self.event_id,
                "account_id": self.account_id,
                "type": str(self.type),
                "payload": self.payload,
                "created_at": self.created_at,
                "expires_at": int(time.time()) + EVENT_TTL_SECONDS,
            },
        )


class _Announced(Conflict):
    """``announce_once`` found its marker: the event was written before."""


def announce_once(store: Store, marker: tuple[str, str], attrs: dict[str, Any], event: DomainEvent) -> bool:
    """Write ``event`` together with ``marker`` (an item that must not exist), so a rerun or a redelivery never
    announces the same thing twice: True if it was announced now."""
    uow = store.unit_of_work()
    uow.put(Record(*marker, attrs=attrs, on_exists=lambda _old: _Announced("announced")))
    uow.emit(event)
    try:
        write_alone(uow)
    except _Announced:
        return False
    return True
