"""The one retry helper: how often it tries, what it retries, what it raises when the budget is spent."""

from __future__ import annotations

import pytest

from account_credit.kernel.errors import ConcurrentUpdate, Conflict, NotFound
from account_credit.platform import retry as retry_module
from account_credit.platform.retry import backoff, retry


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(retry_module.time, "sleep", slept.append)
    return slept


class Flaky:
    """Raises ``error`` the first ``failures`` times, then answers ``"done"``."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


def test_retries_until_an_attempt_succeeds(sleeps: list[float]) -> None:
    attempt = Flaky(3, Conflict("moved"))
    assert retry(attempt, on=(Conflict,), attempts=5) == "done"
    assert attempt.calls == 4
    assert len(sleeps) == 3  # one backoff between tries


def test_exhausted_raises_the_given_error_chained_to_the_last_failure(sleeps: list[float]) -> None:
    last = Conflict("moved")
    attempt = Flaky(10, last)
    with pytest.raises(ConcurrentUpdate, match="keeps changing") as info:
        retry(attempt, on=(Conflict,), attempts=4, exhausted=ConcurrentUpdate("keeps changing"))
    assert attempt.calls == 4
    assert info.value.__cause__ is last
    assert len(sleeps) == 3  # no sleep after the last attempt


def test_without_an_exhaustion_error_the_last_failure_is_raised(sleeps: list[float]) -> None:
    attempt = Flaky(10, Conflict("moved"))
    with pytest.raises(Conflict, match="moved"):
        retry(attempt, on=(Conflict,), attempts=2)
    assert attempt.calls == 2


def test_other_errors_are_not_retried(sleeps: list[float]) -> None:
    attempt = Flaky(1, NotFound("gone"))
    with pytest.raises(NotFound):
        retry(attempt, on=(Conflict,), attempts=5, exhausted=ConcurrentUpdate("never"))
    assert attempt.calls == 1
    assert sleeps == []


def test_at_least_one_attempt() -> None:
    with pytest.raises(ValueError):
        retry(lambda: None, on=(Conflict,), attempts=0)


def test_backoff_is_full_jitter_below_its_cap(sleeps: list[float]) -> None:
    for attempt in range(12):
        backoff(attempt)
    backoff(3, base=0.002)
    assert all(0 <= s <= min(0.5, 0.01 * 2**a) for a, s in enumerate(sleeps[:12]))
    assert 0 <= sleeps[12] <= 0.016
