"""What the renewal schedule does for a subscription on a given day: the hold window, the renewal day, the grace
period and the last attempt; the forecast window; the settings that size them."""

from __future__ import annotations

from datetime import date

import pytest

from account_credit.platform.config import ConfigurationError
from account_credit.renewals import rules
from account_credit.renewals.config import RenewalSettings, from_environment
from account_credit.renewals.rules import Action, Windows

END = date(2027, 1, 10)  # the renewal date (term_end)
W = Windows(hold_days=7, grace_days=7)


@pytest.mark.parametrize(
    ("today", "windows", "expected"),
    [
        (date(2026, 12, 1), W, Action.WAIT),
        (date(2027, 1, 2), W, Action.WAIT),  # 8 days ahead
        (date(2027, 1, 3), W, Action.HOLD),  # the window opens 7 days ahead
        (date(2027, 1, 9), W, Action.HOLD),
        (date(2027, 1, 10), W, Action.RENEW),  # the renewal date
        (date(2027, 1, 16), W, Action.RENEW),  # retried within the grace period
        (date(2027, 1, 17), W, Action.RENEW_OR_SUSPEND),  # its last day: unpaid after it, suspended
        (date(2027, 3, 1), W, Action.RENEW_OR_SUSPEND),  # a schedule that did not run still tries once
        (date(2027, 1, 9), Windows(0, 7), Action.WAIT),  # no hold window
        (date(2027, 1, 10), Windows(0, 0), Action.RENEW_OR_SUSPEND),  # no grace: one attempt
        (date(2026, 12, 11), Windows(30, 0), Action.HOLD),
    ],
)
def test_action(today: date, windows: Windows, expected: Action) -> None:
    assert rules.action(END, today, windows) is expected


def test_window_arithmetic() -> None:
    assert rules.hold_opens(END, W) == date(2027, 1, 3)
    assert rules.retry_until(END, W) == date(2027, 1, 17)
    assert rules.index_horizon(date(2027, 1, 3), W) == END
    assert rules.forecast_end(date(2027, 1, 1), 30) == date(2027, 1, 31)


@pytest.mark.parametrize(
    ("term_end", "counted"),
    [(date(2027, 1, 31), True), (date(2027, 2, 1), False), (date(2027, 1, 1), True), (date(2026, 12, 28), True)],
)
def test_the_forecast_counts_renewals_due_within_the_window_and_those_overdue(term_end: date, counted: bool) -> None:
    assert rules.in_forecast(term_end, date(2027, 1, 1), 30) is counted


def test_settings_defaults_and_validation() -> None:
    assert from_environment({}) == RenewalSettings(hold_days=7, grace_days=7, forecast_days=30)
    got = from_environment({"RENEWAL_HOLD_DAYS": " 3 ", "RENEWAL_GRACE_DAYS": "0", "RENEWAL_FORECAST_DAYS": "14"})
    assert (got.hold_days, got.grace_days, got.forecast_days) == (3, 0, 14)
    assert got.windows == Windows(3, 0)
    for bad in ("-1", "seven", "2.5", "400"):
        with pytest.raises(ConfigurationError, match="RENEWAL_GRACE_DAYS"):
            from_environment({"RENEWAL_GRACE_DAYS": bad})
