"""Purchase orders (DigiCert's PO process): submitted by the customer, approved or rejected by an operator.

Approval issues the order's invoice: a proforma of its own gapless series (``bank/proformas.py``) with the
customer's PO number, due after the payment terms, in the same transaction as the order's state change. Nothing
is credited then: funds are released only as payments towards it arrive (a bank transfer matched by the
account's payment reference or by the invoice's number in the remittance text, or recorded by an operator),
each credited once by the amount received, with its tax document. An open purchase order neither uses nor adds
to the credit limit. A daily run reminds of invoices past due, once per stage (``PO_REMINDER_DAYS``).

Item ``PO#<po_id>`` in the account's partition; ``PONUM#<number>`` keeps the customer's numbers unique; the gsi1
partition ``POSTATE#<state>`` is the operators' queue (submitted by submission time, approved by due date).
"""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

from account_credit.bank.proformas import ForPurchaseOrder, issue_proforma
from account_credit.deposits.records import StaleDeposit, deposit_update, plain
from account_credit.deposits.state import OPEN_PROFORMA, Deposit, DepositState, proforma_status
from account_credit.kernel.errors import Conflict, CurrencyMismatchError, DomainError, NotFound
from account_credit.kernel.ids import iso, new_id, utc_now
from account_credit.kernel.money import Money
from account_credit.platform import idempotency
from account_credit.platform.commit import commit
from account_credit.platform.config import seller
from account_credit.platform.config import settings as platform_settings
from account_credit.platform.events import DomainEvent, EventType, announce_once
from account_credit.platform.retry import retry
from account_credit.platform.store import CommitResult, Record, RecordUpdate, Store, UnitOfWork, keys
from account_credit.purchase_orders import schemas

SCOPE = "purchase-order"


def _load(store: Store, account_id: str, po_id: str) -> dict[str, Any]:
    item = store.get_item(*keys.purchase_order(account_id, po_id))
    if item is None:
        raise NotFound(f"purchase order {po_id} not found")
    return item


def _deposit(store: Store, po: dict[str, Any]) -> Deposit | None:
    item = store.get_item(*keys.deposit(po["account_id"], po["deposit_id"])) if po.get("deposit_id") else None
    return Deposit.from_item(item) if item else None


def view(store: Store, po: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    today = today or utc_now().date()
    deposit = _deposit(store, po)
    paid = deposit.credited_amount if deposit else 0
    state = str(po["state"])
    status: str = state if state in ("submitted", "rejected", "cancelled") else "unpaid"
    if deposit is not None and state in ("approved", "paid"):
        status = proforma_status(deposit)
        if status in ("unpaid", "partly_paid") and po.get("due_date") and str(po["due_date"]) < today.isoformat():
            status = "overdue"
    transfers = list(deposit.transfers) if deposit else []
    entries: dict[str, str] = {}
    if transfers:
        page = store.list_entries(
            po["account_id"], since=None, until=None, entry_type="deposit_bank_transfer", cursor=None, limit=200
        )
        entries = {e.reference.get("transfer_id", ""): e.entry_id for e in page.items}
    return schemas.PurchaseOrderView(
        po_id=po["po_id"],
        account_id=po["account_id"],
        po_number=po["po_number"],
        amount=int(po["amount"]),
        currency=po["currency"],
        note=po.get("note"),
        billing_contact=po.get("billing_contact"),
        state=state,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        invoice_number=po.get("invoice_number"),
        due_date=po.get("due_date"),
        paid=paid,
        outstanding=max(0, int(po["amount"]) - paid),
        payments=[
            schemas.Payment(
                transfer_id=str(t["transfer_id"]),
                amount=int(t["amount"]),
                booked_date=t.get("booked_date"),
                entry_id=entries.get(str(t["transfer_id"])),
            )
            for t in transfers
        ],
        reason=po.get("reason"),
        created_at=po["created_at"],
        decided_at=po.get("decided_at"),
        actor=po["actor"],
    ).model_dump(mode="json")


def submit(
    store: Store, account_id: str, req: schemas.PurchaseOrderCreate, idempotency_key: str, actor: str
) -> CommitResult:
    """A submitted purchase order (and ``po.submitted`` for the operators), once per key and per PO number."""
    account = store.known_account(account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    if req.currency is not None and req.currency != account.currency:
        raise CurrencyMismatchError(
            f"account {account_id} is in {account.currency}, not {req.currency}", field="currency"
        )
    claim = idempotency.claim(account_id, SCOPE, idempotency_key, req.model_dump(mode="json"))
    now = iso(utc_now())
    po_id = new_id("po")
    po = {
        "kind": "purchase_order",
        "po_id": po_id,
        "account_id": account_id,
        "po_number": req.po_number,
        "amount": req.amount,
        "currency": account.currency,
        "note": req.note,
        "billing_contact": req.billing_contact.model_dump() if req.billing_contact else None,
        "state": "submitted",
        "created_at": now,
        "actor": actor,
        "gsi1pk": keys.purchase_orders_in("submitted"),
        "gsi1sk": f"{now}#{account_id}#{po_id}",
    }
    uow = store.unit_of_work()
    uow.put(Record(*keys.purchase_order(account_id, po_id), attrs=plain(po)))
    uow.put(
        Record(
            *keys.purchase_order_number(account_id, req.po_number),
            attrs={"kind": "po_number", "po_id": po_id},
            on_exists=lambda old: Conflict(
                f"purchase order number {req.po_number!r} was submitted before ({old.get('po_id')})", field="po_number"
            ),
        )
    )
    uow.emit(
        DomainEvent(
            account_id=account_id,
            type=EventType.PO_SUBMITTED,
            payload={"po_id": po_id, "po_number": req.po_number, "amount": req.amount, "currency": account.currency},
        )
    )
    return commit(uow, claim, lambda _p: view(store, {**po, "state": "submitted"}))


def approve(store: Store, account_id: str, po_id: str, actor: str) -> dict[str, Any]:
    """Issue the order's invoice (a proforma with the PO number, due after the payment terms): approved, once."""
    po = _load(store, account_id, po_id)
    if po["state"] != "submitted":
        raise Conflict(f"purchase order {po['po_number']} is {po['state']}, not submitted", field="state")
    account = store.get_account(account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    now = iso(utc_now())

    def writes(uow: UnitOfWork, number: str, deposit_id: str, due_date: str) -> None:
        uow.update(
            RecordUpdate(
                *keys.purchase_order(account_id, po_id),
                changes={
                    "state": "approved",
                    "deposit_id": deposit_id,
                    "invoice_number": number,
                    "due_date": due_date,
                    "decided_at": now,
                    "decided_by": actor,
                    "gsi1pk": keys.purchase_orders_in("approved"),
                    "gsi1sk": f"{due_date}#{account_id}#{po_id}",
                },
                expect={"state": "submitted"},
                on_mismatch=lambda _old: Conflict(f"purchase order {po['po_number']} is no longer submitted"),
            )
        )
        uow.emit(
            DomainEvent(
                account_id=account_id,
                type=EventType.PO_APPROVED,
                payload={"po_id": po_id, "po_number": po["po_number"], "number": number, "due_date": due_date},
            )
        )

    claim = idempotency.claim(account_id, "po-approve", po_id, {"po_id": po_id})
    link = ForPurchaseOrder(po["po_number"], seller().po_payment_terms_days, writes)
    issue_proforma(store, account, Money(int(po["amount"]), po["currency"]), claim, actor=actor, purchase_order=link)
    return view(store, _load(store, account_id, po_id))


def reject(store: Store, account_id: str, po_id: str, reason: str, actor: str) -> dict[str, Any]:
    """A submitted order refused with a reason (emailed); nothing was issued or credited."""
    po = _load(store, account_id, po_id)
    now = iso(utc_now())
    uow = store.unit_of_work()
    uow.update(
        RecordUpdate(
            *keys.purchase_order(account_id, po_id),
            changes={
                "state": "rejected",
                "reason": reason,
                "decided_at": now,
                "decided_by": actor,
                "gsi1pk": keys.purchase_orders_in("rejected"),
            },
            expect={"state": "submitted"},
            on_mismatch=lambda old: Conflict(
                f"purchase order {po['po_number']} is {(old or {}).get('state', po['state'])}, not submitted",
                field="state",
            ),
        )
    )
    uow.emit(
        DomainEvent(
            account_id=account_id,
            type=EventType.PO_REJECTED,
            payload={"po_id": po_id, "po_number": po["po_number"], "reason": reason},
        )
    )
    commit(uow, None, lambda _p: {})
    return view(store, _load(store, account_id, po_id))


def cancel(store: Store, account_id: str, po_id: str, reason: str, actor: str) -> dict[str, Any]:
    """An approved order's invoice cancelled (not fully paid): transfers are no longer matched to it; what was
    paid stays credited (nothing to reverse)."""

    def attempt() -> None:
        po = _load(store, account_id, po_id)
        if po["state"] != "approved":
            raise Conflict(f"purchase order {po['po_number']} is {po['state']}, not approved", field="state")
        deposit = _deposit(store, po)
        if deposit is None or deposit.state not in OPEN_PROFORMA:
            raise Conflict(f"the invoice of purchase order {po['po_number']} is paid: nothing to cancel")
        now = iso(utc_now())
        uow = store.unit_of_work()
        uow.update(deposit_update(deposit, {"state": DepositState.CANCELLED}, now))
        uow.update(
            RecordUpdate(
                *keys.purchase_order(account_id, po_id),
                changes={
                    "state": "cancelled",
                    "reason": reason,
                    "cancelled_at": now,
                    "cancelled_by": actor,
                    "gsi1pk": keys.purchase_orders_in("cancelled"),
                },
                expect={"state": "approved"},
                on_mismatch=lambda _old: Conflict(f"purchase order {po['po_number']} is no longer approved"),
            )
        )
        uow.emit(
            DomainEvent(
                account_id=account_id,
                type=EventType.PO_CANCELLED,
                payload={
                    "po_id": po_id,
                    "po_number": po["po_number"],
                    "number": po.get("invoice_number"),
                    "reason": reason,
                    "paid": deposit.credited_amount,
                    "currency": po["currency"],
                },
            )
        )
        commit(uow, None, lambda _p: {})

    retry(
        attempt,
        on=(StaleDeposit,),
        attempts=platform_settings().max_write_attempts,
        exhausted=Conflict("the invoice kept changing (payments arriving); retry"),
    )
    return view(store, _load(store, account_id, po_id))


def get(store: Store, account_id: str, po_id: str) -> dict[str, Any]:
    return view(store, _load(store, account_id, po_id))


def list_for(store: Store, account_id: str) -> dict[str, Any]:
    rows = store.query_prefix(*keys.purchase_orders_prefix(account_id), limit=1000, newest_first=True)
    return {"items": [view(store, r) for r in rows], "next_cursor": None}


def queue(store: Store, state: str, cursor: str | None, limit: int) -> dict[str, Any]:
    """The operators' queue: every account's purchase orders in ``state``, oldest first (approved: by due date)."""
    rows, nxt = store.index_page(keys.purchase_orders_in(state), cursor=cursor, limit=limit)
    return {"items": [view(store, r) for r in rows], "next_cursor": nxt}


def remind(store: Store, today: date) -> dict[str, Any]:
    """Approved orders past due: the highest reminder stage reached, announced once (``po.overdue``); orders whose
    invoice is paid leave the approved queue (state ``paid``)."""
    stages = seller().po_reminder_days
    sent = closed = 0
    cursor = None
    while True:
        rows, cursor = store.index_page(
            keys.purchase_orders_in("approved"), until=f"{today.isoformat()}#~", cursor=cursor, limit=100
        )
        for po in rows:
            deposit = _deposit(store, po)
            if deposit is None or deposit.state not in OPEN_PROFORMA:
                state = "paid" if deposit is not None and deposit.state == DepositState.CREDITED else "approved"
                if state == "paid":
                    with contextlib.suppress(DomainError):
                        store.update_record(
                            RecordUpdate(
                                *keys.purchase_order(po["account_id"], po["po_id"]),
                                changes={"state": "paid", "gsi1pk": keys.purchase_orders_in("paid")},
                                expect={"state": "approved"},
                            )
                        )
                        closed += 1
                continue
            late = (today - date.fromisoformat(str(po["due_date"]))).days
            reached = [s for s in stages if late >= s]
            if not reached:
                continue
            stage = reached[-1]
            sent += announce_once(
                store,
                keys.purchase_order_reminder(po["account_id"], po["po_id"], stage),
                {"kind": "po_reminder", "stage": stage, "sent_on": today.isoformat()},
                DomainEvent(
                    account_id=po["account_id"],
                    type=EventType.PO_OVERDUE,
                    payload={
                        "po_id": po["po_id"],
                        "po_number": po["po_number"],
                        "number": po.get("invoice_number"),
                        "due_date": po.get("due_date"),
                        "days": late,
                        "stage": stage,
                        "due": int(po["amount"]) - deposit.credited_amount,
                        "currency": po["currency"],
                        "payment_reference": deposit.payment_reference,
                    },
                ),
            )
        if cursor is None:
            break
    return {"reminders": sent, "paid": closed}
