"""Pure rules of auto top-up: the setting, when a change of the balance is a crossing, which card pays.

A crossing is the move of the balance from at or above the level (``below``) to under it, by a ledger movement
(the account's ``seq`` grew) - the low-balance alert's rule (notifications/rules.py) on the account's own level.
While the balance stays under the level further debits are no crossing, so nothing more is charged; a movement
that lifts it to or above the level re-arms it, and the next fall is another crossing, named by another ``seq``.
Changing the setting is never a crossing: enabling it while the balance is already low charges nothing until
the balance next falls through the level.
"""

from __future__ import annotations

from dataclasses import dataclass

from account_credit.payment_methods.reliance import Preferences

BALANCE = "balance"


@dataclass(frozen=True)
class Setting:
    """``below``: the level (minor units); ``amount``: what is charged and credited when the balance falls under
    it. Absent or disabled: nothing is ever charged."""

    enabled: bool = False
    below: int | None = None
    amount: int | None = None
    version: int = 0
    updated_at: str | None = None
    actor: str | None = None

    @property
    def armed(self) -> bool:
        return self.enabled and bool(self.below) and bool(self.amount)


def crossed(setting: Setting, old_balance: int, old_seq: int, new_balance: int, new_seq: int) -> bool:
    """Is this change of the account item (old image -> new image) a fall through the auto top-up level?"""
    if not setting.armed or setting.below is None:
        return False
    return new_seq > old_seq and old_balance >= setting.below > new_balance


def candidates(prefs: Preferences) -> list[str]:
    """The payment methods that may pay, in order: the default, then the alternate (the balance never: it is what
    is being topped up). The service charges the first of them that is a card; none: nothing is charged."""
    return [m for m in dict.fromkeys((prefs.default, prefs.alternate)) if m and m != BALANCE]
