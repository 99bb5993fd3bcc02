"""How an order may be paid: the payment decision as pure functions. No I/O.

The decision, in this order (docs: README "Orders"):

1. *bill to account balance* is on and the balance covers the total -> debit the balance;
2. otherwise, cards are on, the channel accepts cards and the account has a default card
   -> charge it off-session; a decline goes on to 3;
3. otherwise, the order may use credit and ``balance + credit_limit`` covers it -> debit
   into the credit line (emergency purchase);
4. otherwise decline (insufficient funds).

``attempts`` turns settings, channel, card and the order's opt-in into the ordered list
of methods to try. The service (``orders/service.py``) executes that list against the
store and the provider WITHOUT reading the balance first: step 1 and 3 are conditional
writes that fail inside the transaction when the balance does not cover them.
``decide`` is the same rule with every outcome known up front; it is the reference the
tests hold the executing service to, for every combination.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PayMethod(StrEnum):
    BALANCE = "balance"
    CARD = "card"
    CREDIT = "credit"


@dataclass(frozen=True)
class PaymentContext:
    """Everything the decision depends on that is known before any money moves."""

    bill_to_balance: bool
    cards_enabled: bool
    channel_accepts_cards: bool
    has_card: bool
    may_use_credit: bool


def attempts(ctx: PaymentContext) -> tuple[PayMethod, ...]:
    """The methods to try, in order; the first that succeeds pays the order."""
    out: list[PayMethod] = []
    if ctx.bill_to_balance:
        out.append(PayMethod.BALANCE)
    if ctx.cards_enabled and ctx.channel_accepts_cards and ctx.has_card:
        out.append(PayMethod.CARD)
    if ctx.may_use_credit:
        # An explicit opt-in per order: the credit line is the account's own (DigiCert's
        # emergency purchase), so it applies even when bill-to-balance is off.
        out.append(PayMethod.CREDIT)
    return tuple(out)


def covers(method: PayMethod, *, balance: int, credit_limit: int, total: int) -> bool:
    """Whether a balance debit (floor 0) or a credit debit (floor -credit_limit) covers ``total``."""
    if method is PayMethod.BALANCE:
        return balance - total >= 0
    if method is PayMethod.CREDIT:
        return balance - total >= -credit_limit
    raise ValueError(f"{method} is not a debit of the balance")


def decide(
    ctx: PaymentContext, *, balance: int, credit_limit: int, total: int, card_approved: bool
) -> PayMethod | None:
    """The method that pays the order, or None for a decline (reference model of the service)."""
    for method in attempts(ctx):
        if method is PayMethod.CARD:
            if card_approved:
                return method
        elif covers(method, balance=balance, credit_limit=credit_limit, total=total):
            return method
    return None


def split(balance_before: int, total: int) -> tuple[int, int]:
    """How much of a debit of ``total`` came from a positive balance and how much from credit."""
    from_balance = max(0, min(total, balance_before))
    return from_balance, total - from_balance


def split_range(balance_before: int, total: int) -> tuple[int | None, int | None]:
    """The starting balances that give the same ``split`` as ``balance_before`` (inclusive; None: unbounded):
    all of it from the balance, all of it on credit, or — when the order crosses zero — exactly this balance."""
    if balance_before >= total:
        return total, None
    if balance_before <= 0:
        return None, 0
    return balance_before, balance_before
