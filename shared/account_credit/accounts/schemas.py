"""Request and response bodies of the HTTP API (pydantic). The OpenAPI document is generated from these."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from account_credit.accounts.commands import Adjust
from account_credit.kernel.money import currencies, is_currency
from account_credit.platform.http.model import Model

Language = Literal["en", "sk"]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
# Free text is trimmed, must not be blank, and its limits apply to the trimmed text; the OpenAPI document states
# exactly that as a pattern. No control characters (they would end up in email headers and PDFs); C1 controls
# and the BOM are refused too, since JSON Schema's and the validator's ideas of "whitespace" differ on them.
_C0_C1 = "\\x00-\\x1f\\x7f-\\x9f\\ufeff"
_C0_C1_BUT_NEWLINES = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ufeff"


def trimmed_text(min_length: int, max_length: int, multiline: bool = False) -> Any:
    """A string type: surrounding whitespace is dropped, then min_length..max_length characters remain."""
    bad = _C0_C1_BUT_NEWLINES if multiline else _C0_C1
    inner = f"[^{bad}]{{{max(min_length - 2, 0)},{max_length - 2}}}"
    pattern = (
        rf"^\s*[^\s{bad}](?:{inner}[^\s{bad}])?\s*$" if min_length <= 1 else rf"^\s*[^\s{bad}]{inner}[^\s{bad}]\s*$"
    )
    forbidden = re.compile(f"[{bad}]")

    def check(value: str) -> str:
        if not min_length <= len(value) <= max_length:
            raise ValueError(f"must be {min_length} to {max_length} characters (not counting surrounding spaces)")
        if forbidden.search(value):
            raise ValueError("must not contain control characters" + ("" if multiline else " or line breaks"))
        return value

    return Annotated[
        str,
        StringConstraints(strip_whitespace=True),
        AfterValidator(check),
        Field(json_schema_extra={"pattern": pattern}),
    ]


if TYPE_CHECKING:  # to a type checker they are strings
    Text = str
    Reason = str
    PostalCode = str
else:
    Text = trimmed_text(1, 200)
    Reason = trimmed_text(3, 500, multiline=True)
    PostalCode = trimmed_text(1, 20)
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


def _supported_currency(v: str) -> str:
    if not is_currency(v):
        raise ValueError(f"{v!r} is not a supported ISO 4217 currency code")
    return v


CurrencyCode = Annotated[
    str, AfterValidator(_supported_currency), Field(json_schema_extra={"enum": currencies()}, examples=["EUR"])
]
IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,255}$")]


def _integral(value: Any) -> Any:
    """JSON Schema's integer: 2500 and 2500.0 are the same number; 2500.5, "2500" and true are not integers."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


class Strict(Model):
    """A request body: unknown fields are refused and nothing is coerced. Money and counts must be JSON
    integers (not "10", not true, not 10.5), flags JSON booleans (not "yes", not 0), text JSON strings."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _json_integers(cls, data: Any) -> Any:
        return _integral(data)


class Company(Strict):
    name: Text
    address_line1: Text | None = None
    address_line2: Text | None = None
    address_line3: Text | None = None
    city: Text | None = None
    postal_code: PostalCode | None = None
    state: Text | None = None
    country: Country | None = Field(default=None, description="ISO 3166-1 alpha-2")


class CompanyPatch(Strict):
    name: Text | SkipJsonSchema[None] = Field(default=None, description="Cannot be removed (null is refused)")
    address_line1: Text | None = None
    address_line2: Text | None = None
    address_line3: Text | None = None
    city: Text | None = None
    postal_code: PostalCode | None = None
    state: Text | None = None
    country: Country | None = None

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, v: str | None) -> str:
        if v is None:
            raise ValueError("company name cannot be removed")
        return v


class TaxDetails(Strict):
    """The account holder's VAT data: who is the buyer on the account's documents, and how they are taxed."""

    country: Country = Field(description="ISO 3166-1 alpha-2 of the buyer's establishment")
    vat_id: Annotated[str, StringConstraints(min_length=4, max_length=20)] | None = Field(
        default=None,
        description="EU VAT number with its country prefix (SK2020273893; Greece EL...); checked with its check digits "
        "and against `country`, stored in compact form. With one, a buyer in another EU state is reverse-charged.",
    )
    company_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 ./-]{1,40}$")] | None = Field(
        default=None, description="Company registration number (e.g. the Slovak ICO)"
    )
    peppol_endpoint: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}:[\x21-\x7e]{1,100}$")] | None = Field(
        default=None, description="Peppol electronic address, <EAS scheme>:<id>, e.g. 9950:SK2020273893"
    )

    @field_validator("vat_id")
    @classmethod
    def _valid_vat_id(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None:
            return None
        from account_credit.kernel.taxid import check_vat_id

        return check_vat_id(v, info.data.get("country"))


class TaxView(Model):
    country: str | None = None
    vat_id: str | None = None
    company_id: str | None = None
    peppol_endpoint: str | None = None


class AccountCreate(Strict):
    currency: CurrencyCode = Field(description="ISO 4217 code, fixed for the life of the account")
    company: Company
    billing_emails: list[Email] = Field(min_length=1, max_length=10)
    partner_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = Field(
        default=None, description="Managing partner; a partner caller always opens accounts for itself"
    )
    language: Language = Field(default="en", description="Language of the account's emails")


class AccountPatch(Strict):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"minProperties": 1})

    company: CompanyPatch | None = None
    billing_emails: list[Email] | None = Field(default=None, min_length=1, max_length=10)
    language: Language | None = None
    tax: TaxDetails | None = Field(
        default=None, description="The buyer's VAT data on documents (replaced whole; null removes it)"
    )

    @model_validator(mode="after")
    def _something(self) -> AccountPatch:
        if not self.model_fields_set:
            raise ValueError("nothing to change: give company, billing_emails, language and/or tax")
        return self


class Settings(Strict):
    """Payment settings. Which payment method pays (the default and the alternate) is set with the account's
    payment methods (``PUT /accounts/{account_id}/payment-methods/preferences``), not here."""

    bill_to_balance: bool = Field(description="Pay orders from the account balance")
    cards_enabled: bool = Field(description="Allow card (and gift card) payments")
    low_balance_threshold: int | None = Field(
        default=None, ge=0, le=10**13, description="Minor units; email when the balance falls below it. null = no alert"
    )


class CreditLimit(Strict):
    credit_limit: int = Field(ge=0, le=10**13, description="Minor units of the account's currency")


class Adjustment(Strict):
    type: Literal["credit", "debit"]
    amount: int = Field(gt=0, le=10**13, description="Minor units, positive; `type` gives the direction")
    reason: Reason
    currency: CurrencyCode | None = Field(default=None, description="If given, must equal the account's currency")

    def command(self, account_id: str, idempotency_key: str, actor: str) -> Adjust:
        """The domain command this request asks for, on behalf of ``actor``."""
        return Adjust(
            account_id=account_id,
            direction=self.type,
            amount=self.amount,
            reason=self.reason,
            idempotency_key=idempotency_key,
            actor=actor,
            currency=self.currency,
        )


class AccountView(Model):
    account_id: str
    currency: str
    company: Company
    billing_emails: list[str]
    partner_id: str | None
    settings: Settings
    balance: int
    credit_limit: int
    held: int = Field(
        default=0,
        description="Part of the balance reserved for renewals due soon (holds): orders cannot spend it",
    )
    available: int = Field(
        description="balance - held + credit_limit: what orders can spend now including credit (available to spend)"
    )
    payment_reference: str | None = Field(
        default=None, description="Give it with every bank transfer (variable symbol); it has a check digit"
    )
    created_at: str
    updated_at: str
    language: str
    tax: TaxView = Field(description="The buyer's VAT data on documents; all null for a consumer")


_PLACED = (
    "Filled in by the ledger sequencer from the table's stream, normally within a second of the commit; null until "
    "then (movements on one account commute, so an entry's place is the order the database applied them in)."
)


class Entry(Model):
    entry_id: str
    account_id: str
    seq: int | None = Field(description="The entry's place in the account's commit order (1, 2, ...). " + _PLACED)
    type: str
    amount: int = Field(description="Signed minor units: positive credits, negative debits")
    currency: str
    balance_after: int | None = Field(description="The exact balance right after this entry. " + _PLACED)
    created_at: str
    description: str
    actor: str
    reference: dict[str, str]
    documents: list[str] = Field(
        default_factory=list, description="Numbers of the billing documents this movement appears on"
    )


class AdjustmentResult(Model):
    entry: Entry = Field(description="The entry as written (seq and balance_after are placed right after)")


class EntryPage(Model):
    items: list[Entry]
    next_cursor: str | None


# --------------------------------------------------------------------------- the directory (GET /accounts)

PartnerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class AccountSummary(Model):
    """An account as the directory lists it (the full account: ``GET /accounts/{account_id}``)."""

    account_id: str
    company_name: str
    vat_id: str | None
    payment_reference: str | None
    currency: str
    partner_id: str | None


class AccountList(Model):
    """One page of the directory, by company name; ``next_cursor`` (null at the end) asks for the next."""

    items: list[AccountSummary]
    next_cursor: str | None


class PartnerChange(Strict):
    """Who manages the account from now on (``null``: no partner), and why (kept in the audit event)."""

    partner_id: PartnerId | None = Field(description="The new managing partner; null: none")
    reason: Reason
