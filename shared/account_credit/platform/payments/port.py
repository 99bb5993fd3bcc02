"""The payment-provider port: what the services need from any card processor.

Adapters: ``sandbox`` (local stack and tests, no network) and ``stripe`` (the official
SDK). Services only see these types; only adapters talk to a provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from account_credit.kernel.money import Money


class InvalidSignature(Exception):
    """Webhook signature missing, wrong, or its timestamp outside the tolerance."""


@dataclass(frozen=True)
class SavedCard:
    """A reusable card at the provider. Never a card number: token, brand, last four, expiry."""

    provider: str
    token: str  # the provider's reusable payment-method id (e.g. pm_...)
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class BillingAddress:
    """The card holder's billing address, as the provider keeps it with the card."""

    line1: str
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2
    line2: str | None = None
    state: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "postal_code": self.postal_code,
            "state": self.state,
            "country": self.country,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, str | None]) -> BillingAddress:
        return cls(
            line1=str(raw["line1"]),
            city=str(raw["city"]),
            postal_code=str(raw["postal_code"]),
            country=str(raw["country"]),
            line2=raw.get("line2"),
            state=raw.get("state"),
        )


@dataclass(frozen=True)
class Checkout:
    """What a client needs to pay a pending top-up."""

    provider: str
    payment_id: str  # the provider's payment id (a Checkout Session or PaymentIntent id): the dedup key of the credit
    client_secret: str | None = None
    checkout_url: str | None = None


@dataclass(frozen=True)
class Charge:
    """Result of an off-session charge of a saved card."""

    status: Literal["succeeded", "declined"]
    payment_id: str | None = None
    decline_code: str | None = None
    message: str = ""


@dataclass(frozen=True)
class Refund:
    """Result of refunding (part of) an earlier charge, e.g. a cancelled order paid by card."""

    status: Literal["succeeded", "failed"]
    refund_id: str | None = None
    message: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider event, normalised.

    ``type``: ``payment.succeeded``, ``payment.failed``, ``payment.refunded``,
    ``payment.disputed`` or ``ignored`` (acknowledged, nothing done).
    """

    provider: str
    event_id: str  # provider's event id: permanent dedup key
    type: str
    raw_type: str
    payment_id: str | None = None
    amount: Money | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    card: SavedCard | None = None
    failure_message: str | None = None
    # Another id of the same payment that later events carry (a Stripe Checkout Session's PaymentIntent, which
    # refunds and disputes name): the credit also links it to the deposit.
    also_known_as: str | None = None


class PaymentProvider(Protocol):
    name: str

    def create_checkout(
        self, *, amount: Money, account_id: str, deposit_id: str, idempotency_key: str, save_card: bool
    ) -> Checkout: ...

    def charge_saved_card(
        self, *, amount: Money, card: SavedCard, account_id: str, reference: str, idempotency_key: str
    ) -> Charge: ...

    def refund(self, *, payment_id: str, amount: Money, reference: str, idempotency_key: str) -> Refund:
        """Give ``amount`` of charge ``payment_id`` back to the card; the same key never refunds twice."""
        ...

    def update_card(
        self, *, card: SavedCard, exp_month: int, exp_year: int, billing_address: BillingAddress | None
    ) -> SavedCard:
        """Change a saved card's expiry (and billing address) at the provider; returns the card as it holds it now.
        Raises ``PaymentProviderError`` when the provider refuses or fails."""
        ...

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify the signature (and timestamp) and normalise the event; raises InvalidSignature."""
        ...

    def payment_metadata(self, payment_id: str) -> Mapping[str, str]:
        """The metadata our request gave payment ``payment_id`` (``purpose``, ``via``...), read at the provider:
        for a refund or dispute that names a payment no deposit is linked to yet. Raises
        ``PaymentProviderError`` when the provider cannot answer."""
        ...
