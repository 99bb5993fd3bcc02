"""Request and response bodies of the HTTP API (pydantic). The OpenAPI document is generated from these."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from .money import is_currency

Language = Literal["en", "sk"]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
# One line of text: no control characters (they would end up in email headers and PDFs).
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,255}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Company(Strict):
    name: Text
    address_line1: Text | None = None
    address_line2: Text | None = None
    address_line3: Text | None = None
    city: Text | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] | None = None
    state: Text | None = None
    country: Country | None = Field(default=None, description="ISO 3166-1 alpha-2")


class CompanyPatch(Strict):
    name: Text | None = None
    address_line1: Text | None = None
    address_line2: Text | None = None
    address_line3: Text | None = None
    city: Text | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] | None = None
    state: Text | None = None
    country: Country | None = None

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, v: str | None) -> str:
        if v is None:
            raise ValueError("company name cannot be removed")
        return v


class AccountCreate(Strict):
    currency: str = Field(description="ISO 4217 code, fixed for the life of the account", examples=["USD"])
    company: Company
    billing_emails: list[Email] = Field(min_length=1, max_length=10)
    partner_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = Field(
        default=None, description="Managing partner; a partner caller always opens accounts for itself"
    )
    language: Language = Field(default="en", description="Language of the account's emails")

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, v: str) -> str:
        if not is_currency(v):
            raise ValueError(f"{v!r} is not a supported ISO 4217 currency code")
        return v


class AccountPatch(Strict):
    company: CompanyPatch | None = None
    billing_emails: list[Email] | None = Field(default=None, min_length=1, max_length=10)
    language: Language | None = None

    @model_validator(mode="after")
    def _something(self) -> AccountPatch:
        if not self.model_fields_set:
            raise ValueError("nothing to change: give company, billing_emails and/or language")
        return self


class Settings(Strict):
    bill_to_balance: bool = Field(description="Pay orders from the account balance")
    cards_enabled: bool = Field(description="Allow card payments")
    default_method: Literal["balance", "card"] = "balance"
    low_balance_threshold: int | None = Field(
        default=None, ge=0, description="Minor units; email when the balance falls below it. null = no alert"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.default_method == "card" and not self.cards_enabled:
            raise ValueError("default_method 'card' needs cards_enabled")
        if self.default_method == "balance" and not self.bill_to_balance:
            raise ValueError("default_method 'balance' needs bill_to_balance")
        return self


class CreditLimit(Strict):
    credit_limit: int = Field(ge=0, le=10**13, description="Minor units of the account's currency")


class Adjustment(Strict):
    type: Literal["credit", "debit"]
    amount: int = Field(gt=0, le=10**13, description="Minor units, positive; `type` gives the direction")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
    currency: str | None = Field(default=None, description="If given, must equal the account's currency")


class AccountView(BaseModel):
    account_id: str
    currency: str
    company: Company
    billing_emails: list[str]
    partner_id: str | None
    settings: Settings
    balance: int
    credit_limit: int
    available: int = Field(description="balance + credit_limit: what can be spent now including credit")
    payment_reference: str | None = Field(
        default=None, description="Give it with every bank transfer (variable symbol); it has a check digit"
    )
    created_at: str
    updated_at: str
    language: str


class Entry(BaseModel):
    entry_id: str
    account_id: str
    seq: int
    type: str
    amount: int = Field(description="Signed minor units: positive credits, negative debits")
    currency: str
    balance_after: int
    created_at: str
    description: str
    actor: str
    reference: dict[str, str]


class AdjustmentResult(BaseModel):
    entry: Entry
    balance: int
    available: int


class EntryPage(BaseModel):
    items: list[Entry]
    next_cursor: str | None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    errors: list[dict[str, str]] | None = None
