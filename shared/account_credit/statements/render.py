"""The files of an export: the summary and the transaction list as CSV or JSON (docs/STATEMENTS.md, "Formats").

Conventions, whatever the account's language: UTF-8 without a byte-order mark, RFC 4180 CSV (comma separator, CRLF
line ends, fields quoted only when needed), exactly one header row, ISO 8601 dates and times in UTC, amounts as
decimal strings in the currency's minor-unit exponent with a dot and no thousands separator (``-1234.50`` USD,
``-1235`` JPY), the currency in its own column. A spreadsheet in any locale reads them the same way. JSON carries
amounts twice: the integer minor units (``amount``) and the same decimal string (``amount_decimal``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from account_credit.kernel.domain import LedgerEntry
from account_credit.kernel.money import exponent
from account_credit.statements.summary import ROWS, Summary, row_of

TRANSACTION_COLUMNS = (
    "seq",
    "created_at",
    "entry_id",
    "type",
    "row",
    "description",
    "amount",
    "currency",
    "balance_after",
    "order_id",
    "deposit_id",
    "documents",
)
SUMMARY_COLUMNS = ("row", "label", "entries", "amount", "currency")


def decimal(amount: int, currency: str) -> str:
    """Minor units as a plain decimal string: ``-123450`` USD -> ``-1234.50``; ``5`` JPY -> ``5``."""
    exp = exponent(currency)
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**exp)
    return f"{sign}{whole}.{str(frac).zfill(exp)}" if exp else f"{sign}{whole}"


def _csv(rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue()


def transaction_row(entry: LedgerEntry) -> list[str]:
    after = "" if entry.balance_after is None else decimal(entry.balance_after, entry.currency)
    return [
        "" if entry.seq is None else str(entry.seq),
        entry.created_at,
        entry.entry_id,
        entry.type,
        row_of(entry) or "record_only",
        entry.description,
        decimal(entry.amount, entry.currency),
        entry.currency,
        after,
        entry.reference.get("order_id", ""),
        entry.reference.get("deposit_id", ""),
        " ".join(entry.documents),
    ]


def transactions_header() -> str:
    return _csv([TRANSACTION_COLUMNS])


def transactions_lines(entries: Iterable[LedgerEntry]) -> str:
    """CSV lines (no header) of entries, in the order given."""
    return _csv(transaction_row(e) for e in entries)


def transactions_csv(entries: Iterable[LedgerEntry]) -> bytes:
    return (transactions_header() + transactions_lines(entries)).encode()


def transaction_json(entry: LedgerEntry) -> dict[str, Any]:
    return {
        **entry.as_dict(),
        "row": row_of(entry) or "record_only",
        "amount_decimal": decimal(entry.amount, entry.currency),
    }


def summary_csv(summary: Summary) -> bytes:
    cur = summary.currency
    rows: list[list[Any]] = [list(SUMMARY_COLUMNS)]
    rows.append(
        [
            "opening_balance",
            f"Opening balance on {summary.period.start}",
            "",
            decimal(summary.opening_balance, cur),
            cur,
        ]
    )
    for key, label in ROWS:
        rows.append([key, label, summary.counts[key], decimal(summary.rows[key], cur), cur])
    rows.append(
        [
            "closing_balance",
            f"Closing balance on {summary.period.end}",
            summary.entries,
            decimal(summary.closing_balance, cur),
            cur,
        ]
    )
    rows.append(
        ["credit_in_use_opening", "Credit in use at the opening", "", decimal(summary.credit_in_use_opening, cur), cur]
    )
    rows.append(
        ["credit_in_use_closing", "Credit in use at the closing", "", decimal(summary.credit_in_use_closing, cur), cur]
    )
    rows.append(["credit_drawn", "Credit drawn in the period", "", decimal(summary.credit_drawn, cur), cur])
    rows.append(
        ["card_orders", "Orders paid by card (outside the balance)", summary.paid_by_card, decimal(0, cur), cur]
    )
    rows.append(
        [
            "gift_card_orders",
            "Orders paid by gift card (outside the balance)",
            summary.paid_by_gift_card,
            decimal(0, cur),
            cur,
        ]
    )
    return _csv(rows).encode()


def summary_json(summary: Summary) -> bytes:
    return json.dumps(summary.as_dict(), ensure_ascii=False, indent=1).encode()
