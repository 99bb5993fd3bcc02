"""Proforma invoices for bank-transfer top-ups, numbered without gaps.

Proforma numbers ``PF-<year>-<n:06d>``: one counter item per year (``keys.proforma_counter``), taken by
``platform/numbering.py`` like every billing document's.
The number is taken in the same transaction that writes the proforma (counter ``SET value = n``
conditioned on ``value = n - 1``, and the number's own must-not-exist item ``keys.proforma_number``),
so the series has no gaps: a number exists only if its proforma was committed. Contention retries
with the next number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from account_credit.bank.references import allocate_reference
from account_credit.billing.builders import payment_request
from account_credit.billing.issuing import records_of
from account_credit.billing.service import context
from account_credit.deposits.config import deposit_settings
from account_credit.deposits.records import plain, view
from account_credit.deposits.state import Deposit, DepositState, Method
from account_credit.kernel.domain import Account
from account_credit.kernel.errors import NotConfigured
from account_credit.kernel.ids import iso, new_id, utc_now
from account_credit.kernel.money import Money
from account_credit.platform import numbering
from account_credit.platform.commit import commit
from account_credit.platform.events import DomainEvent, EventType
from account_credit.platform.store import CommitResult, IdempotencyClaim, Posting, Record, Store, UnitOfWork, keys


def ensure_reference(store: Store, account: Account) -> str:
    """The account's reference; accounts opened before references existed get one now."""
    if account.payment_reference:
        return account.payment_reference
    reference = allocate_reference(store, account.account_id)
    store.update_account(account.account_id, {"payment_reference": reference})
    return reference


@dataclass(frozen=True)
class ForPurchaseOrder:
    """A proforma that is a purchase order's invoice: its due date follows the payment terms, it carries the
    customer's PO number, and ``writes(uow, number, deposit_id, due_date)`` adds the purchase order's own changes
    to the same transaction. Its email is the purchase order's (with the PDF), not the proforma's."""

    po_number: str
    due_days: int
    writes: Callable[[UnitOfWork, str, str, str], None]


def issue_proforma(
    store: Store,
    account: Account,
    amount: Money,
    claim: IdempotencyClaim,
    *,
    actor: str,
    purchase_order: ForPurchaseOrder | None = None,
) -> CommitResult:
    """A pending bank-transfer deposit with its proforma invoice (next number of the series)."""
    cfg = deposit_settings()
    seller = cfg.seller()
    if not seller["name"] or not seller["iban"]:
        raise NotConfigured("the seller's bank details (SELLER_NAME, SELLER_IBAN) are not configured")
    reference = ensure_reference(store, account)
    deposit_id = new_id("dep")

    def attempt() -> CommitResult:
        issued = utc_now()
        uow = store.unit_of_work()
        # The number, and the item that reserves it (another proforma taking it first: NumberTaken, try again)
        _n, number = numbering.take(
            store,
            uow,
            "PROFORMA",
            issued.year,
            {"kind": "proforma", "account_id": account.account_id, "deposit_id": deposit_id},
        )
        now = iso(issued)
        due_days = purchase_order.due_days if purchase_order else cfg.proforma_due_days
        due_date = (issued + timedelta(days=due_days)).date().isoformat()
        proforma = {
            "number": number,
            "issued_at": now,
            "due_date": due_date,
            "amount": amount.amount,
            "currency": amount.currency,
            "payment_reference": reference,
            "purchase_order": purchase_order.po_number if purchase_order else None,
            "seller": seller,
            "buyer": {
                "account_id": account.account_id,
                "company": {k: v for k, v in vars(account.company).items() if v is not None},
                "billing_emails": list(account.billing_emails),
            },
        }
        deposit = Deposit(
            deposit_id=deposit_id,
            account_id=account.account_id,
            method=Method.BANK_TRANSFER,
            currency=amount.currency,
            amount=amount.amount,
            state=DepositState.PENDING,
            created_at=now,
            updated_at=now,
            actor=actor,
            payment_reference=reference,
            proforma=proforma,
        )
        uow.put(Record(*keys.deposit(account.account_id, deposit_id), attrs=plain(deposit.attrs())))
        # The proforma as a document too (PDF, listed with the account's documents), written with it.
        request = payment_request(
            context(replace(account, payment_reference=reference), issued.date()),
            number,
            deposit_id,
            amount.amount,
            due_date,
            now,
        )
        if purchase_order is not None:
            request = replace(request, order_reference=purchase_order.po_number)
            purchase_order.writes(uow, number, deposit_id, due_date)
        for record in records_of(request, f"payment_request#{deposit_id}"):
            uow.put(record)
        if purchase_order is None:
            uow.emit(
                DomainEvent(
                    account_id=account.account_id,
                    type=EventType.PROFORMA_ISSUED,
                    payload={
                        "deposit_id": deposit_id,
                        "number": number,
                        "amount": amount.amount,
                        "currency": amount.currency,
                        "payment_reference": reference,
                        "due_date": proforma["due_date"],
                        # what the email needs to pay it: the seller's bank details
                        "seller_name": seller["name"],
                        "iban": seller["iban"],
                        "bic": seller["bic"],
                        "bank_name": seller["bank_name"],
                    },
                )
            )

        def respond(_posting: Posting) -> dict[str, Any]:
            return {**view(deposit), "checkout": None}

        return commit(uow, claim, respond)

    # Another proforma took the number: try the next one.
    return numbering.retry_numbered(attempt, "proformas")
