"""What a planned money write relies on, so the write can be conditioned on exactly that and nothing more.

Movements are commutative increments (``ADD balance :delta``): two orders on one account do not need to see each
other, only to leave the balance above its floor. So a write is not pinned to the state it was planned on (a
version); it is conditioned on the facts its plan and its answer depend on:

- the floor of every debit, as the lowest starting balance that keeps it (``balance >= low``);
- the credit limit, when a floor is ``-credit_limit``, and the amount held (reserved for renewals), when any floor
  counts it;
- the side of the low-balance threshold the account ends on, because the write sets or removes the account's
  sparse-index keys: the starting balance stays on the side that gives the planned side (``<= high`` or
  ``>= low``), and the threshold itself is unchanged;
- whatever the caller's answer needs: a balance range (an order paid partly from the balance and partly on
  credit states the exact split, so it relies on the starting balance lying where that split holds) and payment
  settings (an order paid from the balance relies on *bill to balance* still being on).

Any starting balance inside the range gives the same answer and the same items, so the write commutes with every
other write that keeps the range; outside it the condition fails, DynamoDB returns the current item and the plan
is made again on it. Pure: no I/O. Both stores use it (DynamoDB as a condition expression, the fake by ``holds``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from account_credit.kernel import ledger
from account_credit.kernel.domain import Account, Floor, Movement

BalanceRange = tuple[int | None, int | None]  # (lowest, highest) starting balance, inclusive; None: unbounded


def floor_need(before: Account, movements: Iterable[Movement]) -> int | None:
    """The lowest starting balance for which every debit in ``movements`` (applied in order) keeps its floor:
    ``balance + cumulative_delta_i >= floor_i``  <=>  ``balance >= floor_i - cumulative_delta_i``; a reservation
    (``hold`` > 0) is a floor too: the balance covers everything held after it. Floors count what is held at that
    point (``ledger.minimum_balance``). None when no movement has a floor to keep."""
    need: int | None = None
    cumulative = 0
    held = before.held
    for m in movements:
        held += m.hold
        if m.hold > 0:
            need = _max(need, held - cumulative)
        cumulative += m.amount.amount
        if m.amount.amount < 0:
            floor = ledger.minimum_balance(replace(before, held=held), m.floor)
            if floor is not None:
                need = _max(need, floor - cumulative)
    return need


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


@dataclass(frozen=True)
class Reliance:
    """The conditions of one account's update in a money write."""

    low: int | None  # the starting balance is at least this
    high: int | None  # ... and at most this
    credit_limit: int | None  # the credit limit is still this (None: not relied on)
    threshold: int | None  # the low-balance threshold is still this (None: still unset)
    below: bool  # after the write the account is below its threshold (it carries the sparse-index keys)
    settings: tuple[tuple[str, Any], ...] = ()  # payment settings (name, value) the answer was decided on
    held: int | None = None  # the amount held is still this (None: not relied on); floors count it

    def holds(self, account: Account) -> bool:
        """Whether a write planned with this reliance is valid on ``account`` as it is now."""
        b = account.balance
        return (
            (self.low is None or b >= self.low)
            and (self.high is None or b <= self.high)
            and (self.credit_limit is None or account.credit_limit == self.credit_limit)
            and account.settings.low_balance_threshold == self.threshold
            and all(getattr(account.settings, name) == value for name, value in self.settings)
            and (self.held is None or account.held == self.held)
        )


def reliance(
    before: Account,
    movements: list[Movement],
    after: Account,
    answer_range: BalanceRange = (None, None),
    settings: tuple[str, ...] = (),
) -> Reliance:
    """What the plan ``before`` -> ``after`` by ``movements`` (and the answer built on it, which relies on
    ``answer_range`` and the payment ``settings`` named) relies on."""
    need = floor_need(before, movements)
    low, high = _max(need, answer_range[0]), answer_range[1]
    # Every floor counts what is held, so a write that keeps one relies on the held amount being unchanged.
    held = before.held if need is not None else None
    credit_limit = before.credit_limit if any(m.floor is Floor.CREDIT_LIMIT for m in movements) else None
    threshold = before.settings.low_balance_threshold
    below = threshold is not None and after.balance < threshold
    if threshold is not None:
        delta = after.balance - before.balance
        if below:
            high = _min(high, threshold - delta - 1)  # before + delta < threshold
        else:
            low = _max(low, threshold - delta)  # before + delta >= threshold
    relied = tuple((name, getattr(before.settings, name)) for name in sorted(settings))
    out = Reliance(
        low=low, high=high, credit_limit=credit_limit, threshold=threshold, below=below, settings=relied, held=held
    )
    if not out.holds(before):
        raise AssertionError(f"a plan must hold on the state it was made on: {out} on balance {before.balance}")
    return out
