"""Exports in the account's locale conventions (statements/render.py, docs/STATEMENTS.md "Formats"): en and sk
CSVs and the neutral one, on edge amounts, read back with the csv module by their own separator, summing to the
closing balance; an sk account's export job writes the sk file unless the neutral one is asked for."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from _support import Clock

from account_credit.accounts import schemas as account_schemas
from account_credit.accounts import service as accounts
from account_credit.kernel.domain import Account, Floor, LedgerEntry, Movement
from account_credit.kernel.ids import iso
from account_credit.kernel.money import Money, exponent
from account_credit.platform.archive import FolderArchive
from account_credit.platform.commit import commit
from account_credit.platform.store.memory import MemoryStore
from account_credit.statements import render
from account_credit.statements import service as svc
from account_credit.statements.summary import ROW_KEYS, Period, summarize

EN, SK, NEUTRAL = render.CONVENTIONS["en"], render.CONVENTIONS["sk"], render.NEUTRAL


@pytest.mark.parametrize(
    ("amount", "currency", "en", "sk"),
    [
        (-123_450, "USD", "-1234.50", "-1234,50"),
        (0, "EUR", "0.00", "0,00"),
        (-5, "EUR", "-0.05", "-0,05"),
        (1_234, "JPY", "1234", "1234"),  # exponent 0: no decimal mark at all
        (-1_235, "JPY", "-1235", "-1235"),
        (1_234, "KWD", "1.234", "1,234"),
        (123_456_789_012_345, "USD", "1234567890123.45", "1234567890123,45"),  # no thousands separator
    ],
)
def test_amounts_in_each_convention(amount: int, currency: str, en: str, sk: str) -> None:
    assert render.decimal(amount, currency, EN.decimal_mark) == render.decimal(amount, currency) == en
    assert render.decimal(amount, currency, SK.decimal_mark) == sk


def test_the_account_conventions_follow_the_language() -> None:
    assert render.conventions_for("account", "sk") is SK
    assert render.conventions_for("account", "en") is EN
    assert render.conventions_for("account", "de") is EN  # any other language: English
    assert render.conventions_for("neutral", "sk") is NEUTRAL


def entries(currency: str) -> list[LedgerEntry]:
    """A history with edge amounts: a large deposit, a zero-amount card order, small and large debits, a refund,
    and a description holding both separators and a quote."""
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    plan = [
        ("deposit_bank_transfer", 987_654_321, 'Top-up; "January", thanks'),
        ("order_card", 0, "card order"),
        ("order_balance", -1, "one minor unit"),
        ("order_balance", -250_000_000, "a big one"),
        ("order_cancellation", 1, "one minor unit back"),
        ("adjustment_debit", -987_654_321, "everything"),
    ]
    out, balance = [], 0
    for n, (kind, amount, text) in enumerate(plan, start=1):
        balance += amount
        out.append(
            LedgerEntry(
                entry_id=f"ent_{n}",
                account_id="acc_1",
                type=kind,
                amount=amount,
                currency=currency,
                created_at=iso(start + timedelta(hours=n)),
                description=text,
                seq=n,
                balance_after=balance,
            )
        )
    return out


def parse(body: bytes, conv: render.Conventions) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf") == conv.bom
    text = body.decode("utf-8-sig")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return list(csv.DictReader(io.StringIO(text), delimiter=conv.delimiter))


def number(text: str, conv: render.Conventions, currency: str) -> int:
    """Back to minor units, as a spreadsheet in that locale reads the cell."""
    value = Decimal(text.replace(conv.decimal_mark, ".")) if conv.decimal_mark != "." else Decimal(text)
    minor = value.scaleb(exponent(currency))
    assert minor == minor.to_integral_value()
    return int(minor)


@pytest.mark.parametrize("conv", [EN, SK, NEUTRAL], ids=lambda c: c.name)
@pytest.mark.parametrize("currency", ["EUR", "JPY"])
def test_a_transactions_csv_read_back_sums_to_the_closing_balance(conv: render.Conventions, currency: str) -> None:
    history = entries(currency)
    rows = parse(render.transactions_csv(history, conv), conv)
    assert list(rows[0]) == list(render.TRANSACTION_COLUMNS)  # one header row, machine names in every language
    assert len(rows) == len(history)
    closing = summarize(currency, Period(date(2026, 1, 1), date(2026, 1, 31)), history).closing_balance
    assert sum(number(r["amount"], conv, currency) for r in rows) == closing == history[-1].balance_after
    assert [number(r["balance_after"], conv, currency) for r in rows] == [e.balance_after for e in history]
    assert rows[0]["description"] == 'Top-up; "January", thanks'  # quoted, not split, in either separator
    assert rows[0]["created_at"] == "2026-01-01T10:00:00.000000Z"  # ISO 8601 UTC in every convention


def test_the_summary_csv_in_slovak() -> None:
    history = entries("EUR")[:4]
    summary = summarize("EUR", Period(date(2026, 1, 1), date(2026, 1, 31)), history)
    rows = {r["row"]: r for r in parse(render.summary_csv(summary, SK), SK)}
    assert rows["opening_balance"]["label"] == "Počiatočný zostatok k 2026-01-01"
    assert rows["orders"]["label"] == "Objednávky" and rows["orders"]["amount"] == "-2500000,01"
    assert rows["closing_balance"]["amount"] == "7376543,20"
    assert rows["card_orders"]["entries"] == "1" and rows["card_orders"]["amount"] == "0,00"
    total = sum(number(rows[k]["amount"], SK, "EUR") for k in ROW_KEYS)
    assert number(rows["opening_balance"]["amount"], SK, "EUR") + total == summary.closing_balance
    en = {r["row"]: r for r in parse(render.summary_csv(summary, EN), EN)}
    assert en["orders"]["label"] == "Orders" and en["closing_balance"]["amount"] == "7376543.20"
    assert set(en) == set(rows)  # the same rows, only the labels and numbers' form differ


# --------------------------------------------------------------------------- an sk account's export job


def sk_account(store: MemoryStore) -> Account:
    req = account_schemas.AccountCreate.model_validate(
        {
            "currency": "EUR",
            "company": {"name": "Žltá ťava s.r.o."},
            "billing_emails": ["uctovnik@tava.test"],
            "language": "sk",
        }
    )
    return accounts.open_account(store, req)


def move(store: MemoryStore, account: Account, kind: str, amount: int, **reference: str) -> None:
    uow = store.unit_of_work()
    uow.move(Movement(account.account_id, Money(amount, "EUR"), kind, Floor.NONE, reference=reference))
    commit(uow, None, lambda _p: {})


@pytest.mark.parametrize(("choice", "applied"), [("account", "sk"), ("neutral", "neutral")])
def test_an_sk_accounts_export_is_in_slovak_conventions_unless_neutral_is_asked(
    store: MemoryStore, clock: Clock, tmp_path: Path, choice: str, applied: str
) -> None:
    account = sk_account(store)
    clock.set(datetime(2026, 2, 3, 9, tzinfo=UTC))
    move(store, account, "deposit_bank_transfer", 100_000)
    move(store, account, "order_balance", -12_345, order_id="o1", channel="web")
    move(store, account, "adjustment_credit", 5)
    acc, folder = account.account_id, FolderArchive(tmp_path)
    out: dict[str, Any] = {}
    for kind in ("transactions", "summary"):
        queued = svc.request_export(
            store, acc, since="2026-02-01", until="2026-02-28", fmt="csv", kind=kind, actor="t", conventions=choice
        )
        assert queued["conventions"] == applied
        svc.run_export(store, folder, acc, queued["export_id"])
        out[kind] = svc.export_file(store, folder, acc, queued["export_id"])[0]
    conv = render.CONVENTIONS[applied]
    rows = parse(out["transactions"], conv)
    balance = (store.get_account(acc) or account).balance
    assert sum(number(r["amount"], conv, "EUR") for r in rows) == balance == 87_660
    summary = {r["row"]: r for r in parse(out["summary"], conv)}
    assert number(summary["closing_balance"]["amount"], conv, "EUR") == balance
    assert summary["closing_balance"]["amount"] == ("876,60" if applied == "sk" else "876.60")
    assert summary["orders"]["label"] == ("Objednávky" if applied == "sk" else "Orders")
    with pytest.raises(Exception, match="conventions"):
        svc.request_export(
            store, acc, since="2026-02-01", until="2026-02-28", fmt="csv", kind="summary", actor="t", conventions="x"
        )
