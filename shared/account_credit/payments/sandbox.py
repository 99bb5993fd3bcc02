"""Sandbox payment provider: no network, deterministic outcomes, for the local stack and tests.

Saved cards: a token containing ``decline`` (e.g. ``pm_card_chargeDeclined``) is
declined, ``expired`` answers expired_card, anything else is approved.
(Checkout and signed webhooks are added by the deposits capability.)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..money import Money
from .port import Charge, Checkout, SavedCard, WebhookEvent


@dataclass
class SandboxProvider:
    name: str = "sandbox"
    webhook_secret: str = ""

    @classmethod
    def from_env(cls) -> SandboxProvider:
        return cls(webhook_secret=os.environ.get("SANDBOX_WEBHOOK_SECRET", ""))

    def charge_saved_card(
        self, *, amount: Money, card: SavedCard, account_id: str, reference: str, idempotency_key: str
    ) -> Charge:
        payment_id = "pi_sbx_" + hashlib.sha256(f"{account_id}:{idempotency_key}".encode()).hexdigest()[:24]
        if "decline" in card.token:
            return Charge(
                status="declined",
                payment_id=payment_id,
                decline_code="card_declined",
                message="Your card was declined.",
            )
        if "expired" in card.token:
            return Charge(
                status="declined", payment_id=payment_id, decline_code="expired_card", message="Your card has expired."
            )
        return Charge(status="succeeded", payment_id=payment_id)

    def create_checkout(
        self, *, amount: Money, account_id: str, deposit_id: str, idempotency_key: str, save_card: bool
    ) -> Checkout:
        raise NotImplementedError("sandbox checkout arrives with the deposits capability")

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        raise NotImplementedError("sandbox webhooks arrive with the deposits capability")
