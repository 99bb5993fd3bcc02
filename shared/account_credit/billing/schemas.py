"""Bodies of the documents API (pydantic). The OpenAPI document is generated from these."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from account_credit.accounts.schemas import Strict
from account_credit.platform.http.model import Model

DocumentKind = Literal["tax_document", "statement", "credit_invoice", "card_invoice", "credit_note", "payment_request"]
Month = Annotated[str, StringConstraints(pattern=r"^2[0-9]{3}-(0[1-9]|1[0-2])$")]
Day = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


class PartyView(Model):
    name: str
    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    vat_id: str | None = None
    company_id: str | None = None
    endpoint: str | None = Field(default=None, description="Peppol electronic address, <EAS scheme>:<id>")
    email: str | None = None
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None


class LineView(Model):
    description: str
    quantity: int
    net: int
    vat: int
    gross: int
    product_code: str | None = None
    order_id: str | None = None
    order_date: str | None = None
    entry_id: str | None = Field(default=None, description="The ledger entry this line comes from")


class VatBreakdown(Model):
    category: Literal["S", "AE", "O"] = Field(description="UNCL 5305: standard, reverse charge, not subject to VAT")
    rate_bp: int = Field(description="Basis points: 2300 = 23 %")
    taxable: int
    vat: int
    exemption_code: str | None = None
    exemption_reason: str | None = None


class Totals(Model):
    net: int
    vat: int
    gross: int
    prepaid: int = Field(description="Paid already: prepayment deducted, card payment, transfers received")
    payable: int = Field(description="Due (0 when paid)")


class PaymentView(Model):
    entry_id: str = Field(description="The top-up that paid it")
    amount: int
    received_at: str


class DocumentSummary(Model):
    number: str = Field(
        description="<series>-<year>-<n>: TD tax documents, ST statements, CI credit invoices, "
        "IN card invoices, CN credit notes; numbered without gaps per series and year"
    )
    kind: DocumentKind
    type_code: Literal["325", "380", "381", "386"] = Field(
        description="UNTDID 1001: 380 invoice, 381 credit note, 386 prepayment invoice"
    )
    currency: str
    issue_date: str
    due_date: str | None
    period_start: str | None
    period_end: str | None
    totals: Totals
    status: Literal["paid", "due", "overdue"] = Field(description="Credit invoices: due until paid; others: paid")
    corrects: str | None = Field(description="A credit note: the number of the document it corrects")


class DocumentView(DocumentSummary):
    account_id: str
    language: str
    issued_at: str
    seller: PartyView
    buyer: PartyView
    lines: list[LineView]
    vat_breakdown: list[VatBreakdown]
    payment_reference: str | None = Field(description="Quote it with a bank transfer that pays this document")
    payment_means: str = Field(description="UNCL 4461: 30 credit transfer, 48 card, 97 clearing (prepayment)")
    deposit_id: str | None
    movements: list[str] = Field(description="The ledger entries this document covers (see the transactions list)")
    payments: list[PaymentView] = Field(description="Payments received for a credit invoice")
    notes: list[str]
    links: dict[str, str] = Field(description="Where the archived PDF and UBL XML are")


class DocumentPage(Model):
    items: list[DocumentSummary]
    next_cursor: str | None


class BillingRunRequest(Strict):
    model_config = ConfigDict(extra="forbid", strict=True)

    month: Month = Field(description="The month to issue documents for (YYYY-MM); it must be over")


class BillingRunResult(Model):
    account_id: str
    month: str
    issued: list[str] = Field(description="Numbers issued by this run")
    existing: list[str] = Field(description="Numbers an earlier run had issued (a rerun issues nothing twice)")
