"""A billing document as issued: what the JSON view, the UBL e-invoice and the PDF all render. Pure data.

Issued once (``billing/issuing.py``) and never changed: the stored item is ``Document.as_dict()``; renderers take a
``Document`` and need nothing else (no store, no configuration), so the XML and PDF of a document are functions of
what was issued.

Kinds (series prefix, UNTDID 1001 type code):

* ``tax_document``   TD, 386 prepayment invoice: a payment received (top-up), VAT broken out;
* ``statement``      ST, 380: what one top-up paid for in a month, the prepayment deducted, nothing due;
* ``credit_invoice`` CI, 380: draws no top-up covered (credit used), amount due by bank transfer;
* ``card_invoice``   IN, 380: an order paid by card, paid;
* ``credit_note``    CN, 381: corrects an earlier document (``corrects``);
* ``payment_request`` PF, 325 proforma: a bank top-up or a purchase order's invoice asked for (numbered with the
  proforma, not a tax document). A top-up's is a PDF only; a purchase order's also goes out as UBL, as a 386.

Amounts are integer minor units of ``currency``; every total is computed here (``Totals``), once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from account_credit.billing.tax import Treatment


class Kind(StrEnum):
    TAX_DOCUMENT = "tax_document"
    STATEMENT = "statement"
    CREDIT_INVOICE = "credit_invoice"
    CARD_INVOICE = "card_invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT_REQUEST = "payment_request"


SERIES = {
    Kind.TAX_DOCUMENT: "TD",
    Kind.STATEMENT: "ST",
    Kind.CREDIT_INVOICE: "CI",
    Kind.CARD_INVOICE: "IN",
    Kind.CREDIT_NOTE: "CN",
    Kind.PAYMENT_REQUEST: "PF",
}
TYPE_CODE = {
    Kind.TAX_DOCUMENT: "386",
    Kind.STATEMENT: "380",
    Kind.CREDIT_INVOICE: "380",
    Kind.CARD_INVOICE: "380",
    Kind.CREDIT_NOTE: "381",
    Kind.PAYMENT_REQUEST: "325",
}
# UNCL 4461 payment means: 30 credit transfer, 48 bank card, 97 clearing between partners (prepayment deducted).
MEANS_TRANSFER, MEANS_CARD, MEANS_CLEARING = "30", "48", "97"


@dataclass(frozen=True)
class Party:
    """Seller or buyer as printed and as an e-invoice party."""

    name: str
    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None  # ISO 3166 alpha-2
    vat_id: str | None = None
    company_id: str | None = None
    endpoint: str | None = None  # Peppol electronic address "<EAS scheme>:<id>", e.g. "9950:SK2020273893"
    email: str | None = None
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Party:
        fields: dict[str, Any] = {k: raw.get(k) for k in cls.__dataclass_fields__}
        return cls(**fields)


@dataclass(frozen=True)
class Line:
    """One line: ``quantity`` of something for ``net`` (+ ``vat`` = ``gross``). A part of an order drawn from one
    top-up is a line with that part's net and VAT (``share``); the unit price is ``net / quantity`` (the e-invoice
    states it as a price for a base quantity of ``quantity``, so it never needs a fraction of a cent)."""

    description: str
    quantity: int
    net: int
    vat: int
    product_code: str | None = None
    order_id: str | None = None
    order_date: str | None = None  # YYYY-MM-DD
    entry_id: str | None = None  # the ledger entry it comes from

    @property
    def gross(self) -> int:
        return self.net + self.vat

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "gross": self.gross}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Line:
        fields: dict[str, Any] = {k: raw.get(k) for k in cls.__dataclass_fields__}
        return cls(**fields)


@dataclass(frozen=True)
class Totals:
    net: int
    vat: int
    gross: int
    prepaid: int  # already paid (prepayment deducted, card payment, transfers received)
    payable: int  # still due

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass(frozen=True)
class Document:
    number: str  # "<series>-<year>-<n:06d>"
    kind: Kind
    account_id: str
    currency: str
    language: str  # en | sk
    issue_date: str  # YYYY-MM-DD
    seller: Party
    buyer: Party
    treatment: Treatment
    lines: tuple[Line, ...]
    prepaid: int
    due_date: str | None = None
    period_start: str | None = None  # YYYY-MM-DD (statements and credit invoices: the month)
    period_end: str | None = None
    payment_reference: str | None = None  # what a bank transfer paying it quotes
    means: str = MEANS_CLEARING
    order_reference: str | None = None  # the buyer's purchase order number (BT-13), when it has one
    corrects: str | None = None  # credit note: the number of the document it corrects
    corrects_date: str | None = None
    deposit_id: str | None = None  # tax documents and statements: the top-up
    movements: tuple[str, ...] = ()  # ledger entry ids it covers
    notes: tuple[str, ...] = ()
    issued_at: str = ""

    @property
    def type_code(self) -> str:
        return TYPE_CODE[self.kind]

    @property
    def einvoice_type_code(self) -> str:
        """The type code of its e-invoice: Peppol BIS 3.0 has no proforma (325), so a payment request that goes
        out as UBL (a purchase order's invoice) is a prepayment invoice (386) asking for the amount."""
        return "386" if self.kind == Kind.PAYMENT_REQUEST else self.type_code

    @property
    def totals(self) -> Totals:
        net = sum(line.net for line in self.lines)
        vat = sum(line.vat for line in self.lines)
        return Totals(net=net, vat=vat, gross=net + vat, prepaid=self.prepaid, payable=net + vat - self.prepaid)

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": str(self.kind),
            "type_code": self.type_code,
            "account_id": self.account_id,
            "currency": self.currency,
            "language": self.language,
            "issue_date": self.issue_date,
            "issued_at": self.issued_at,
            "due_date": self.due_date,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "seller": self.seller.as_dict(),
            "buyer": self.buyer.as_dict(),
            "treatment": self.treatment.as_dict(),
            "lines": [line.as_dict() for line in self.lines],
            "totals": self.totals.as_dict(),
            "payment_reference": self.payment_reference,
            "means": self.means,
            "order_reference": self.order_reference,
            "corrects": self.corrects,
            "corrects_date": self.corrects_date,
            "deposit_id": self.deposit_id,
            "movements": list(self.movements),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Document:
        return cls(
            number=raw["number"],
            kind=Kind(raw["kind"]),
            account_id=raw["account_id"],
            currency=raw["currency"],
            language=raw.get("language") or "en",
            issue_date=raw["issue_date"],
            issued_at=raw.get("issued_at") or "",
            seller=Party.from_dict(raw["seller"]),
            buyer=Party.from_dict(raw["buyer"]),
            treatment=Treatment.from_dict(raw["treatment"]),
            lines=tuple(Line.from_dict({k: _int(k, v) for k, v in line.items()}) for line in raw["lines"]),
            prepaid=int(raw["totals"]["prepaid"]),
            due_date=raw.get("due_date"),
            period_start=raw.get("period_start"),
            period_end=raw.get("period_end"),
            payment_reference=raw.get("payment_reference"),
            means=raw.get("means") or MEANS_CLEARING,
            order_reference=raw.get("order_reference"),
            corrects=raw.get("corrects"),
            corrects_date=raw.get("corrects_date"),
            deposit_id=raw.get("deposit_id"),
            movements=tuple(raw.get("movements") or ()),
            notes=tuple(raw.get("notes") or ()),
        )

    def numbered(self, number: str, issued_at: str) -> Document:
        return replace(self, number=number, issued_at=issued_at)


def _int(key: str, value: Any) -> Any:
    """DynamoDB hands numbers back as Decimal: the amounts of a line are ints again."""
    return int(value) if key in ("quantity", "net", "vat") and value is not None else value
