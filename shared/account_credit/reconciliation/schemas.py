"""Bodies of the reconciliation reports API (pydantic). The OpenAPI document is generated from these."""

from __future__ import annotations

from pydantic import Field

from account_credit.platform.http.model import Model


class FindingView(Model):
    check: str = Field(description="balance, holds, attribution, documents, payments, credit_notes or series")
    subject: str = Field(description="The account id, or the series and year (`TD-2026`)")
    detail: str = Field(description="What does not add up, in words")
    refs: list[str] = Field(default_factory=list, description="Entry ids, document numbers... it concerns")


class RunSummary(Model):
    day: str = Field(description="The day whose touched accounts were checked (YYYY-MM-DD, UTC)")
    run_id: str = Field(description="When the run started (ISO 8601, UTC); a rerun of a day is a new run")
    accounts: int = Field(description="Accounts checked")
    series: int = Field(description="Document series (per year) checked for gaps")
    skipped: list[str] = Field(description="Accounts that kept changing while read (the next run checks them)")
    mismatches: int = Field(description="Findings of the run (0: everything adds up)")
    by_check: dict[str, int] = Field(description="Findings per check")


class Report(RunSummary):
    findings: list[FindingView] = Field(description="Every finding of the run, in the order found")


class RunPage(Model):
    items: list[RunSummary] = Field(description="The latest run of each day of the page that has one, oldest first")
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; absent on the last page"
    )
