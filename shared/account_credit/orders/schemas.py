"""Request and response bodies of the orders, catalog and payment-methods APIs (pydantic).

Kept apart from ``schemas.py`` (the accounts capability) so capabilities can evolve
independently; the shared building blocks (``Strict``, ``Text``) are reused from there.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from account_credit.accounts.schemas import CurrencyCode, Strict, Text, trimmed_text
from account_credit.orders.commands import CancelOrder, PayOrder
from account_credit.orders.commands import OrderLine as CommandLine
from account_credit.platform.http.model import Model

OrderId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"),
]
PRODUCT_CODE_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
ProductCode = Annotated[str, StringConstraints(pattern=PRODUCT_CODE_PATTERN)]
Channel = Annotated[
    str,
    StringConstraints(to_lower=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
]
if TYPE_CHECKING:
    CancelReason = str
else:
    CancelReason = trimmed_text(1, 500, multiline=True)
PaidBy = Literal["balance", "card", "credit"]

# --------------------------------------------------------------------------- catalog


class ProductPut(Strict):
    """A certificate product; the code comes from the path."""

    name: Text
    term_months: int = Field(ge=1, le=120, description="Validity term of the certificate (months)")
    prices: dict[CurrencyCode, Annotated[int, Field(gt=0, le=10**13)]] = Field(
        min_length=1,
        max_length=50,
        description="Price per currency in minor units, e.g. {'USD': 21900, 'EUR': 19900}",
        examples=[{"USD": 21900, "EUR": 19900}],
    )
    active: bool = Field(default=True, description="Inactive products are listed but cannot be ordered")


class ProductView(Model):
    code: str
    name: str
    term_months: int
    prices: dict[str, int]
    active: bool
    version: int
    updated_at: str


class ProductList(Model):
    items: list[ProductView]


# --------------------------------------------------------------------------- orders


class OrderLine(Strict):
    product_code: ProductCode
    quantity: int = Field(ge=1, le=1000)


class OrderCreate(Strict):
    order_id: OrderId = Field(
        description="The caller's order id. It is the idempotency key: a repeat returns the first answer, "
        "permanently; the same id with different channel/lines/may_use_credit is refused (422)."
    )
    channel: Channel = Field(
        description="Where the order comes from: portal, api, or an integration name "
        "(some, e.g. azure-key-vault, accept only the balance)",
        examples=["portal", "api", "azure-key-vault"],
    )
    lines: list[OrderLine] = Field(min_length=1, max_length=50)
    may_use_credit: bool = Field(
        default=False, description="May fall back to the account's credit line (emergency purchase)"
    )

    def fingerprint(self) -> dict[str, object]:
        """What the order id pins (the idempotency request hash covers exactly this)."""
        return self.model_dump(mode="json", exclude={"order_id"})

    def command(self, account_id: str, actor: str) -> PayOrder:
        """The domain command this request asks for, on behalf of ``actor``."""
        return PayOrder(
            account_id=account_id,
            order_id=self.order_id,
            channel=self.channel,
            lines=tuple(CommandLine(line.product_code, line.quantity) for line in self.lines),
            may_use_credit=self.may_use_credit,
            actor=actor,
        )


class OrderCancel(Strict):
    reason: CancelReason | None = None

    def command(self, account_id: str, order_id: str, idempotency_key: str, actor: str) -> CancelOrder:
        return CancelOrder(account_id, order_id, idempotency_key, actor, self.reason)


class OrderLineView(Model):
    product_code: str
    name: str
    term_months: int
    quantity: int
    unit_price: int = Field(description="Net price in minor units, frozen at order time (catalog prices are net)")
    amount: int = Field(description="Net: unit_price x quantity")
    vat: int = Field(default=0, description="This line's share of the order's VAT (rounded once on the order's net)")
    gross: int | None = Field(default=None, description="amount + vat")
    # A prorated line (a subscription's backdated start or mid-term inventory): the rest of a term only.
    full_amount: int | None = Field(default=None, description="Net for the whole term, before proration")
    term_start: str | None = Field(default=None, description="First day of the term charged (prorated lines)")
    term_end: str | None = Field(default=None, description="Day after the term's last day (prorated lines)")
    remaining_days: int | None = Field(default=None, description="Days of the term charged (prorated lines)")
    term_days: int | None = Field(default=None, description="Days of the whole term (prorated lines)")


class TaxTreatmentView(Model):
    category: Literal["S", "AE", "O"] = Field(
        description="S standard rate, AE reverse charge (EU business with a VAT id), O not subject to VAT"
    )
    rate_bp: int = Field(description="VAT rate in basis points: 2300 = 23 %")
    exemption_code: str | None = Field(default=None, description="VATEX code for AE and O")
    exemption_reason: str | None = None


class CardPaymentView(Model):
    payment_method_id: str
    provider: str
    brand: str
    last4: str
    payment_id: str | None


class PaymentView(Model):
    method: PaidBy = Field(description="balance, card, or credit (debited into the credit line)")
    amount: int
    from_balance: int = Field(description="Part of the amount covered by a positive balance")
    from_credit: int = Field(description="Part of the amount drawn on the credit line (invoiced later)")
    entry_id: str = Field(description="The ledger entry of the payment (record-only for card payments)")
    card: CardPaymentView | None = None


class CancellationView(Model):
    cancelled_at: str
    reason: str | None
    entry_id: str
    refund_id: str | None = None


class OrderView(Model):
    order_id: str
    account_id: str
    channel: str
    state: Literal["paid", "cancelled"]
    currency: str
    lines: list[OrderLineView]
    net: int = Field(description="Sum of the lines' net amounts")
    vat: int = Field(description="VAT of the account's treatment on the net, rounded once (minor units)")
    total: int = Field(description="Gross: net + vat, what was debited or charged")
    tax: TaxTreatmentView | None = Field(description="How the order was taxed (null on orders made before VAT)")
    may_use_credit: bool
    payment: PaymentView
    cancellation: CancellationView | None = None
    actor: str
    created_at: str
    documents: list[str] = Field(
        default_factory=list, description="Numbers of the billing documents the order appears on (invoice, statement)"
    )


# --------------------------------------------------------------------------- payment methods

_PAN = re.compile(r"^[\d\s-]{12,23}$")


class CardRegistration(Strict):
    """A card the payment provider already holds. Never a card number."""

    token: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{3,255}$")] = Field(
        description="The provider's reusable payment-method token (e.g. pm_card_visa in the sandbox)"
    )
    brand: Annotated[str, StringConstraints(to_lower=True, pattern=r"^[A-Za-z_][A-Za-z_ ]{0,18}[A-Za-z_]$")]
    last4: Annotated[str, StringConstraints(pattern=r"^\d{4}$")]
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)

    @field_validator("token")
    @classmethod
    def _not_a_card_number(cls, v: str) -> str:
        if _PAN.match(v) and sum(c.isdigit() for c in v) >= 12:
            raise ValueError("looks like a card number; send the provider's token, never the number")
        return v


class PaymentMethodView(Model):
    payment_method_id: str
    type: str
    provider: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool
    created_at: str


class PaymentMethodList(Model):
    items: list[PaymentMethodView]
