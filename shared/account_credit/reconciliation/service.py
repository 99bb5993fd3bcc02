"""The nightly reconciliation: read what the checks need for every account touched on a day, run the checks,
write the report (``RECON#<day>``: a summary item per run and one item per finding) and say how many mismatches
there were (the function turns that into the ``ReconciliationMismatches`` metric and its alarm).

It only reads, and writes its own report items: a finding never changes money (docs/RECONCILIATION.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from account_credit.billing.attribution import attribute
from account_credit.billing.document import Document
from account_credit.billing.service import ledger
from account_credit.billing.service import payments as billing_payments
from account_credit.holds import service as holds_service
from account_credit.kernel.domain import LedgerEntry
from account_credit.kernel.errors import InvalidInput, NotFound
from account_credit.kernel.ids import iso, utc_now
from account_credit.platform.store import Store, keys
from account_credit.reconciliation import checks
from account_credit.reconciliation.checks import AccountState, DocumentFacts, Finding

# Entries younger than this when the run starts are not yet expected on their documents: the billing stream issues
# them seconds after the sequencer places the entry.
SETTLE = timedelta(minutes=15)
READ_ATTEMPTS = 5  # an account written to while it is read is read again; still moving after these: skipped
PAGE = 100


@dataclass
class RunResult:
    day: str
    run_id: str
    accounts: int = 0
    series: int = 0
    skipped: list[str] = field(default_factory=list)  # accounts that kept changing while read (checked next run)
    findings: list[Finding] = field(default_factory=list)

    @property
    def mismatches(self) -> int:
        return len(self.findings)

    def summary(self) -> dict[str, Any]:
        by_check: dict[str, int] = {}
        for f in self.findings:
            by_check[f.check] = by_check.get(f.check, 0) + 1
        return {
            "day": self.day,
            "run_id": self.run_id,
            "accounts": self.accounts,
            "series": self.series,
            "skipped": self.skipped,
            "mismatches": self.mismatches,
            "by_check": by_check,
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary(), "findings": [f.as_dict() for f in self.findings]}


def parse_day(day: str) -> str:
    try:
        return date.fromisoformat(day).isoformat()
    except ValueError:
        raise InvalidInput(f"day must be YYYY-MM-DD, not {day!r}", field="day") from None


def touched(store: Store, day: str) -> Iterator[str]:
    """The accounts whose money state changed on ``day`` (the sparse index the sequencer writes)."""
    pk, prefix = keys.touched_prefix(day)
    after: str | None = None
    while True:
        page = store.query_prefix(pk, prefix, limit=PAGE, after=after)
        yield from (str(i["account_id"]) for i in page)
        if len(page) < PAGE:
            return
        after = page[-1]["sk"]


def _all(store: Store, pk: str, prefix: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = store.query_prefix(pk, prefix, limit=PAGE, after=after)
        out += page
        if len(page) < PAGE:
            return out
        after = page[-1]["sk"]


def _snapshot(store: Store, account_id: str) -> tuple[dict[str, Any], list[LedgerEntry]] | None:
    """The account item and its ledger as of one moment: read again while a write lands in between (the account
    item and its entries are written in one transaction, and both reads are consistent)."""
    for _ in range(READ_ATTEMPTS):
        before = store.get_item(*keys.account(account_id))
        if before is None:
            raise NotFound(f"account {account_id} not found")
        entries = ledger(store, account_id)
        after = store.get_item(*keys.account(account_id))
        if after is not None and after.get("version") == before.get("version"):
            return before, entries
    return None


Checked = tuple[list[Finding], set[tuple[str, int]]]


def check_account(store: Store, account_id: str, settled_before: str) -> Checked | None:
    """The findings of one account and the (series, year) of the documents it has; None if it kept changing."""
    snap = _snapshot(store, account_id)
    if snap is None:
        return None
    item, entries = snap
    state = AccountState(
        account_id=account_id,
        balance=int(item.get("balance", 0)),
        held=int(item.get("held", 0)),
        seq=int(item.get("seq", 0)),
    )
    findings = checks.ledger_balance(state, entries)
    findings += checks.holds(state, [(h.hold_id, h.amount) for h in holds_service.active(store, account_id)])
    findings += checks.attribution(state, entries)

    placed = sorted((e for e in entries if e.seq is not None), key=lambda e: e.seq or 0)
    attr = attribute(placed)
    by_id = {e.entry_id: e for e in placed}
    docs = _all(store, *keys.documents_prefix(account_id))
    facts = DocumentFacts(
        tax_document_expected=frozenset(k for k, v in attr.tax_base.items() if v > 0),
        billed_months=frozenset(str(i["month"]) for i in _all(store, *keys.billing_runs_prefix(account_id))),
        same_month_cancelled=frozenset(
            d for d, c in attr.cancelled_by.items() if by_id[d].created_at[:7] == by_id[c].created_at[:7]
        ),
        documents={
            str(d["number"]): [str(x) for x in d.get("movements") or ()]
            for d in docs
            if str(d.get("issued_at") or "") < settled_before  # linked to its entries just after it is issued
        },
    )
    settled = [e for e in placed if e.created_at < settled_before]
    findings += checks.documents(account_id, settled, facts)
    findings += _payments_and_notes(store, account_id, docs, settled_before)
    series = {s for d in docs if (s := checks.series_of(str(d["number"]))) is not None}
    return findings, series


def _payments_and_notes(
    store: Store, account_id: str, items: list[dict[str, Any]], settled_before: str
) -> list[Finding]:
    """The credit invoices' payments against the open-invoices index, and the credit notes against the documents
    they correct (both over the account's issued documents; those issued within ``SETTLE`` are not judged yet)."""
    docs = [Document.from_dict(i) for i in items]
    summaries = {
        d.number: checks.DocumentSummary(d.number, d.account_id, d.currency, d.totals.gross, d.corrects) for d in docs
    }
    invoices = []
    for d in docs:
        if not d.number.startswith("CI-"):
            continue
        paid = billing_payments(store, d)
        invoices.append(
            checks.InvoicePayments(
                number=d.number,
                gross=d.totals.gross,
                paid=sum(int(p["amount"]) for p in paid),
                open=store.get_item(*keys.open_invoice(account_id, d.number)) is not None,
                settling=d.issued_at >= settled_before
                or any(str(p.get("received_at") or "") >= settled_before for p in paid),
            )
        )
    notes = [summaries[d.number] for d in docs if d.number.startswith("CN-") and d.issued_at < settled_before]
    return checks.invoice_payments(account_id, invoices) + checks.credit_notes(account_id, summaries, notes)


def _taken(store: Store, series: str, year: int, n: int) -> bool:
    number = checks.number_of(series, year, n)
    key = keys.proforma_number(number) if series == "PROFORMA" else keys.document_number(number)
    return store.get_item(*key) is not None


def check_series(store: Store, series: str, year: int) -> list[Finding]:
    """Numbers 1..counter of the series and year all exist, and the next one does not."""
    counter_item = store.get_item(*keys.counter(series, year))
    counter = int(counter_item["value"]) if counter_item is not None else None
    top = counter if counter is not None else 0
    taken = [n for n in range(1, top + 2) if _taken(store, series, year, n)]
    return checks.series_gaps(series, year, counter, taken)


def run(store: Store, day: str, account_id: str | None = None, now: datetime | None = None) -> RunResult:
    """Reconcile every account touched on ``day`` (or just ``account_id``), then the document series they used,
    and write the report. Reads only; writes nothing but its report items."""
    day = parse_day(day)
    started = now or utc_now()
    run_id = iso(started)
    settled_before = iso(started - SETTLE)
    result = RunResult(day=day, run_id=run_id)
    series: set[tuple[str, int]] = set()
    for acc in [account_id] if account_id else touched(store, day):
        checked = check_account(store, acc, settled_before)
        result.accounts += 1
        if checked is None:
            result.skipped.append(acc)
            continue
        found, used = checked
        result.findings += found
        series |= used
    for s, year in sorted(series):
        result.findings += check_series(store, s, year)
    result.series = len(series)
    _report(store, result)
    return result


def _report(store: Store, result: RunResult) -> None:
    for i, f in enumerate(result.findings):
        store.put_if_absent(
            keys.reconciliation_finding(result.day, result.run_id, i),
            {"kind": "reconciliation_finding", "day": result.day, "run_id": result.run_id, **f.as_dict()},
        )
    store.put_if_absent(  # last: a summary means its findings are all written
        keys.reconciliation_run(result.day, result.run_id), {"kind": "reconciliation_run", **result.summary()}
    )


MAX_PAGE_DAYS = 100


def _latest(store: Store, day: str) -> dict[str, Any] | None:
    latest = store.query_prefix(*keys.reconciliation_runs_prefix(day), limit=1, newest_first=True)
    if not latest:
        return None
    return {k: v for k, v in latest[0].items() if k not in {"pk", "sk", "kind"}}


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} must be YYYY-MM-DD, not {text!r}", field=name) from None


def reports(store: Store, since: str, until: str, cursor: str | None = None, limit: int = 31) -> dict[str, Any]:
    """The latest run's summary of each day from ``since`` to ``until`` (inclusive) that has one, oldest first,
    reading ``limit`` days per page (one query per day: each day is its own partition); ``next_cursor`` is the
    next day to read. A cursor outside the period answers an empty page."""
    start, end = _day(since, "from"), _day(until, "to")
    if end < start:
        raise InvalidInput("to must not be before from", field="to")
    first = _day(cursor, "cursor") if cursor is not None else start
    limit = max(1, min(limit, MAX_PAGE_DAYS))
    items: list[dict[str, Any]] = []
    if first < start or first > end:
        return {"items": items, "next_cursor": None}
    d = first
    for _ in range(limit):
        found = _latest(store, d.isoformat())
        if found is not None:
            items.append(found)
        d += timedelta(days=1)
        if d > end:
            return {"items": items, "next_cursor": None}
    return {"items": items, "next_cursor": d.isoformat()}


def report(store: Store, day: str) -> dict[str, Any]:
    """The latest run's report of ``day``: its summary and findings."""
    day = parse_day(day)
    summary = _latest(store, day)
    if summary is None:
        raise NotFound(f"no reconciliation run for {day}")
    found = _all(store, *keys.reconciliation_findings_prefix(day, str(summary["run_id"])))
    keep = ("check", "subject", "detail", "refs")
    return {**summary, "findings": [{k: f.get(k) for k in keep} for f in found]}
