"""Bodies of the statements API (pydantic). The OpenAPI document is generated from these."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from account_credit.accounts.schemas import Strict
from account_credit.billing.schemas import Day
from account_credit.platform.http.model import Model

Format = Literal["csv", "json"]
Kind = Literal["summary", "transactions"]
State = Literal["queued", "running", "done", "failed"]
Conventions = Literal["account", "neutral"]
Applied = Literal["en", "sk", "neutral"]


class ExportRequest(Strict):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    since: Day = Field(alias="from", description="First day of the period (YYYY-MM-DD, UTC), inclusive")
    until: Day = Field(alias="to", description="Last day of the period (YYYY-MM-DD, UTC), inclusive")
    format: Format = "csv"
    kind: Kind = Field(default="transactions", description="The accounting summary, or every entry of the period")
    conventions: Conventions = Field(
        default="account",
        description=(
            "CSV conventions: 'account' follows the account's language (en: comma separator, decimal dot; "
            "sk: semicolon separator, decimal comma, Slovak labels; both UTF-8 with a byte-order mark), "
            "'neutral' is comma and dot without a byte-order mark, for programs. JSON is always neutral."
        ),
    )


class ExportStatus(Model):
    model_config = ConfigDict(populate_by_name=True)

    export_id: str
    account_id: str
    kind: Kind
    format: Format
    conventions: Applied = Field(description="The CSV conventions applied: the account's language's, or neutral")
    since: str = Field(alias="from")
    until: str = Field(alias="to")
    state: State
    done: int = Field(description="Entries read so far")
    total: int | None = Field(
        description="Entries to read: the account's entry count (an upper bound) while running, exact when done"
    )
    pages: int
    created_at: str
    finished_at: str | None = None
    bytes: int | None = None
    error: str | None = None
    download: str | None = Field(default=None, description="Where the file is served once the export is done")


class Breakdown(Model):
    card: int | None = None
    bank_transfer: int | None = None
    orders: int | None = None
    renewals: int | None = None
    credit: int | None = None
    debit: int | None = None
    total: int


class Credit(Model):
    in_use_opening: int
    in_use_closing: int
    drawn: int


class PaidOutside(Model):
    card_orders: int
    gift_card_orders: int


class Row(Model):
    row: str
    label: str
    amount: int
    entries: int


class Summary(Model):
    """Signed minor units of the account's currency: opening + every row = closing."""

    model_config = ConfigDict(populate_by_name=True)

    currency: str
    since: str = Field(alias="from")
    until: str = Field(alias="to")
    opening_balance: int
    deposits: Breakdown
    reversals: int
    draws: Breakdown
    refunds: int
    adjustments: Breakdown
    other: int
    closing_balance: int
    credit: Credit
    paid_outside_balance: PaidOutside
    rows: list[Row]
    entries: int
    unplaced: int
