"""Domain objects of the ledger core: accounts, movements and ledger entries.

Plain dataclasses: no I/O, no boto3. The store maps them to and from DynamoDB items;
the HTTP layer maps them to pydantic response models.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from account_credit.kernel.money import Money


class Floor(StrEnum):
    """How low a debit may take the balance."""

    ZERO = "zero"  # balance - amount >= 0
    CREDIT_LIMIT = "credit_limit"  # balance - amount >= -credit_limit (emergency purchase)
    NONE = "none"  # no floor: reversals of money that was never ours (charge-backs) may overdraw


class EntryType(StrEnum):
    """Every kind of ledger entry. The transactions filter accepts exactly these."""

    ADJUSTMENT_CREDIT = "adjustment_credit"
    ADJUSTMENT_DEBIT = "adjustment_debit"
    DEPOSIT_CARD = "deposit_card"  # card top-up credited by the provider's webhook
    DEPOSIT_BANK_TRANSFER = "deposit_bank_transfer"  # matched bank transfer (or operator-assigned)
    DEPOSIT_REVERSAL = "deposit_reversal"  # top-up refunded / disputed at the provider: taken back
    ORDER_BALANCE = "order_balance"  # order paid from the balance
    ORDER_CREDIT = "order_credit"  # order paid into the credit line (emergency purchase)
    ORDER_CARD = "order_card"  # order paid by card: recorded, balance unchanged (amount 0)
    ORDER_GIFT_CARD = "order_gift_card"  # order paid by gift card: recorded, balance unchanged (amount 0)
    ORDER_CANCELLATION = "order_cancellation"  # order cancelled before fulfilment: money back
    ORDER_REFUND = "order_refund"  # certificates of an order refunded: money back (record-only for card orders)


@dataclass(frozen=True)
class CompanyDetails:
    name: str
    address_line1: str | None = None
    address_line2: str | None = None
    address_line3: str | None = None
    city: str | None = None
    postal_code: str | None = None
    state: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class TaxDetails:
    """What an account says about its holder for VAT (the buyer on its documents). No country: a consumer in the
    seller's country. ``vat_id`` was checked (country prefix and check digits) when it was set."""

    country: str | None = None  # ISO 3166 alpha-2
    vat_id: str | None = None  # compact form, e.g. "DE136695976"
    company_id: str | None = None  # registration number (ICO in Slovakia)
    peppol_endpoint: str | None = None  # "<EAS scheme>:<id>", e.g. "9950:SK2020273893"


@dataclass(frozen=True)
class PaymentSettings:
    bill_to_balance: bool = True
    cards_enabled: bool = True
    low_balance_threshold: int | None = None  # minor units; None = no alert
    # Which payment method pays is the account's payment preferences (payment_methods.service), not a setting.

    @classmethod
    def from_item(cls, raw: dict[str, Any]) -> PaymentSettings:
        """From a stored account's settings; names that are no longer settings (``default_method``) are ignored."""
        return cls(**{k: v for k, v in raw.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Account:
    account_id: str
    currency: str
    company: CompanyDetails
    billing_emails: tuple[str, ...]
    partner_id: str | None
    settings: PaymentSettings
    credit_limit: int  # minor units, >= 0
    balance: int = 0  # minor units, may be negative down to -credit_limit
    seq: int = 0  # number of ledger entries posted (entries are numbered 1..seq in commit order)
    created_at: str = ""
    updated_at: str = ""
    language: str = "en"  # language of emails (ISO 639-1); English by default
    payment_reference: str | None = None  # bank-transfer reference (variable symbol), see bank/references.py
    tax: TaxDetails = TaxDetails()  # the buyer's VAT data on documents
    held: int = 0  # minor units of the balance reserved for renewals (holds): other orders cannot spend them

    @property
    def available(self) -> int:
        """What can be spent now including credit: balance - held + credit_limit."""
        return self.balance - self.held + self.credit_limit

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)

    def with_balance(self, balance: int, seq: int) -> Account:
        return replace(self, balance=balance, seq=seq)


@dataclass(frozen=True)
class Movement:
    """A request to change one account's balance by ``amount`` (signed: + credit, - debit)."""

    account_id: str
    amount: Money
    type: str
    floor: Floor = Floor.ZERO
    description: str = ""
    actor: str = ""
    reference: dict[str, str] = field(default_factory=dict)
    # A record-only entry (amount 0) documents money that moved outside the balance,
    # e.g. an order paid by card; its ``reference`` says how much and where.
    record_only: bool = False
    # A change of the account's ``held`` amount, applied before ``amount``: + reserves part of the balance (the
    # balance must cover everything held), - uses a reservation up (a renewal paid from its hold) or releases it.
    # With ``amount`` zero and not record-only it is a hold alone: no ledger entry, the balance does not move.
    hold: int = 0

    @property
    def hold_only(self) -> bool:
        return self.hold != 0 and self.amount.amount == 0 and not self.record_only


@dataclass(frozen=True)
class LedgerEntry:
    """One immutable line of the ledger.

    ``seq`` (its place in the account's commit order) and ``balance_after`` (the exact balance right after it) are
    not known when the entry is written: movements commute, so the order is the one the database applied them in.
    The ledger sequencer fills both in from the account item's stream (``platform/store/sequencing.py``); until then
    they are None (docs/DATA_MODEL.md, "Hot accounts")."""

    entry_id: str
    account_id: str
    type: str
    amount: int  # signed minor units
    currency: str
    created_at: str
    description: str = ""
    actor: str = ""
    reference: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None
    seq: int | None = None
    balance_after: int | None = None
    documents: tuple[str, ...] = ()  # numbers of the billing documents it appears on (linked after they issue)

    def as_dict(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "account_id": self.account_id,
            "seq": self.seq,
            "type": self.type,
            "amount": self.amount,
            "currency": self.currency,
            "balance_after": self.balance_after,
            "created_at": self.created_at,
            "description": self.description,
            "actor": self.actor,
            "reference": dict(self.reference),
            "documents": list(self.documents),
        }
