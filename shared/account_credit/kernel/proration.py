"""Proration of a subscription term: what part of a term's price is due from a day on. Pure and the one place it
is decided (subscriptions, mid-term inventory, backdated starts).

* A term of ``months`` starting on ``start`` ends on ``add_months(start, months)`` (exclusive): the same day of
  the month, or the month's last day when it has fewer days (31 Jan + 1 month = 28 or 29 Feb; 29 Feb 2028 + 12
  months = 28 Feb 2029).
* From ``on`` (``start <= on < end``) the charge is ``price x remaining days / days of the term``, rounded half
  away from zero to the minor unit (``kernel.money.scale``, the service's single rounding rule). On the first day
  it is the whole price; on the last day one day's worth.
* A start may be backdated by at most the term minus one day: at least one day of the term remains to be paid.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from account_credit.kernel.errors import InvalidInput
from account_credit.kernel.money import scale


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the last day of the target month."""
    if months < 0:
        raise ValueError("months must not be negative")
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Prorated:
    amount: int  # minor units due from ``on`` to the end of the term
    remaining_days: int
    term_days: int
    term_end: date  # exclusive


def prorate(price: int, start: date, months: int, on: date) -> Prorated:
    """The part of ``price`` (minor units, one full term) due for the rest of the term that starts on ``start``,
    counted from ``on``. InvalidInput (field ``start_date``) when ``on`` is outside the term."""
    if months <= 0:
        raise InvalidInput("a term has at least one month", field="term_months")
    if price < 0:
        raise InvalidInput("a price is not negative", field="price")
    end = add_months(start, months)
    term_days = (end - start).days
    if on < start:
        raise InvalidInput(f"the term starts on {start.isoformat()}, after {on.isoformat()}", field="start_date")
    remaining = (end - on).days
    if remaining < 1:
        raise InvalidInput(
            f"a start may be backdated by at most the term minus one day ({term_days - 1} days)", field="start_date"
        )
    return Prorated(scale(price, remaining, term_days), remaining, term_days, end)
