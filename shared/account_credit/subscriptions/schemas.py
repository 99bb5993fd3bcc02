"""Bodies of the subscriptions API (pydantic). The OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from account_credit.accounts.schemas import Strict
from account_credit.orders.schemas import ProductCode
from account_credit.platform.http.model import Model

PaymentMethodRef = Annotated[str, StringConstraints(pattern=r"^(balance|credit|pm_[A-Za-z0-9]{1,64})$")]
InventoryBilling = Literal["immediate", "next_invoice"]


class SubscriptionLine(Strict):
    product_code: ProductCode = Field(description="A product of the catalog whose term is the subscription's term")
    quantity: int = Field(ge=1, le=10_000, description="Certificates of this type")


Lines = Annotated[list[SubscriptionLine], Field(min_length=1, max_length=50)]


class SubscriptionCreate(Strict):
    term_months: int = Field(ge=1, le=120, description="The term; every product must have this term")
    lines: Lines = Field(description="The inventory (certificates per type); also the first renewal inventory")
    start_date: date | None = Field(
        default=None,
        strict=False,
        description="ISO date (YYYY-MM-DD). Default today. Backdated by at most the term minus one day: the first "
        "charge is then prorated to the part of the term that remains. A later date is charged in full now.",
    )
    auto_renew: bool = Field(default=True, description="Renew at the term's end, charged then")
    payment_method_id: PaymentMethodRef | None = Field(
        default=None,
        description="What pays its charges: balance, credit or a saved card (pm_...); null: the account's default",
    )
    inventory_billing: InventoryBilling = Field(
        default="immediate",
        description="Inventory added mid-term: charged at once (immediate) or by the next monthly billing run",
    )
    may_use_credit: bool = Field(default=False, description="Charges may fall back to the account's credit line")


class SubscriptionChange(Strict):
    auto_renew: bool | None = Field(default=None, description="Turn automatic renewal on or off")
    payment_method_id: PaymentMethodRef | None = Field(
        default=None, description="balance, credit or a saved card (pm_...); null: back to the account's default"
    )
    renewal_items: Lines | None = Field(default=None, description="The inventory of the next term (charged then)")
    inventory_billing: InventoryBilling | None = None

    @model_validator(mode="after")
    def _something(self) -> SubscriptionChange:
        if not self.model_fields_set:
            raise ValueError("say what to change: auto_renew, payment_method_id, renewal_items or inventory_billing")
        for name in ("auto_renew", "renewal_items", "inventory_billing"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self


class InventoryAdd(Strict):
    lines: Lines = Field(description="Certificates to add to the inventory, usable at once")
    may_use_credit: bool = Field(default=False, description="The charge may fall back to the account's credit line")


class LineView(Model):
    product_code: str
    quantity: int


class PendingChargeView(Model):
    charge_id: str
    lines: list[LineView]
    added_on: str = Field(description="The day the inventory was added: the proration is counted from it")
    state: Literal["pending", "charged"]
    order_id: str | None = None


class SubscriptionView(Model):
    subscription_id: str
    account_id: str
    currency: str
    state: Literal["active", "suspended", "expired"] = Field(
        description="active; suspended (no renewal, inventory unusable); expired (the term ended)"
    )
    inventory_usable: bool = Field(description="Whether its inventory may be used now")
    term_months: int
    start_date: str = Field(description="The first term's first day")
    term: int = Field(description="The current term's number, from 1")
    term_start: str
    term_end: str = Field(description="Day after the term's last day")
    renewal_date: str | None = Field(description="When it renews (term_end), null if it will not")
    auto_renew: bool
    payment_method_id: str | None = Field(description="null: the account's default method pays")
    inventory: list[LineView] = Field(description="Certificates usable in this term")
    renewal_inventory: list[LineView] = Field(description="Certificates of the next term, charged at renewal")
    inventory_billing: InventoryBilling
    orders: list[str] = Field(description="The orders that paid it (GET /accounts/{account_id}/orders/{order_id})")
    pending_charges: list[PendingChargeView] = Field(
        default_factory=list, description="Inventory added mid-term whose charge waits for the next billing run"
    )
    created_at: str
    updated_at: str
    version: int


class SubscriptionList(Model):
    items: list[SubscriptionView]


class InventoryAdded(Model):
    subscription: SubscriptionView
    billing: InventoryBilling = Field(description="immediate: order_id paid it; next_invoice: charge_id waits")
    order_id: str | None = Field(description="The order that paid it now (immediate)")
    charge_id: str
    amount: int | None = Field(description="What the order cost (immediate); null until the billing run charges it")


class ForecastRenewal(Model):
    subscription_id: str
    renewal_date: date
    term: int = Field(description="The term the renewal starts")
    amount: int = Field(description="Its gross price now (catalog prices of the renewal inventory, with VAT)")


class RenewalForecast(Model):
    window_end: date = Field(description="The last day counted")
    due: int = Field(description="What the renewals in the window cost (gross, minor units)")
    available: int = Field(
        description="What can pay them: balance - held + credit limit, plus what is already held for these renewals"
    )
    currency: str
    short: bool = Field(description="Whether the renewals cost more than that (the customer is told once per window)")
    shortfall: int = Field(description="How much is missing (0 when not short): top up at least this much")
    subscriptions: list[ForecastRenewal]
