"""Money, dates, rates and country names per language (rendering.locale, Babel): the exact texts, and English for
any language that is not supported."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import babel
import pytest
from babel.numbers import format_currency

from account_credit.kernel.money import UnknownCurrency
from account_credit.rendering import locale

NBSP = "\xa0"  # Babel's group separator and symbol spacing in Slovak: an amount never wraps


def plain(text: str) -> str:
    return text.replace(NBSP, " ")


def test_slovak_euros_are_babels_exact_text() -> None:
    got = locale.money(123450, "EUR", "sk")
    assert got == format_currency(Decimal("1234.50"), "EUR", locale="sk")
    assert got == f"1{NBSP}234,50{NBSP}€"
    assert plain(got) == "1 234,50 €"  # digits grouped by a space, a decimal comma, the symbol after
    assert "." not in got


def test_english_euros() -> None:
    assert locale.money(123450, "EUR", "en") == "€1,234.50"
    assert locale.money(123450, "EUR", "en") == format_currency(Decimal("1234.50"), "EUR", locale="en")


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        (123450, "EUR", "sk", "1 234,50 €"),
        (123450, "EUR", "en", "€1,234.50"),
        (123450, "JPY", "sk", "123 450 JPY"),  # no minor units: 123450 yen
        (123450, "JPY", "en", "¥123,450"),
        (123450, "USD", "sk", "1 234,50 USD"),
        (123450, "USD", "en", "$1,234.50"),
        (100000000, "EUR", "sk", "1 000 000,00 €"),
        (0, "EUR", "sk", "0,00 €"),
        (5, "EUR", "en", "€0.05"),
        (1234, "KWD", "en", "KWD1.234"),  # three decimals (ISO 4217), not CLDR's
    ],
)
def test_money(amount: int, currency: str, language: str, expected: str) -> None:
    assert plain(locale.money(amount, currency, language)) == expected


@pytest.mark.parametrize(
    ("currency", "language", "expected"),
    [("EUR", "sk", "-1 234,50 €"), ("EUR", "en", "-€1,234.50"), ("JPY", "en", "-¥1,234"), ("USD", "sk", "-12,34 USD")],
)
def test_negative_amounts(currency: str, language: str, expected: str) -> None:
    amount = -1234 if currency in ("JPY", "USD") else -123450
    assert plain(locale.money(amount, currency, language)) == expected


def test_decimals_follow_the_currency_exponent_not_cldr() -> None:
    """The minor units are ISO 4217's (kernel.money.exponent): whatever CLDR says, 123450 JPY is 123,450 yen."""
    assert plain(locale.money(1, "JPY", "sk")) == "1 JPY"
    assert plain(locale.money(1, "BHD", "sk")) == "0,001 BHD"
    assert plain(locale.money(1, "CZK", "sk")) == "0,01 CZK"


@pytest.mark.parametrize("language", ["de", "", "EN", "sk_SK", "cs"])
def test_other_languages_fall_back_to_english(language: str) -> None:
    assert locale.supported(language) == "en"
    assert locale.money(-123450, "EUR", language) == "-€1,234.50"
    assert locale.date("2026-11-30", language) == "30 Nov 2026"
    assert locale.percent(2300, language) == "23%"


def test_amounts_are_integers_of_minor_units() -> None:
    with pytest.raises(TypeError):
        locale.money(12.5, "EUR", "sk")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        locale.money(True, "EUR", "sk")
    with pytest.raises(UnknownCurrency):
        locale.money(100, "XXX", "sk")


@pytest.mark.parametrize(
    ("iso", "language", "expected"),
    [
        ("2026-11-30", "sk", "30. 11. 2026"),
        ("2026-11-30", "en", "30 Nov 2026"),
        ("2027-01-05", "sk", "5. 1. 2027"),
        ("2027-01-05", "en", "5 Jan 2027"),
    ],
)
def test_dates_are_day_first(iso: str, language: str, expected: str) -> None:
    assert plain(locale.date(iso, language)) == expected


@pytest.mark.parametrize(
    ("rate_bp", "sk", "en"),
    [(2300, "23 %", "23%"), (1950, "19,5 %", "19.5%"), (0, "0 %", "0%"), (2125, "21,25 %", "21.25%")],
)
def test_vat_rates(rate_bp: int, sk: str, en: str) -> None:
    assert plain(locale.percent(rate_bp, "sk")) == sk
    assert locale.percent(rate_bp, "en") == en


def test_country_names() -> None:
    assert locale.country("SK", "sk") == "Slovensko"
    assert locale.country("SK", "en") == "Slovakia"
    assert locale.country("cz", "sk") == "Česko"
    assert locale.country("QQ", "en") == "QQ"
    assert locale.country(None, "en") == ""


# --------------------------------------------------------------------------- the documents layer's Babel data

ROOT = Path(__file__).resolve().parents[2]
_SAMPLES = """
import json
from account_credit.rendering import locale
print(json.dumps([
    [locale.money(a, c, lang) for a in (123450, -5, 0) for c in ("EUR", "USD", "JPY", "CZK", "KWD")]
    + [locale.date("2026-11-30", lang), locale.date("2027-02-01", lang), locale.percent(1950, lang)]
    + [locale.country(c, lang) for c in ("SK", "CZ", "AT", "US")]
    for lang in ("en", "sk", "de")
]))
"""


def test_the_documents_layer_keeps_every_locale_it_formats_with(tmp_path: Path) -> None:
    """documents/Makefile drops Babel's locale files but BABEL_LOCALES: formatting with only those is the same."""
    match = re.search(r"^BABEL_LOCALES \?= (.+)$", (ROOT / "documents" / "Makefile").read_text(), re.M)
    assert match
    keep = {f"{name}.dat" for name in match[1].split()}

    def dropped(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if Path(folder).name == "locale-data" and n.endswith(".dat") and n not in keep]

    shutil.copytree(Path(babel.__file__).parent, tmp_path / "babel", ignore=dropped)
    assert sorted(p.name for p in (tmp_path / "babel" / "locale-data").glob("*.dat")) == sorted(keep)

    def run(path: str) -> object:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([path, str(ROOT / "shared")])}
        out = subprocess.run([sys.executable, "-c", _SAMPLES], capture_output=True, text=True, check=True, env=env)
        return json.loads(out.stdout)

    layer = run(str(tmp_path))
    assert layer == run(str(Path(babel.__file__).parent.parent))
    assert "30. 11. 2026" in json.dumps(layer, ensure_ascii=False)
