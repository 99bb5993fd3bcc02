"""How an order may be paid: the payment decision as pure functions. No I/O.

An order is paid by the first method of an ordered list that succeeds (docs: README "Orders" and
"Payment methods"). The list:

* given by the caller (``PayOrder.methods``: a renewal's assigned method, then the alternate): exactly those,
  in order; ``balance`` is a debit with floor zero, ``credit`` one with floor ``-credit_limit``;
* otherwise (API orders), the account's rule:

  1. *bill to account balance* is on -> the balance;
  2. cards are on and the channel accepts cards -> the account's default, then its alternate payment method,
     when they are cards or gift cards (charged off-session / redeemed); a decline or a gift card that does not
     cover the total goes on;
  3. the order may use credit -> ``balance + credit_limit`` (emergency purchase);

  each method once. Nothing pays -> decline (insufficient funds).

A pay-on-invoice method cannot pay an order at once (``needs_transfer``: the renewal issues a payment request);
a card or gift card while cards are off or on a balance-only channel is ``unavailable``, as is a method that no
longer exists. ``attempts`` builds the list; the service (``orders/payment.py``) executes it against the store
and the provider WITHOUT reading the balance first: balance and credit are conditional writes that fail inside
the transaction when the balance does not cover them. ``decide`` is the same rule with every outcome known up
front; it is the reference the tests hold the executing service to, for every combination.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class PayMethod(StrEnum):
    BALANCE = "balance"
    CARD = "card"
    GIFT_CARD = "gift_card"
    CREDIT = "credit"
    INVOICE = "invoice"


class Outcome(StrEnum):
    PAID = "paid"
    DECLINED = "declined"  # the provider declined the card (or it has expired)
    INSUFFICIENT = "insufficient"  # balance, credit or gift card do not cover the total
    NEEDS_TRANSFER = "needs_transfer"  # pay on invoice: cannot pay an order at once
    UNAVAILABLE = "unavailable"  # no such method any more, or cards are off for this account / channel


@dataclass(frozen=True)
class Option:
    """One method to try: its kind (None: no such method) and, for a stored method, its id."""

    method: PayMethod | None
    payment_method_id: str | None = None


BALANCE = Option(PayMethod.BALANCE, "balance")
CREDIT = Option(PayMethod.CREDIT)


@dataclass(frozen=True)
class PaymentContext:
    """Everything the decision depends on that is known before any money moves."""

    bill_to_balance: bool
    cards_enabled: bool
    channel_accepts_cards: bool
    may_use_credit: bool
    preferred: tuple[Option, ...] = ()  # the account's default and alternate methods, in that order
    given: tuple[Option, ...] | None = None  # the caller's list (PayOrder.methods); None: the account's rule

    @property
    def cards_allowed(self) -> bool:
        return self.cards_enabled and self.channel_accepts_cards


def attempts(ctx: PaymentContext) -> tuple[Option, ...]:
    """The methods to try, in order; the first that succeeds pays the order."""
    out: list[Option] = []
    if ctx.given is not None:
        out = list(ctx.given)
    else:
        if ctx.bill_to_balance:
            out.append(BALANCE)
        if ctx.cards_allowed:
            out += [o for o in ctx.preferred if o.method in (PayMethod.CARD, PayMethod.GIFT_CARD)]
        if ctx.may_use_credit:
            # An explicit opt-in per order: the credit line is the account's own (DigiCert's
            # emergency purchase), so it applies even when bill-to-balance is off.
            out.append(CREDIT)
    return tuple(dict.fromkeys(out))


def usable(ctx: PaymentContext, option: Option) -> bool:
    """Whether ``option`` may be tried at all (else it is ``unavailable``)."""
    if option.method is None:
        return False
    if option.method in (PayMethod.CARD, PayMethod.GIFT_CARD):
        return ctx.cards_allowed
    return True


def covers(method: PayMethod, *, balance: int, credit_limit: int, total: int) -> bool:
    """Whether a balance debit (floor 0) or a credit debit (floor -credit_limit) covers ``total``."""
    if method is PayMethod.BALANCE:
        return balance - total >= 0
    if method is PayMethod.CREDIT:
        return balance - total >= -credit_limit
    raise ValueError(f"{method} is not a debit of the balance")


def outcome(
    ctx: PaymentContext, option: Option, *, balance: int, credit_limit: int, total: int, accepts: Mapping[str, bool]
) -> Outcome:
    """What trying ``option`` gives; ``accepts``: per payment method id, whether the card approves (not declined,
    not expired) or the gift card covers the total."""
    if not usable(ctx, option) or option.method is None:
        return Outcome.UNAVAILABLE
    if option.method in (PayMethod.BALANCE, PayMethod.CREDIT):
        ok = covers(option.method, balance=balance, credit_limit=credit_limit, total=total)
        return Outcome.PAID if ok else Outcome.INSUFFICIENT
    if option.method is PayMethod.INVOICE:
        return Outcome.NEEDS_TRANSFER
    if accepts.get(option.payment_method_id or "", False):
        return Outcome.PAID
    return Outcome.DECLINED if option.method is PayMethod.CARD else Outcome.INSUFFICIENT


def decide(
    ctx: PaymentContext, *, balance: int, credit_limit: int, total: int, accepts: Mapping[str, bool]
) -> tuple[Option | None, tuple[tuple[Option, Outcome], ...]]:
    """The option that pays the order (None: a decline) and every attempt with its outcome, in order (reference
    model of the service)."""
    tried: list[tuple[Option, Outcome]] = []
    for option in attempts(ctx):
        result = outcome(ctx, option, balance=balance, credit_limit=credit_limit, total=total, accepts=accepts)
        tried.append((option, result))
        if result is Outcome.PAID:
            return option, tuple(tried)
    return None, tuple(tried)


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
