"""Helpers of the deposit tests: configuration, signed deliveries, reading the fake store."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from account_credit.deposits import config as deposit_config
from account_credit.kernel.money import Money
from account_credit.platform import payments
from account_credit.platform.payments import sandbox, stripe_format
from account_credit.platform.payments.sandbox import SandboxProvider
from account_credit.platform.store.memory import MemoryStore

SANDBOX_SECRET = "whsec_unit_sandbox_0123456789"
BANK_SECRET = "whsec_unit_bank_0123456789"

ENV = {
    "PAYMENT_PROVIDER": "sandbox",
    "SANDBOX_WEBHOOK_SECRET": SANDBOX_SECRET,
    "BANK_WEBHOOK_SECRET": BANK_SECRET,
    "DEPOSIT_MIN_AMOUNT": "10",
    "DEPOSIT_MAX_AMOUNT": "50000",
    "SELLER_NAME": "Seller s.r.o.",
    "SELLER_ADDRESS": "Hlavna 1, Bratislava",
    "SELLER_IBAN": "SK31 1200 0000 1987 4263 7541",
    "SELLER_BIC": "TESTSKBX",
    "SELLER_BANK_NAME": "Test Bank",
    "PROFORMA_DUE_DAYS": "14",
}


def configure(monkeypatch: pytest.MonkeyPatch, **overrides: str) -> None:
    """Deposit settings for one test; the cached settings and provider are rebuilt from them."""
    monkeypatch.delenv("PAYMENT_SECRETS_ARN", raising=False)
    for key, value in {**ENV, **overrides}.items():
        monkeypatch.setenv(key, value)
    reset()


def reset() -> None:
    deposit_config.deposit_settings.cache_clear()
    payments.provider.cache_clear()


def provider() -> SandboxProvider:
    return SandboxProvider(webhook_secret=SANDBOX_SECRET)


def signed_card_event(event: dict[str, Any], *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    return provider().signed(event, timestamp)


def card_events(deposit: dict[str, Any]) -> dict[str, Any]:
    """Builders of the provider events for one card deposit (as the service returned it)."""
    money = Money(deposit["amount"], deposit["currency"])
    pid = deposit["payment_id"]
    meta = {"purpose": "deposit", "account_id": deposit["account_id"], "deposit_id": deposit["deposit_id"]}
    return {
        "succeeded": lambda **kw: sandbox.payment_succeeded(pid, kw.pop("amount", money), meta, **kw),
        "failed": lambda **kw: sandbox.payment_failed(pid, money, meta, **kw),
        "refunded": lambda refunded=money.amount, **kw: sandbox.charge_refunded(pid, money, refunded, **kw),
        "disputed": lambda **kw: sandbox.dispute_created(pid, kw.pop("amount", money), **kw),
    }


def signed_transfer(
    transfer: dict[str, Any], *, secret: str = BANK_SECRET, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(transfer).encode()
    return payload, {"Bank-Signature": stripe_format.sign(payload, secret, timestamp)}


def transfer(reference: str | None, amount: int, currency: str = "EUR", transfer_id: str = "tr_1") -> dict[str, Any]:
    return {
        "transfer_id": transfer_id,
        "amount": amount,
        "currency": currency,
        "reference": reference,
        "payer": {"name": "Payer s.r.o.", "iban": "SK8975000000000012345671"},
        "booked_date": "2026-03-02",
    }


def items(store: MemoryStore, pk_prefix: str = "", sk_prefix: str = "") -> list[dict[str, Any]]:
    with store.lock:
        return [
            dict(v)
            for (pk, sk), v in sorted(store.items.items())
            if pk.startswith(pk_prefix) and sk.startswith(sk_prefix)
        ]


def entries(store: MemoryStore, account_id: str) -> list[dict[str, Any]]:
    return sorted(items(store, f"ACCOUNT#{account_id}", "ENTRY#"), key=lambda e: e["seq"])


def events(store: MemoryStore, account_id: str) -> list[dict[str, Any]]:
    return items(store, f"ACCOUNT#{account_id}", "EVENT#")


def now() -> int:
    return int(time.time())
