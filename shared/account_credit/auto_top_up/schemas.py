"""Bodies of the auto top-up API (pydantic). The OpenAPI document is generated from these."""

from __future__ import annotations

from pydantic import Field

from account_credit.accounts.schemas import Strict
from account_credit.platform.http.model import Model

MONEY_MAX = 10**13


class AutoTopUpUpdate(Strict):
    enabled: bool = Field(description="Charge the default card when the balance falls below `below`")
    below: int = Field(gt=0, le=MONEY_MAX, description="The level, in minor units of the account's currency")
    amount: int = Field(
        gt=0,
        le=MONEY_MAX,
        description="What is charged and credited once per fall below the level (minor units, within the "
        "top-up bounds)",
    )


class CardView(Model):
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class AutoTopUpView(Model):
    account_id: str
    currency: str
    enabled: bool
    below: int | None = Field(default=None, description="The level (minor units); null: never set")
    amount: int | None = Field(default=None, description="The amount charged per crossing (minor units)")
    card: CardView | None = Field(
        default=None,
        description="The card that would be charged now: the default method if it is a card, else the alternate; "
        "null: none, so nothing would be charged",
    )
    updated_at: str | None = None
