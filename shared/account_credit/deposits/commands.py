"""What a caller asks of the deposits capability, in domain terms: no HTTP request, no principal.

The router turns a request and its authorized caller into ``CreateDeposit``; anything else that opens a top-up
(a job, a console) builds the same command. The provider's webhooks take no caller at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from account_credit.kernel.errors import InvalidInput

DepositMethod = Literal["card", "bank_transfer"]


@dataclass(frozen=True)
class CreateDeposit:
    """Open a top-up: a pending card payment (the checkout to pay it with) or a proforma invoice for a bank
    transfer; once per ``idempotency_key`` (a replay answers the first result and opens no second checkout).
    ``amount`` is minor units of the account's currency (``currency``, if given, must be it); ``actor`` is who
    asked, kept on the deposit."""

    account_id: str
    method: DepositMethod
    amount: int
    idempotency_key: str
    actor: str
    currency: str | None = None
    save_card: bool = False

    def __post_init__(self) -> None:
        if self.method not in ("card", "bank_transfer"):
            raise InvalidInput(f"method must be card or bank_transfer, not {self.method!r}", field="method")
        if self.save_card and self.method != "card":
            raise InvalidInput("save_card applies to card top-ups only", field="save_card")

    def fingerprint(self) -> dict[str, Any]:
        """What the idempotency key pins: exactly the body of ``POST /deposits`` (stored records replay)."""
        return {"method": self.method, "amount": self.amount, "currency": self.currency, "save_card": self.save_card}
