"""Sandbox payment provider: no network, deterministic outcomes, for the local stack and tests.

Saved cards: a token containing ``decline`` (e.g. ``pm_card_chargeDeclined``) is
declined, ``expired`` answers expired_card, anything else is approved. A card registered
already can be made to decline from now on (``python -m tools.sandbox card-declines``):
the tokens and decline codes are in the JSON file ``SANDBOX_CARDS_FILE`` (the local
stack sets it to ``.local/sandbox-cards.json``), read on every charge so every process of
the local server sees a change at once. Unset (tests, AWS): no such overrides.

Checkout: a PaymentIntent-like id derived from the account and the idempotency key (the
same request gives the same payment, like Stripe's idempotency), a ``client_secret`` in
Stripe's form, no checkout URL. Nothing happens until someone "pays": the sandbox builds
**Stripe-shaped** events (``payment_intent.succeeded`` ...) and signs them with Stripe's
scheme and the sandbox webhook secret, so the webhook endpoint verifies and parses them
on exactly the path it uses for Stripe (``stripe_format``). ``python -m tools.sandbox``
does that against the local server.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from account_credit.kernel.money import Money
from account_credit.platform.payments import stripe_format
from account_credit.platform.payments.port import BillingAddress, Charge, Checkout, Refund, SavedCard, WebhookEvent
from account_credit.platform.secrets import secret

SIGNATURE_HEADER = "Stripe-Signature"


@dataclass
class SandboxProvider:
    name: str = "sandbox"
    # None: read from the configuration at each use (Secrets Manager values are cached five minutes),
    # so a rotated secret is picked up without a cold start.
    webhook_secret: str | None = None

    @classmethod
    def from_env(cls) -> SandboxProvider:
        return cls()

    def _secret(self) -> str:
        return self.webhook_secret if self.webhook_secret is not None else secret("sandbox_webhook_secret")

    def charge_saved_card(
        self, *, amount: Money, card: SavedCard, account_id: str, reference: str, idempotency_key: str
    ) -> Charge:
        payment_id = "pi_sbx_" + hashlib.sha256(f"{account_id}:{idempotency_key}".encode()).hexdigest()[:24]
        forced = declining_cards().get(card.token)
        if forced:
            message = "Your card has expired." if forced == "expired_card" else "Your card was declined."
            return Charge(status="declined", payment_id=payment_id, decline_code=forced, message=message)
        if "decline" in card.token.lower():
            return Charge(
                status="declined",
                payment_id=payment_id,
                decline_code="card_declined",
                message="Your card was declined.",
            )
        if "expired" in card.token.lower():
            return Charge(
                status="declined", payment_id=payment_id, decline_code="expired_card", message="Your card has expired."
            )
        return Charge(status="succeeded", payment_id=payment_id)

    def update_card(
        self, *, card: SavedCard, exp_month: int, exp_year: int, billing_address: BillingAddress | None
    ) -> SavedCard:
        """The sandbox accepts any new expiry and address of a card it holds."""
        return SavedCard(
            provider=self.name,
            token=card.token,
            brand=card.brand,
            last4=card.last4,
            exp_month=exp_month,
            exp_year=exp_year,
        )

    def refund(self, *, payment_id: str, amount: Money, reference: str, idempotency_key: str) -> Refund:
        """Refund a sandbox charge (``pi_sbx_...``); anything else fails like an unknown payment would.

        The refund id depends only on the payment and the key, so a retried refund is the same refund.
        """
        if not payment_id.startswith("pi_sbx_") or amount.amount <= 0:
            return Refund(status="failed", message=f"no such sandbox payment {payment_id!r}")
        digest = hashlib.sha256(f"{payment_id}:{idempotency_key}".encode()).hexdigest()[:24]
        return Refund(status="succeeded", refund_id="re_sbx_" + digest)

    def create_checkout(
        self, *, amount: Money, account_id: str, deposit_id: str, idempotency_key: str, save_card: bool
    ) -> Checkout:
        digest = hashlib.sha256(f"checkout:{account_id}:{idempotency_key}".encode()).hexdigest()
        payment_id = "pi_sbx_" + digest[:24]
        return Checkout(provider=self.name, payment_id=payment_id, client_secret=f"{payment_id}_secret_{digest[24:48]}")

    def payment_metadata(self, payment_id: str) -> Mapping[str, str]:
        """Nothing to ask: a sandbox top-up's payment is linked to its deposit when the deposit is created."""
        return {}

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        body = stripe_format.verify(payload, stripe_format.header(headers, SIGNATURE_HEADER), self._secret())
        return stripe_format.normalise(self.name, body, card_lookup=sandbox_card)

    # -- what a payer would cause at the provider: signed Stripe-shaped deliveries

    def signed(self, event: Mapping[str, Any], timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a webhook delivery of ``event``."""
        payload = json.dumps(event, separators=(",", ":")).encode()
        return payload, {
            SIGNATURE_HEADER: stripe_format.sign(payload, self._secret(), timestamp),
            "Content-Type": "application/json",
        }


CARDS_FILE_ENV = "SANDBOX_CARDS_FILE"


def declining_cards() -> dict[str, str]:
    """Token -> decline code of the cards told to decline (``SANDBOX_CARDS_FILE``); empty when unset or absent."""
    path = os.environ.get(CARDS_FILE_ENV)
    return _read_cards(path) if path else {}


def _read_cards(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (FileNotFoundError, ValueError):
        return {}
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def set_declining(path: str, token: str, code: str | None) -> dict[str, str]:
    """Make the card ``token`` decline with ``code`` from now on (None: approve again); atomic for readers."""
    current = _read_cards(path)
    if code is None:
        current.pop(token, None)
    else:
        current[token] = code
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(current, f, indent=2, sort_keys=True)
    os.replace(tmp, path)
    return current


def sandbox_card(payment_method_id: str) -> SavedCard:
    """The card behind a sandbox payment method id (deterministic, never a real card)."""
    last4 = "".join(c for c in hashlib.sha256(payment_method_id.encode()).hexdigest() if c.isdigit())[:4].ljust(4, "0")
    return SavedCard(
        provider="sandbox",
        token=payment_method_id,
        brand="visa",
        last4=last4,
        exp_month=12,
        exp_year=time.gmtime().tm_year + 3,
    )


def _event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    created = int(time.time())
    seed = f"{event_type}:{obj.get('id')}:{time.time_ns()}"
    return {
        "id": event_id or "evt_sbx_" + hashlib.sha256(seed.encode()).hexdigest()[:24],
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "type": event_type,
        "data": {"object": obj},
    }


def _charge_id(payment_id: str) -> str:
    return "ch_sbx_" + hashlib.sha256(payment_id.encode()).hexdigest()[:24]


def payment_succeeded(
    payment_id: str, amount: Money, metadata: Mapping[str, str], *, event_id: str | None = None
) -> dict[str, Any]:
    return _event(
        "payment_intent.succeeded",
        {
            "id": payment_id,
            "object": "payment_intent",
            "amount": amount.amount,
            "amount_received": amount.amount,
            "currency": amount.currency.lower(),
            "status": "succeeded",
            "latest_charge": _charge_id(payment_id),
            "payment_method": "pm_sbx_" + payment_id.removeprefix("pi_sbx_")[:16],
            "metadata": dict(metadata),
        },
        event_id,
    )


def payment_failed(
    payment_id: str,
    amount: Money,
    metadata: Mapping[str, str],
    *,
    message: str = "Your card was declined.",
    event_id: str | None = None,
) -> dict[str, Any]:
    return _event(
        "payment_intent.payment_failed",
        {
            "id": payment_id,
            "object": "payment_intent",
            "amount": amount.amount,
            "amount_received": 0,
            "currency": amount.currency.lower(),
            "status": "requires_payment_method",
            "last_payment_error": {"code": "card_declined", "decline_code": "generic_decline", "message": message},
            "metadata": dict(metadata),
        },
        event_id,
    )


def charge_refunded(
    payment_id: str, amount: Money, amount_refunded: int, *, event_id: str | None = None
) -> dict[str, Any]:
    return _event(
        "charge.refunded",
        {
            "id": _charge_id(payment_id),
            "object": "charge",
            "amount": amount.amount,
            "amount_refunded": amount_refunded,
            "currency": amount.currency.lower(),
            "payment_intent": payment_id,
            "refunded": amount_refunded >= amount.amount,
            "status": "succeeded",
        },
        event_id,
    )


def dispute_created(payment_id: str, amount: Money, *, event_id: str | None = None) -> dict[str, Any]:
    return _event(
        "charge.dispute.created",
        {
            "id": "dp_sbx_" + hashlib.sha256(payment_id.encode()).hexdigest()[:24],
            "object": "dispute",
            "amount": amount.amount,
            "currency": amount.currency.lower(),
            "charge": _charge_id(payment_id),
            "payment_intent": payment_id,
            "reason": "fraudulent",
            "status": "needs_response",
        },
        event_id,
    )
