"""Helpers of the orders tests: a scripted payment provider (a fake, not a mock) and account set-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from _support import OPERATOR, adjustment

from account_credit.accounts import service as accounts_svc
from account_credit.catalog import service as catalog
from account_credit.kernel.domain import Account
from account_credit.kernel.errors import PaymentProviderError
from account_credit.kernel.money import Money
from account_credit.orders.schemas import OrderCreate, ProductPut
from account_credit.payment_methods import service as payment_methods
from account_credit.platform.payments.port import BillingAddress, Charge, Checkout, Refund, SavedCard, WebhookEvent
from account_credit.platform.store.memory import MemoryStore

PRODUCT = "ssl-ov-1y"
PRICE = 10_000  # USD cents


@dataclass
class FakeProvider:
    """Behaves like a provider: approves or declines, and one idempotency key is one charge/refund.

    ``approve``: charge outcome for tokens without "decline"; ``fail``: raise like a network
    error; ``refund_ok``: refund outcome. Every call is recorded for the assertions.
    """

    name: str = "fake"
    approve: bool = True
    fail: bool = False
    refund_ok: bool = True
    charges: dict[str, Charge] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    charge_calls: list[dict[str, Any]] = field(default_factory=list)
    refund_calls: list[dict[str, Any]] = field(default_factory=list)
    update_calls: list[dict[str, Any]] = field(default_factory=list)

    def charge_saved_card(
        self, *, amount: Money, card: SavedCard, account_id: str, reference: str, idempotency_key: str
    ) -> Charge:
        self.charge_calls.append(
            {"amount": amount, "token": card.token, "reference": reference, "key": idempotency_key}
        )
        if self.fail:
            raise ConnectionError("provider timed out")
        if idempotency_key not in self.charges:
            n = len(self.charges) + 1
            if self.approve and "decline" not in card.token.lower():
                self.charges[idempotency_key] = Charge(status="succeeded", payment_id=f"pi_fake_{n}")
            else:
                self.charges[idempotency_key] = Charge(
                    status="declined", payment_id=f"pi_fake_{n}", decline_code="card_declined"
                )
        return self.charges[idempotency_key]

    def update_card(
        self, *, card: SavedCard, exp_month: int, exp_year: int, billing_address: BillingAddress | None
    ) -> SavedCard:
        self.update_calls.append({"token": card.token, "exp": (exp_month, exp_year), "address": billing_address})
        if self.fail:
            raise PaymentProviderError("provider timed out")
        return replace(card, exp_month=exp_month, exp_year=exp_year)

    def refund(self, *, payment_id: str, amount: Money, reference: str, idempotency_key: str) -> Refund:
        self.refund_calls.append({"payment_id": payment_id, "amount": amount, "key": idempotency_key})
        if idempotency_key not in self.refunds:
            self.refunds[idempotency_key] = (
                Refund(status="succeeded", refund_id=f"re_fake_{len(self.refunds) + 1}")
                if self.refund_ok
                else Refund(status="failed", message="charge already disputed")
            )
        return self.refunds[idempotency_key]

    @property
    def money_taken(self) -> list[Charge]:
        """Distinct successful charges: what the card holder would see on the statement."""
        return [c for c in self.charges.values() if c.status == "succeeded"]

    def create_checkout(
        self, *, amount: Money, account_id: str, deposit_id: str, idempotency_key: str, save_card: bool
    ) -> Checkout:
        raise NotImplementedError

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        raise NotImplementedError

    def payment_metadata(self, payment_id: str) -> Mapping[str, str]:
        raise NotImplementedError


def add_product(store: MemoryStore, code: str = PRODUCT, prices: dict[str, int] | None = None, **kw: Any) -> None:
    req = ProductPut(name=kw.pop("name", "OV SSL"), term_months=12, prices=prices or {"USD": PRICE}, **kw)
    catalog.put_product(store, OPERATOR, code, req)


def set_up(
    store: MemoryStore,
    account: Account,
    *,
    balance: int = 0,
    credit_limit: int | None = None,
    bill_to_balance: bool = True,
    cards_enabled: bool = True,
    card_token: str | None = None,
    provider: str = "fake",
) -> str:
    """Balance (may be negative), credit limit, payment settings and an optional saved card."""
    acc = account.account_id
    if credit_limit is not None:
        store.update_account(acc, {"credit_limit": credit_limit})
    if balance > 0:
        accounts_svc.adjust(store, adjustment("credit", balance).command(acc, f"setup-credit-{acc}", OPERATOR.actor))
    elif balance < 0:
        accounts_svc.adjust(store, adjustment("debit", -balance).command(acc, f"setup-debit-{acc}", OPERATOR.actor))
    store.update_account(acc, {"settings": {"bill_to_balance": bill_to_balance, "cards_enabled": cards_enabled}})
    if card_token is not None:
        payment_methods.save_card(
            store,
            acc,
            SavedCard(provider=provider, token=card_token, brand="visa", last4="4242", exp_month=12, exp_year=2099),
        )
    return acc


def order(order_id: str, *, channel: str = "portal", quantity: int = 1, may_use_credit: bool = False) -> OrderCreate:
    return OrderCreate(
        order_id=order_id,
        channel=channel,
        lines=[{"product_code": PRODUCT, "quantity": quantity}],
        may_use_credit=may_use_credit,
    )


def balance_of(store: MemoryStore, account_id: str) -> int:
    account = store.get_account(account_id)
    assert account is not None
    return account.balance


def items_of(store: MemoryStore, account_id: str, prefix: str) -> list[dict[str, Any]]:
    return store.query_prefix(f"ACCOUNT#{account_id}", prefix, limit=10_000)


def events_of(store: MemoryStore, account_id: str, event_type: str | None = None) -> list[dict[str, Any]]:
    found = items_of(store, account_id, "EVENT#")
    return [e for e in found if event_type is None or e["type"] == event_type]


def entries_of(store: MemoryStore, account_id: str) -> list[dict[str, Any]]:
    return sorted(items_of(store, account_id, "ENTRY#"), key=lambda e: e["seq"])
