"""Request and response bodies of the orders, catalog and payment-methods APIs (pydantic).

Kept apart from ``schemas.py`` (the accounts capability) so capabilities can evolve
independently; the shared building blocks (``Strict``, ``Text``) are reused from there.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from account_credit.accounts.schemas import CurrencyCode, Strict, Text, trimmed_text
from account_credit.orders.commands import CancelOrder, PayOrder, RefundLine, RefundOrder
from account_credit.orders.commands import OrderLine as CommandLine
from account_credit.platform.http.model import Model
from account_credit.platform.payments.port import BillingAddress

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
PaidBy = Literal["balance", "card", "gift_card", "credit"]

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

    def command(
        self, account_id: str, order_id: str, idempotency_key: str, actor: str, by_operator: bool = False
    ) -> CancelOrder:
        return CancelOrder(account_id, order_id, idempotency_key, actor, self.reason, by_operator)


class RefundLineBody(Strict):
    line: int = Field(ge=1, le=50, description="The order's line number, 1 for its first line (`lines[].line`)")
    quantity: int = Field(ge=1, le=1000, description="How many more certificates of the line to refund")


class RefundCreate(Strict):
    lines: list[RefundLineBody] = Field(
        min_length=1, max_length=50, description="Certificates to refund per order line; each line at most once"
    )
    reason: CancelReason | None = None

    def command(
        self, account_id: str, order_id: str, idempotency_key: str, actor: str, by_operator: bool
    ) -> RefundOrder:
        return RefundOrder(
            account_id,
            order_id,
            idempotency_key,
            actor,
            lines=tuple(RefundLine(x.line, x.quantity) for x in self.lines),
            reason=self.reason,
            by_operator=by_operator,
        )


class OrderLineView(Model):
    line: int = Field(description="The line's number (1 for the first): what a refund names")
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
    refunded: int = Field(default=0, description="Certificates of the line refunded so far")
    refundable: int = Field(
        default=0, description="Certificates of the line that can still be refunded (0 once cancelled or refunded)"
    )


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


class GiftCardPaymentView(Model):
    payment_method_id: str
    last4: str = Field(description="The last four characters of the gift card's code")
    remaining: int = Field(description="What was left on the gift card after this order (minor units)")


class AttemptView(Model):
    method: Literal["balance", "card", "gift_card", "credit", "invoice"] | None = Field(
        description="The kind of method tried (null: a payment method that no longer exists)"
    )
    payment_method_id: str | None = Field(description="The payment method tried ('balance' for the balance)")
    outcome: Literal["paid", "declined", "insufficient", "needs_transfer", "unavailable"]
    decline_code: str | None = Field(default=None, description="The provider's decline code of a declined card")


class PaymentView(Model):
    method: PaidBy = Field(description="balance, card, gift_card, or credit (debited into the credit line)")
    amount: int
    from_balance: int = Field(description="Part of the amount covered by a positive balance")
    from_credit: int = Field(description="Part of the amount drawn on the credit line (invoiced later)")
    entry_id: str = Field(description="The ledger entry of the payment (record-only for card and gift card payments)")
    card: CardPaymentView | None = None
    gift_card: GiftCardPaymentView | None = None
    attempts: list[AttemptView] = Field(
        default_factory=list,
        description="The methods tried in order, the last one paid (empty on orders made before attempts were kept)",
    )


class CancellationView(Model):
    cancelled_at: str
    reason: str | None
    entry_id: str
    refund_id: str | None = None


class RefundLineView(Model):
    line: int
    product_code: str
    quantity: int = Field(description="Certificates refunded by this refund")
    amount: int = Field(description="Gross given back for them (minor units)")


class RefundView(Model):
    number: int = Field(description="1 for the order's first refund, then 2, ...")
    refunded_at: str
    lines: list[RefundLineView]
    amount: int = Field(description="Gross given back, the sum of the lines")
    to: dict[str, int] = Field(
        description="Where the money went back, per source: `credit` (the credit used went down), `balance`, "
        "`card` (a provider refund), `gift_card`"
    )
    entry_id: str = Field(description="The ledger entry of the refund (record-only for card and gift card orders)")
    refund_id: str | None = Field(default=None, description="The payment provider's refund (card orders)")
    reason: str | None = None
    actor: str


class SubscriptionTermView(Model):
    subscription_id: str
    term: int


class OrderView(Model):
    order_id: str
    account_id: str
    channel: str
    state: Literal["paid", "cancelled", "partly_refunded", "refunded"]
    currency: str
    lines: list[OrderLineView]
    net: int = Field(description="Sum of the lines' net amounts")
    vat: int = Field(description="VAT of the account's treatment on the net, rounded once (minor units)")
    total: int = Field(description="Gross: net + vat, what was debited or charged")
    tax: TaxTreatmentView | None = Field(description="How the order was taxed (null on orders made before VAT)")
    may_use_credit: bool
    payment: PaymentView
    cancellation: CancellationView | None = None
    refunds: list[RefundView] = Field(default_factory=list, description="The order's refunds, oldest first")
    actor: str
    created_at: str
    documents: list[str] = Field(
        default_factory=list, description="Numbers of the billing documents the order appears on (invoice, statement)"
    )
    subscription: SubscriptionTermView | None = Field(
        default=None, description="The subscription and term the order pays for (its first term, inventory, a renewal)"
    )


# --------------------------------------------------------------------------- payment methods

_PAN = re.compile(r"^[\d\s-]{12,23}$")


class BillingAddressBody(Strict):
    line1: Text
    line2: Text | None = None
    city: Text
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
    state: Text | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(description="ISO 3166-1 alpha-2")

    def address(self) -> BillingAddress:
        return BillingAddress(
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            postal_code=self.postal_code,
            state=self.state,
            country=self.country,
        )


Brand = Annotated[str, StringConstraints(to_lower=True, pattern=r"^[A-Za-z_][A-Za-z_ ]{0,18}[A-Za-z_]$")]
Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{3,255}$")]
GiftCardCode = Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{5,39}$")]
_CARD_FIELDS = ["token", "brand", "last4", "exp_month", "exp_year"]


# The document states the rule of _fields_of_the_type too: what each type needs and refuses.
_ADD_RULES: dict[str, Any] = {
    "allOf": [
        {
            "if": {"properties": {"type": {"const": "gift_card"}}, "required": ["type"]},
            "then": {
                "required": ["code"],
                "not": {"anyOf": [{"required": [f]} for f in [*_CARD_FIELDS, "billing_address"]]},
            },
        },
        {
            "if": {"properties": {"type": {"const": "invoice"}}, "required": ["type"]},
            "then": {"not": {"anyOf": [{"required": [f]} for f in [*_CARD_FIELDS, "billing_address", "code"]]}},
        },
        {
            "if": {"properties": {"type": {"const": "card"}}},
            "then": {"required": _CARD_FIELDS, "not": {"required": ["code"]}},
        },
    ]
}


def _add_schema(schema: dict[str, Any]) -> None:
    """Optional fields are left out, never null (the rules above say which a type takes)."""
    for prop in schema.get("properties", {}).values():
        kinds = prop.get("anyOf")
        if kinds and {"type": "null"} in kinds:
            rest = [k for k in kinds if k != {"type": "null"}]
            del prop["anyOf"]
            prop.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
            if prop.get("default", 0) is None:
                del prop["default"]
    schema.update(_ADD_RULES)


class CardRegistration(Strict):
    """Add a payment method. A card (``type`` card, the default) the payment provider already holds: its token,
    brand, last four, expiry and optionally billing address - never a card number. A gift card by its code. Or
    pay on invoice (bank transfer or check)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra=_add_schema,
    )

    type: Literal["card", "gift_card", "invoice"] = Field(
        default="card", description="card (default), gift_card, invoice"
    )
    token: Token | None = Field(
        default=None,
        description="card: the provider's reusable payment-method token (e.g. pm_card_visa in the sandbox)",
    )
    brand: Annotated[str, StringConstraints(to_lower=True, pattern=r"^[A-Za-z_][A-Za-z_ ]{0,18}[A-Za-z_]$")] | None = (
        None
    )
    last4: Annotated[str, StringConstraints(pattern=r"^\d{4}$")] | None = None
    exp_month: int | None = Field(default=None, ge=1, le=12)
    exp_year: int | None = Field(default=None, ge=2000, le=2100)
    billing_address: BillingAddressBody | None = None
    code: GiftCardCode | None = Field(default=None, description="gift_card: the gift card's code")

    @field_validator("token")
    @classmethod
    def _not_a_card_number(cls, v: str | None) -> str | None:
        if v is not None and _PAN.match(v) and sum(c.isdigit() for c in v) >= 12:
            raise ValueError("looks like a card number; send the provider's token, never the number")
        return v

    @field_validator(*_CARD_FIELDS, "billing_address", "code", mode="before")
    @classmethod
    def _left_out_not_null(cls, v: Any) -> Any:
        if v is None:
            raise ValueError("leave the field out instead of sending null")
        return v

    @model_validator(mode="after")
    def _fields_of_the_type(self) -> CardRegistration:
        given = {f for f in [*_CARD_FIELDS, "billing_address", "code"] if getattr(self, f) is not None}
        need = {"card": set(_CARD_FIELDS), "gift_card": {"code"}, "invoice": set()}[self.type]
        allowed = need | ({"billing_address"} if self.type == "card" else set())
        if missing := sorted(need - given):
            raise ValueError(f"a {self.type} needs {', '.join(missing)}")
        if extra := sorted(given - allowed):
            raise ValueError(f"a {self.type} takes no {', '.join(extra)}")
        return self


class CardUpdate(Strict):
    """A card's new expiry and (optionally) billing address, changed at the provider first."""

    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)
    billing_address: BillingAddressBody | None = None


class PreferencesPut(Strict):
    default: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = Field(
        description="'balance' or a payment method id: tried first"
    )
    alternate: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = Field(
        default=None, description="'balance', a payment method id or null: tried when the default fails"
    )


class PreferencesView(Model):
    default: str
    alternate: str | None


class BillingAddressView(Model):
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    state: str | None = None
    country: str


class PaymentMethodView(Model):
    payment_method_id: str = Field(description="'balance' for the account balance, 'invoice' for pay on invoice")
    type: Literal["balance", "card", "gift_card", "invoice"]
    role: Literal["default", "alternate"] | None = Field(description="The method's role in the account's preferences")
    created_at: str
    provider: str | None = None
    brand: str | None = None
    last4: str | None = Field(default=None, description="A card's last four digits, a gift card code's last four")
    exp_month: int | None = None
    exp_year: int | None = None
    billing_address: BillingAddressView | None = None
    currency: str | None = Field(default=None, description="gift_card: its currency")
    remaining: int | None = Field(default=None, description="gift_card: what is left on it (minor units)")


class PaymentMethodList(Model):
    items: list[PaymentMethodView]
    preferences: PreferencesView


class GiftCardCreate(Strict):
    code: GiftCardCode | None = Field(default=None, description="The code; generated when omitted")
    amount: int = Field(gt=0, le=10**13, description="Minor units")
    currency: CurrencyCode


class GiftCardView(Model):
    code: str
    currency: str
    amount: int
    remaining: int
    created_at: str


class OrderList(Model):
    """One page of an account's orders, newest first; ``next_cursor`` (null at the end) asks for the next."""

    items: list[OrderView]
    next_cursor: str | None
