"""Bodies of the purchase-orders API (pydantic). The OpenAPI document is generated from these."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, StringConstraints

from account_credit.accounts.schemas import CurrencyCode, Email, Strict, trimmed_text
from account_credit.platform.http.model import Model

if TYPE_CHECKING:
    Reason = str
    Note = str
    Name = str
else:
    Reason = trimmed_text(3, 500, multiline=True)
    Note = trimmed_text(1, 1000, multiline=True)
    Name = trimmed_text(1, 200)

PoNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/#-]{0,63}$")]
State = Literal["submitted", "approved", "rejected", "cancelled", "paid"]
Status = Literal["submitted", "unpaid", "partly_paid", "paid", "overpaid", "overdue", "rejected", "cancelled"]


class BillingContact(Strict):
    name: Name
    email: Email


class PurchaseOrderCreate(Strict):
    po_number: PoNumber = Field(
        description="Your own purchase order number: unique per account, printed on the invoice"
    )
    amount: int = Field(gt=0, le=10**13, description="Minor units of the account's currency")
    currency: CurrencyCode | None = Field(default=None, description="If given, must equal the account's currency")
    note: Note | None = None
    billing_contact: BillingContact | None = None


class Decision(Strict):
    reason: Reason = Field(description="Why (emailed to the account's billing addresses)")


class Payment(Model):
    transfer_id: str
    amount: int
    booked_date: str | None = None
    entry_id: str | None = Field(default=None, description="The ledger entry that credited it")


class PurchaseOrderView(Model):
    po_id: str
    account_id: str
    po_number: str
    amount: int
    currency: str
    note: str | None = None
    billing_contact: BillingContact | None = None
    state: State = Field(description="submitted -> approved (invoice issued) -> paid, or rejected / cancelled")
    status: Status = Field(
        description="For an approved order, its invoice: unpaid, partly_paid, paid, overpaid, "
        "overdue (past due, not fully paid)"
    )
    invoice_number: str | None = Field(default=None, description="The payment request (proforma) issued on approval")
    due_date: str | None = None
    paid: int = Field(description="Received so far (credited to the balance as it arrived)")
    outstanding: int = Field(description="amount - paid, not below 0")
    payments: list[Payment]
    reason: str | None = Field(default=None, description="Why it was rejected or cancelled")
    created_at: str
    decided_at: str | None = None
    actor: str


class PurchaseOrderPage(Model):
    items: list[PurchaseOrderView]
    next_cursor: str | None
