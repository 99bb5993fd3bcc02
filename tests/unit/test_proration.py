"""Proration of a subscription term (kernel/proration.py): month ends, leap years, 1-day and full-term edges."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from account_credit.kernel.errors import InvalidInput
from account_credit.kernel.proration import add_months, prorate


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # month end, common year
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # month end, leap year
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # a leap day plus a year
        (date(2028, 2, 29), 48, date(2032, 2, 29)),  # four years: a leap day again
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),  # across a year end
        (date(2026, 12, 15), 12, date(2027, 12, 15)),
        (date(2026, 5, 10), 0, date(2026, 5, 10)),
    ],
)
def test_adding_months_keeps_the_day_or_takes_the_months_last(start: date, months: int, end: date) -> None:
    assert add_months(start, months) == end


@pytest.mark.parametrize(
    ("price", "start", "months", "on", "amount", "remaining", "days"),
    [
        (36_500, date(2026, 1, 1), 12, date(2026, 1, 1), 36_500, 365, 365),  # the first day: the whole term
        (36_500, date(2026, 1, 1), 12, date(2026, 12, 31), 100, 1, 365),  # the last day: one day's worth
        (36_600, date(2028, 1, 1), 12, date(2028, 12, 31), 100, 1, 366),  # a leap year has 366 days
        (10_000, date(2026, 1, 1), 12, date(2026, 7, 2), 5_014, 183, 365),  # 10000 x 183 / 365 = 5013.7
        (100, date(2026, 1, 1), 12, date(2026, 12, 31), 0, 1, 365),  # 0.27 of a cent rounds to 0
        (183, date(2026, 1, 1), 12, date(2026, 12, 31), 1, 1, 365),  # 0.501 of a cent rounds to 1
        (1_000, date(2026, 1, 31), 1, date(2026, 2, 27), 36, 1, 28),  # a February month: 1000 / 28 = 35.7
        (0, date(2026, 1, 1), 12, date(2026, 6, 1), 0, 214, 365),  # a free term stays free
    ],
)
def test_the_rest_of_a_term_is_charged_for_its_remaining_days(
    price: int, start: date, months: int, on: date, amount: int, remaining: int, days: int
) -> None:
    got = prorate(price, start, months, on)
    assert (got.amount, got.remaining_days, got.term_days) == (amount, remaining, days)


@pytest.mark.parametrize(
    ("start", "on", "field"),
    [
        (date(2026, 1, 1), date(2027, 1, 1), "start_date"),  # the whole term backdated: nothing would remain
        (date(2026, 1, 1), date(2028, 1, 1), "start_date"),
        (date(2026, 6, 1), date(2026, 5, 31), "start_date"),  # not started yet
    ],
)
def test_a_start_backdated_by_the_whole_term_or_in_the_future_is_refused(start: date, on: date, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        prorate(10_000, start, 12, on)
    assert info.value.field == field


def test_a_term_has_a_month_and_a_price_is_not_negative() -> None:
    with pytest.raises(InvalidInput, match="month"):
        prorate(10_000, date(2026, 1, 1), 0, date(2026, 1, 1))
    with pytest.raises(InvalidInput, match="negative"):
        prorate(-1, date(2026, 1, 1), 12, date(2026, 1, 1))


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(st.integers(0, 10**9), days, st.integers(1, 36), st.data())
def test_a_later_day_never_costs_more_and_the_first_day_costs_the_price(
    price: int, start: date, months: int, data: st.DataObject
) -> None:
    end = add_months(start, months)
    on = start + timedelta(days=data.draw(st.integers(0, (end - start).days - 1)))
    here, later = (
        prorate(price, start, months, on),
        prorate(price, start, months, min(on + timedelta(days=1), end - timedelta(days=1))),
    )
    assert 0 <= later.amount <= here.amount <= price
    assert prorate(price, start, months, start).amount == price
    assert (
        abs(here.amount * here.term_days - price * here.remaining_days) <= here.term_days
    )  # within half a unit... or one
