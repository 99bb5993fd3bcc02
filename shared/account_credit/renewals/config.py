"""Settings of the renewal schedule, from the environment, validated once per process (like platform/config.py).

RENEWAL_HOLD_DAYS (7): how many days before a renewal its amount is reserved on the balance.
RENEWAL_GRACE_DAYS (7): how many days after the renewal date an unpaid renewal is tried again before the
subscription is suspended. RENEWAL_FORECAST_DAYS (30): the forecast window (renewals due that soon).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from account_credit.platform.config import ConfigurationError
from account_credit.renewals.rules import Windows

MAX_DAYS = 366


@dataclass(frozen=True)
class RenewalSettings:
    hold_days: int = 7
    grace_days: int = 7
    forecast_days: int = 30

    @property
    def windows(self) -> Windows:
        return Windows(hold_days=self.hold_days, grace_days=self.grace_days)


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    text = raw.strip()
    if not text.isdigit() or int(text) > MAX_DAYS:
        raise ConfigurationError(f"{name} must be a whole number of days from 0 to {MAX_DAYS}, not {raw!r}")
    return int(text)


def from_environment(env: Mapping[str, str]) -> RenewalSettings:
    """The settings ``env`` describes (ConfigurationError naming the variable for a malformed one)."""
    return RenewalSettings(
        hold_days=_days(env, "RENEWAL_HOLD_DAYS", RenewalSettings.hold_days),
        grace_days=_days(env, "RENEWAL_GRACE_DAYS", RenewalSettings.grace_days),
        forecast_days=_days(env, "RENEWAL_FORECAST_DAYS", RenewalSettings.forecast_days),
    )


@lru_cache(maxsize=1)
def renewal_settings() -> RenewalSettings:
    return from_environment(os.environ)
