"""Payment providers behind one port. ``provider(name)`` returns the configured adapter."""

from __future__ import annotations

import os
from functools import cache

from account_credit.platform.payments.port import (
    Charge,
    Checkout,
    InvalidSignature,
    PaymentProvider,
    SavedCard,
    WebhookEvent,
)

__all__ = ["Charge", "Checkout", "InvalidSignature", "PaymentProvider", "SavedCard", "WebhookEvent", "provider"]


@cache
def provider(name: str | None = None) -> PaymentProvider:
    """The adapter for ``name`` (default: env PAYMENT_PROVIDER, ``sandbox`` if unset).

    Adding a provider = one new adapter module + one line here.
    """
    name = name or os.environ.get("PAYMENT_PROVIDER", "sandbox")
    if name == "sandbox":
        from account_credit.platform.payments.sandbox import SandboxProvider

        return SandboxProvider.from_env()
    if name == "stripe":
        from account_credit.platform.payments.stripe_provider import StripeProvider

        return StripeProvider.from_env()
    raise KeyError(f"unknown payment provider {name!r}")
