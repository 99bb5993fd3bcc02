"""Pure rules: when does a balance change deserve an alert (once per crossing)?

An alert kind is "below" a line: ``low_balance`` (balance < the account's threshold)
and ``credit_in_use`` (balance < 0). A crossing is the move from not-below to below,
whether the balance fell or the line was raised above it. While below, further debits
("down again") and unrelated changes send nothing. A movement that lifts the balance
to or above the line **re-arms** the alert. A threshold change alone never re-arms: the
same balance is not alerted twice for one crossing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from account_credit.kernel.domain import Account


class AlertKind(StrEnum):
    LOW_BALANCE = "low_balance"
    CREDIT_IN_USE = "credit_in_use"


def line(kind: AlertKind, account: Account) -> int | None:
    if kind is AlertKind.LOW_BALANCE:
        return account.settings.low_balance_threshold
    return 0


def below(kind: AlertKind, account: Account) -> bool:
    limit = line(kind, account)
    return limit is not None and account.balance < limit


@dataclass(frozen=True)
class Decision:
    kind: AlertKind
    action: str  # "alert" | "rearm"


def decide(old: Account | None, new: Account) -> list[Decision]:
    """What a change of the account item (old image -> new image) means for each alert kind."""
    out: list[Decision] = []
    moved_up = old is not None and new.seq > old.seq and new.balance > old.balance
    for kind in AlertKind:
        now_below = below(kind, new)
        was_below = old is not None and below(kind, old)
        if now_below and not was_below:
            out.append(Decision(kind, "alert"))
        elif not now_below and moved_up and line(kind, new) is not None:
            out.append(Decision(kind, "rearm"))
    return out
