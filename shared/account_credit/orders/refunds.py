"""Refunds by certificate count: the pure rules (who may refund, how much a refund of some certificates is, and
where the money goes back). No I/O: the refund command (the refunds issue) executes what these decide.

* **Who, and until when.** The account's owner and its partner refund an order within ``window_days`` (30) of
  the day it was placed; operators refund an order of any age. ``may_refund`` says why not.
* **How much.** A line of ``quantity`` certificates costs ``gross`` (net + its VAT share). Refunding ``k`` more
  of them, after ``done`` were refunded before, gives back ``part(gross, done + k) - part(gross, done)`` where
  ``part(gross, n) = scale(gross, n, quantity)`` (``kernel.money.scale``: the service's one rounding rule). So
  the refunds of a line never add up to more than the line, and refunding all of it gives back exactly its gross,
  whatever the steps.
* **Where to.** The money goes back the way it came, per source, never more to a source than it paid less what
  was given back to it before: first the part drawn on credit (a refund of a draw on credit reduces the credit
  used), then the balance, then the card or the gift card. An order is paid by one method, so in practice the
  order is: credit, then balance (a balance order that crossed zero), or the card, or the gift card.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from account_credit.kernel.auth import Role
from account_credit.kernel.errors import InvalidInput
from account_credit.kernel.money import scale

WINDOW_DAYS = 30
# The sources an order's money came from, in the order a refund gives it back.
SOURCES = ("credit", "balance", "card", "gift_card")


def may_refund(role: Role, placed_at: datetime, now: datetime, window_days: int = WINDOW_DAYS) -> str | None:
    """None when ``role`` may refund an order placed at ``placed_at`` now, else why not (for a 403 problem)."""
    if role is Role.OPERATOR:
        return None
    if now - placed_at <= timedelta(days=window_days):
        return None
    return (
        f"the order was placed on {placed_at.date().isoformat()}, more than {window_days} days ago: "
        "only an operator can refund it now"
    )


def part(gross: int, refunded: int, quantity: int) -> int:
    """What ``refunded`` of a line's ``quantity`` certificates are worth (the line costs ``gross``)."""
    return scale(gross, refunded, quantity)


def line_refund(gross: int, quantity: int, done: int, more: int, *, field: str) -> int:
    """What refunding ``more`` certificates of a line gives back after ``done`` were refunded before."""
    if more < 1:
        raise InvalidInput("refund at least one certificate", field=field)
    if done + more > quantity:
        raise InvalidInput(
            f"{more} cannot be refunded: {quantity - done} of {quantity} certificates are left to refund",
            field=field,
            refundable=quantity - done,
        )
    return part(gross, done + more, quantity) - part(gross, done, quantity)


@dataclass(frozen=True)
class Split:
    """Where a refund's money goes back: minor units per source (``SOURCES``), each > 0."""

    parts: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(amount for _source, amount in self.parts)

    def of(self, source: str) -> int:
        return dict(self.parts).get(source, 0)


def split(amount: int, paid: Mapping[str, int], given_back: Mapping[str, int]) -> Split:
    """Share ``amount`` among the sources the order was paid from (``paid``), in ``SOURCES`` order, each getting
    at most what it paid less what was given back to it before (``given_back``). ValueError when the sources have
    less left than ``amount`` (the per-line rule above keeps that from happening)."""
    unknown = set(paid) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown sources {sorted(unknown)}")
    left = amount
    parts: list[tuple[str, int]] = []
    for source in SOURCES:
        room = paid.get(source, 0) - given_back.get(source, 0)
        take = min(left, max(0, room))
        if take:
            parts.append((source, take))
            left -= take
    if left:
        raise ValueError(f"{left} more than the order's sources have left to give back")
    return Split(tuple(parts))
