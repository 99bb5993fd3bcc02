"""The files of an export: the summary and the transaction list as CSV or JSON (docs/STATEMENTS.md, "Formats").

A CSV follows one of three fixed conventions (``CONVENTIONS``; the account's language picks ``en`` or ``sk``,
``neutral`` is asked for explicitly):

* ``en``: comma separator, a dot as the decimal mark, UTF-8 with a byte-order mark (so Excel reads it as UTF-8);
* ``sk``: semicolon separator, a decimal comma (what Excel and LibreOffice in a Slovak locale split and read as
  numbers), UTF-8 with a byte-order mark, summary labels in Slovak;
* ``neutral``: as ``en`` but without the byte-order mark: for programs.

Always: RFC 4180 quoting (a field quoted only when it holds the separator, a quote or a line break), CRLF line
ends, exactly one header row of machine column names, ISO 8601 dates and times in UTC, amounts in the currency's
minor-unit exponent with no thousands separator and a leading ``-`` for debits (``-1234.50`` / ``-1234,50`` USD,
``-1235`` JPY), the currency in its own column. Hand-written rather than Babel's: the statements function runs
without the documents layer, and these are the few spreadsheet conventions, not CLDR's display formats. JSON is
always machine-neutral: the integer minor units (``amount``) and the dot decimal string (``amount_decimal``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from account_credit.kernel.domain import LedgerEntry
from account_credit.kernel.money import exponent
from account_credit.statements.summary import ROWS, Summary, row_of


@dataclass(frozen=True)
class Conventions:
    """How a CSV is written: the separator, the decimal mark, a byte-order mark, the language of the labels."""

    name: str
    delimiter: str
    decimal_mark: str
    bom: bool
    language: str


CONVENTIONS = {
    "en": Conventions("en", ",", ".", bom=True, language="en"),
    "sk": Conventions("sk", ";", ",", bom=True, language="sk"),
    "neutral": Conventions("neutral", ",", ".", bom=False, language="en"),
}
NEUTRAL = CONVENTIONS["neutral"]
BOM = "\ufeff"


def conventions_for(choice: str, language: str | None) -> Conventions:
    """``choice`` ``account``: the account's language's conventions (English for any other language);
    ``neutral``: the neutral ones."""
    if choice == "neutral":
        return NEUTRAL
    return CONVENTIONS[language if language in ("en", "sk") else "en"]


# The summary's labels (rows of summary.ROWS plus the lines around them), per language.
_SK_LABELS = {
    "deposit_card": "Vklady kartou",
    "deposit_bank_transfer": "Vklady bankovým prevodom",
    "reversals": "Vrátené vklady",
    "orders": "Objednávky",
    "renewals": "Obnovenia",
    "refunds": "Refundácie objednávok",
    "adjustments_credit": "Úpravy (v prospech)",
    "adjustments_debit": "Úpravy (na ťarchu)",
    "other": "Iné pohyby",
}
_TEXTS = {
    "en": {
        "opening_balance": "Opening balance on {day}",
        "closing_balance": "Closing balance on {day}",
        "credit_in_use_opening": "Credit in use at the opening",
        "credit_in_use_closing": "Credit in use at the closing",
        "credit_drawn": "Credit drawn in the period",
        "card_orders": "Orders paid by card (outside the balance)",
        "gift_card_orders": "Orders paid by gift card (outside the balance)",
        **dict(ROWS),
    },
    "sk": {
        "opening_balance": "Počiatočný zostatok k {day}",
        "closing_balance": "Konečný zostatok k {day}",
        "credit_in_use_opening": "Čerpaný kredit na začiatku",
        "credit_in_use_closing": "Čerpaný kredit na konci",
        "credit_drawn": "Kredit čerpaný v období",
        "card_orders": "Objednávky zaplatené kartou (mimo zostatku)",
        "gift_card_orders": "Objednávky zaplatené darčekovou kartou (mimo zostatku)",
        **_SK_LABELS,
    },
}


def label(key: str, language: str, **values: Any) -> str:
    return _TEXTS[language][key].format(**values)


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


def decimal(amount: int, currency: str, mark: str = ".") -> str:
    """Minor units as a plain decimal string: ``-123450`` USD -> ``-1234.50`` (``-1234,50`` with mark ``,``);
    ``5`` JPY -> ``5``."""
    exp = exponent(currency)
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**exp)
    return f"{sign}{whole}{mark}{str(frac).zfill(exp)}" if exp else f"{sign}{whole}"


def _csv(rows: Iterable[Iterable[Any]], conv: Conventions = NEUTRAL) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=conv.delimiter, lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue()


def encode(text: str, conv: Conventions = NEUTRAL) -> bytes:
    """A whole file's text as bytes: UTF-8, after a byte-order mark when the conventions want one."""
    return ((BOM if conv.bom else "") + text).encode()


def transaction_row(entry: LedgerEntry, conv: Conventions = NEUTRAL) -> list[str]:
    mark = conv.decimal_mark
    after = "" if entry.balance_after is None else decimal(entry.balance_after, entry.currency, mark)
    return [
        "" if entry.seq is None else str(entry.seq),
        entry.created_at,
        entry.entry_id,
        entry.type,
        row_of(entry) or "record_only",
        entry.description,
        decimal(entry.amount, entry.currency, mark),
        entry.currency,
        after,
        entry.reference.get("order_id", ""),
        entry.reference.get("deposit_id", ""),
        " ".join(entry.documents),
    ]


def transactions_header(conv: Conventions = NEUTRAL) -> str:
    return _csv([TRANSACTION_COLUMNS], conv)


def transactions_lines(entries: Iterable[LedgerEntry], conv: Conventions = NEUTRAL) -> str:
    """CSV lines (no header) of entries, in the order given."""
    return _csv((transaction_row(e, conv) for e in entries), conv)


def transactions_csv(entries: Iterable[LedgerEntry], conv: Conventions = NEUTRAL) -> bytes:
    return encode(transactions_header(conv) + transactions_lines(entries, conv), conv)


def transaction_json(entry: LedgerEntry) -> dict[str, Any]:
    return {
        **entry.as_dict(),
        "row": row_of(entry) or "record_only",
        "amount_decimal": decimal(entry.amount, entry.currency),
    }


def summary_csv(summary: Summary, conv: Conventions = NEUTRAL) -> bytes:
    cur, lang = summary.currency, conv.language

    def money(amount: int) -> str:
        return decimal(amount, cur, conv.decimal_mark)

    rows: list[list[Any]] = [list(SUMMARY_COLUMNS)]
    rows.append(
        [
            "opening_balance",
            label("opening_balance", lang, day=summary.period.start),
            "",
            money(summary.opening_balance),
            cur,
        ]
    )
    for key, _ in ROWS:
        rows.append([key, label(key, lang), summary.counts[key], money(summary.rows[key]), cur])
    rows.append(
        [
            "closing_balance",
            label("closing_balance", lang, day=summary.period.end),
            summary.entries,
            money(summary.closing_balance),
            cur,
        ]
    )
    for key, count, amount in (
        ("credit_in_use_opening", "", summary.credit_in_use_opening),
        ("credit_in_use_closing", "", summary.credit_in_use_closing),
        ("credit_drawn", "", summary.credit_drawn),
        ("card_orders", summary.paid_by_card, 0),
        ("gift_card_orders", summary.paid_by_gift_card, 0),
    ):
        rows.append([key, label(key, lang), count, money(amount), cur])
    return encode(_csv(rows, conv), conv)


def summary_json(summary: Summary) -> bytes:
    return json.dumps(summary.as_dict(), ensure_ascii=False, indent=1).encode()
