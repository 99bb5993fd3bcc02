"""Money, dates, rates and country names as a reader of ``language`` expects them (Babel, CLDR data).

Languages are ``en`` and ``sk``; any other falls back to ``en`` (``supported``). The formats, fixed here:

* money: the locale's standard currency pattern with as many decimals as the currency's ISO 4217 exponent
  (``kernel.money.exponent``, never CLDR's own digits): sk ``1 234,50 €``, en ``€1,234.50``, JPY ``¥1,234``.
  Babel separates groups and the symbol with a no-break space (U+00A0), so an amount never wraps inside a cell.
  The amount is an integer of minor units, scaled exactly as a ``Decimal`` (never a float);
* dates: CLDR's medium date, day first in both languages: sk ``30. 11. 2026`` (Slovak medium), en ``30 Nov 2026``
  (the British English medium form: the US ``Nov 30, 2026`` puts the month first, which readers of a European
  invoice misread in the numeric forms and find unusual in this one);
* VAT rates: the locale's percent pattern with up to two decimals: sk ``19,5 %``, en ``19.5%``.

Babel is in the documents layer only: import this module from code that runs with that layer.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import NumberPattern, format_currency, format_percent

from account_credit.kernel.money import exponent

LANGUAGES = ("en", "sk")
DEFAULT = "en"
# The Babel locale of each language, per use: English dates are British (day first), English money is plain "en".
_MONEY_LOCALE = {"en": "en", "sk": "sk"}
_DATE_LOCALE = {"en": "en_GB", "sk": "sk"}


def supported(language: str | None) -> str:
    """``language`` if documents are rendered in it, else English."""
    return language if language in LANGUAGES else DEFAULT


@cache
def _locale(name: str) -> Locale:
    return Locale.parse(name)


@cache
def _pattern(name: str, kind: str, decimals: tuple[int, int]) -> NumberPattern:
    """The locale's own currency or percent pattern with a fixed number of decimals."""
    loc = _locale(name)
    base = loc.currency_formats["standard"] if kind == "currency" else loc.percent_formats[None]
    pattern = copy.copy(base)
    pattern.frac_prec = decimals
    return pattern


def money(amount_minor: int, currency: str, language: str) -> str:
    """``amount_minor`` minor units of ``currency`` as text, e.g. 123450 EUR -> sk ``1 234,50 €``, en ``€1,234.50``.

    Negative amounts carry the locale's minus sign (``-1 234,50 €``, ``-€1,234.50``)."""
    if type(amount_minor) is not int:
        raise TypeError(f"an amount is an int of minor units, got {type(amount_minor).__name__}")
    exp = exponent(currency)
    name = _MONEY_LOCALE[supported(language)]
    value = Decimal(amount_minor).scaleb(-exp)
    return format_currency(
        value, currency, format=_pattern(name, "currency", (exp, exp)), locale=_locale(name), currency_digits=False
    )


def date(iso_date: str, language: str) -> str:
    """A ``YYYY-MM-DD`` date as text: sk ``30. 11. 2026``, en ``30 Nov 2026``."""
    return format_date(dt.date.fromisoformat(iso_date), "medium", locale=_locale(_DATE_LOCALE[supported(language)]))


def percent(rate_bp: int, language: str) -> str:
    """A rate in basis points as a percentage: 2300 -> sk ``23 %``, en ``23%``; 1950 -> ``19,5 %``, ``19.5%``."""
    name = _MONEY_LOCALE[supported(language)]
    return format_percent(Decimal(rate_bp).scaleb(-4), format=_pattern(name, "percent", (0, 2)), locale=_locale(name))


def country(code: str | None, language: str) -> str:
    """An ISO 3166 alpha-2 code as the country's name (sk ``Slovensko``, en ``Slovakia``); unknown codes as given."""
    if not code:
        return ""
    return str(_locale(_MONEY_LOCALE[supported(language)]).territories.get(code.upper(), code))
