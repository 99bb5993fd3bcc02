"""What a subscription due for renewal needs today: pure date arithmetic, no I/O (table-tested).

A subscription renews on its ``term_end`` (exclusive end of the current term = the first day of the next):

* **hold window**: from ``term_end - hold_days`` to the day before ``term_end``, the renewal amount is reserved on
  the balance (``holds.place``, once per subscription and term), so other orders cannot spend it.
* **renewal day and grace**: on ``term_end`` the renewal is paid; if nothing pays it, it is tried again every day
  up to and including ``retry_until = term_end + grace_days``. A renewal still unpaid after the attempt of that day
  (or of any later day: a schedule that did not run for a while still tries once) suspends the subscription.
* **forecast window**: the renewals whose ``term_end`` lies in ``[today, today + days]`` are what the account must
  be able to pay soon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Action(StrEnum):
    WAIT = "wait"  # not due, not in the hold window
    HOLD = "hold"  # in the hold window: reserve the renewal amount (once)
    RENEW = "renew"  # due (or in its grace period): pay it now
    RENEW_OR_SUSPEND = "renew_or_suspend"  # the last attempt: pay it now, suspend if nothing pays it


@dataclass(frozen=True)
class Windows:
    hold_days: int  # days before term_end the renewal amount is reserved
    grace_days: int  # days after term_end an unpaid renewal is tried again


def hold_opens(term_end: date, w: Windows) -> date:
    """The first day of the hold window."""
    return term_end - timedelta(days=w.hold_days)


def retry_until(term_end: date, w: Windows) -> date:
    """The last day a renewal is tried; unpaid after it, the subscription is suspended."""
    return term_end + timedelta(days=w.grace_days)


def action(term_end: date, today: date, w: Windows) -> Action:
    """What the renewal schedule does today for an active, auto-renewing subscription whose term ends on
    ``term_end``."""
    if today >= term_end:
        return Action.RENEW_OR_SUSPEND if today >= retry_until(term_end, w) else Action.RENEW
    if today >= hold_opens(term_end, w):
        return Action.HOLD
    return Action.WAIT


def index_horizon(today: date, w: Windows) -> date:
    """The latest renewal date the schedule must look at today (its hold window has opened)."""
    return today + timedelta(days=w.hold_days)


def in_forecast(term_end: date, today: date, days: int) -> bool:
    """Whether a renewal on ``term_end`` counts in the forecast of the next ``days`` days (overdue ones, still in
    their grace period, count too: they are due now)."""
    return term_end <= today + timedelta(days=days)


def forecast_end(today: date, days: int) -> date:
    return today + timedelta(days=days)
