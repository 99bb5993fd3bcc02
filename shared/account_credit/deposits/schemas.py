"""Request and response bodies of the deposits, bank-transfer and webhook routes (pydantic -> OpenAPI)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from account_credit.accounts.schemas import CurrencyCode, Reason, Strict
from account_credit.bank.commands import AssignSuspense, ReturnSuspense
from account_credit.deposits.commands import CreateDeposit
from account_credit.deposits.state import DepositState
from account_credit.platform.http.model import Model

TransferId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")]
AccountId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
DepositStateName = Literal[tuple(s.value for s in DepositState)]  # type: ignore[valid-type]


# --------------------------------------------------------------------------- deposits


class DepositCreate(Strict):
    method: Literal["card", "bank_transfer"] = Field(
        description="card: pay through the payment provider; bank_transfer: a proforma invoice is issued"
    )
    amount: int = Field(
        gt=0, le=10**13, description="Minor units of the account's currency, within the deployment's bounds"
    )
    currency: CurrencyCode | None = Field(default=None, description="If given, must equal the account's currency")
    save_card: bool = Field(default=False, description="card only: keep the card for later off-session charges")

    @model_validator(mode="after")
    def _card_only(self) -> DepositCreate:
        if self.save_card and self.method != "card":
            raise ValueError("save_card applies to card top-ups only")
        return self

    def command(self, account_id: str, idempotency_key: str, actor: str) -> CreateDeposit:
        """The domain command this request asks for, on behalf of ``actor``."""
        return CreateDeposit(
            account_id=account_id,
            method=self.method,
            amount=self.amount,
            idempotency_key=idempotency_key,
            actor=actor,
            currency=self.currency,
            save_card=self.save_card,
        )


class Checkout(Model):
    provider: str
    payment_id: str = Field(description="The provider's payment id (Stripe: the Checkout Session id, cs_...)")
    client_secret: str | None = Field(
        description="Confirm the payment client-side with it (sandbox: PaymentIntent-like)"
    )
    checkout_url: str | None = Field(
        default=None, description="Send the browser here to pay (Stripe: its hosted Checkout page)"
    )


class Seller(Model):
    name: str
    address: str
    iban: str
    bic: str
    bank_name: str


class Proforma(Model):
    """Advance (proforma) invoice issued for a bank-transfer top-up. Its numbers form their own gap-free series."""

    number: str = Field(examples=["PF-2026-000001"])
    issued_at: str
    due_date: str
    amount: int
    currency: str
    payment_reference: str = Field(description="Put it in the transfer's reference (variable symbol)")
    seller: Seller
    buyer: dict[str, Any]
    status: Literal["unpaid", "partly_paid", "paid", "overpaid"]
    paid_amount: int


class Transfer(Model):
    transfer_id: str
    amount: int
    currency: str
    booked_date: str
    reference: str | None = None
    payer_name: str | None = None
    payer_iban: str | None = None
    received_at: str


class DepositView(Model):
    deposit_id: str
    account_id: str
    method: Literal["card", "bank_transfer"]
    state: DepositStateName  # type: ignore[valid-type]
    amount: int = Field(description="Requested amount (card: the payment's; bank: the proforma's)")
    currency: str
    credited_amount: int = Field(description="Credited to the balance so far")
    reversed_amount: int = Field(description="Taken back after a refund or dispute at the provider")
    created_at: str
    updated_at: str
    provider: str | None = None
    payment_id: str | None = None
    failure_message: str | None = None
    payment_reference: str | None = None
    proforma: Proforma | None = None
    transfers: list[Transfer] = Field(default_factory=list)
    save_card: bool = Field(default=False, description="card: the card is kept as a payment method once paid")


class DepositCreated(DepositView):
    checkout: Checkout | None = Field(default=None, description="card: what the client needs to pay")


class Flag(Model):
    reason: str
    deposit_id: str
    amount: int
    currency: str
    source: str
    created_at: str


class DepositList(Model):
    items: list[DepositView]
    flags: list[Flag] = Field(description="Account flags raised by deposits (e.g. a top-up taken back)")


# --------------------------------------------------------------------------- bank transfers


class Payer(Strict):
    model_config = ConfigDict(extra="ignore", strict=True)

    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    iban: Annotated[str, StringConstraints(max_length=64)] | None = None


class IncomingTransfer(Strict):
    """A credit on the seller's bank account, as the bank's webhook (or an operator) reports it."""

    model_config = ConfigDict(extra="ignore", strict=True)

    transfer_id: TransferId = Field(description="The bank's id of the transfer: credited at most once")
    amount: int = Field(gt=0, le=10**13, description="Minor units of `currency`")
    currency: CurrencyCode
    reference: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="Payment reference (variable symbol) the payer gave"
    )
    payer: Payer | None = None
    booked_date: date = Field(strict=False, description="ISO date (YYYY-MM-DD)")
    message: Annotated[str, StringConstraints(max_length=500)] | None = None

    @field_validator("booked_date", mode="before")
    @classmethod
    def _iso_date(cls, v: Any) -> Any:
        if isinstance(v, str | date):
            return v
        raise ValueError("must be an ISO date string (YYYY-MM-DD)")


class TransferResult(Model):
    transfer_id: str
    outcome: Literal["credited", "suspense", "duplicate"]
    status: Literal["credited", "suspense", "returned"]
    reason: str | None = Field(default=None, description="Why it is in suspense")
    account_id: str | None = None
    deposit_id: str | None = None
    proforma_number: str | None = None


class SuspenseItem(Model):
    transfer_id: str
    state: Literal["open", "assigned", "returned"]
    reason: Literal["no_reference", "invalid_reference", "unknown_reference", "currency_mismatch"]
    transfer: Transfer
    message: str | None = None
    received_at: str
    account_id: str | None = None
    deposit_id: str | None = None
    resolved_at: str | None = None
    resolved_by: str | None = None
    return_reason: str | None = None


class SuspenseList(Model):
    items: list[SuspenseItem]


class AssignTransfer(Strict):
    account_id: AccountId

    def command(self, transfer_id: str, idempotency_key: str, actor: str) -> AssignSuspense:
        return AssignSuspense(transfer_id, self.account_id, idempotency_key, actor)


class ReturnTransfer(Strict):
    reason: Reason

    def command(self, transfer_id: str, actor: str) -> ReturnSuspense:
        return ReturnSuspense(transfer_id, self.reason, actor)


# --------------------------------------------------------------------------- webhooks


class WebhookAck(Model):
    received: bool = True
    provider: str
    event_id: str | None = None
    type: str | None = None
    outcome: str = Field(
        description="credited, failed, reversed, reversal_noted, reversed_before_credit, already_credited, "
        "ignored_late_failure, no_change, duplicate, ignored; bank: credited, suspense, duplicate"
    )
    deposit_id: str | None = None
    account_id: str | None = None
    transfer_id: str | None = None
    reason: str | None = None


class ProviderEvent(Model):
    """A signed provider event (Stripe's format; the sandbox sends the same), or a bank transfer for /webhooks/bank."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    type: str | None = None
    created: int | None = None
    data: dict[str, Any] | None = None
