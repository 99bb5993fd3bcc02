"""What a caller asks of the accounts capability that moves money, in domain terms: no HTTP request, no principal.

The adjustments router turns a request and its (operator) caller into ``Adjust``; a schedule, a batch job or a
stream consumer builds the same command itself, or calls ``accounts.service.credit`` / ``debit``. Authorization
happens at the edge, before: the service trusts that whoever built the command may send it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from account_credit.kernel.domain import Floor
from account_credit.kernel.errors import InvalidInput

Direction = Literal["credit", "debit"]
# What an operator's adjustment may use: a debit may take the balance down into the credit line, never beyond.
DEFAULT_FLOOR = Floor.CREDIT_LIMIT


@dataclass(frozen=True)
class Adjust:
    """Credit or debit an account's balance with a reason: one ledger entry, once per ``idempotency_key``.

    ``amount`` is positive minor units of the account's currency (``direction`` gives the sign); ``currency``, if
    given, must be the account's. ``actor`` is who asked (``operator:<sub>``, ``schedule:<name>``...), written on
    the entry. ``floor`` is how low a debit may take the balance; ``reference`` is kept on the entry.
    """

    account_id: str
    direction: Direction
    amount: int
    reason: str
    idempotency_key: str
    actor: str
    currency: str | None = None
    floor: Floor = DEFAULT_FLOOR
    reference: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.direction not in ("credit", "debit"):
            raise InvalidInput(f"direction must be credit or debit, not {self.direction!r}", field="type")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise InvalidInput("the amount must be a positive number of minor units", field="amount")
        if not self.reason.strip():
            raise InvalidInput("an adjustment needs a reason", field="reason")

    def fingerprint(self) -> dict[str, Any]:
        """What the idempotency key pins: exactly the body of ``POST /adjustments`` (so stored records replay);
        a floor other than the operator's and a reference are pinned too when a caller sets them."""
        body: dict[str, Any] = {
            "type": self.direction,
            "amount": self.amount,
            "reason": self.reason,
            "currency": self.currency,
        }
        if self.floor != DEFAULT_FLOOR:
            body["floor"] = Floor(self.floor).value
        if self.reference:
            body["reference"] = dict(self.reference)
        return body
