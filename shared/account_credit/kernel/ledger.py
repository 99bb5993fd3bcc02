"""Ledger rules: the pure arithmetic of posting a movement. No I/O.

The store enforces the same floor again inside DynamoDB's condition expression, so
these rules decide the answer and the database guarantees it under concurrency.
"""

from __future__ import annotations

from dataclasses import replace

from account_credit.kernel.domain import Account, Floor, LedgerEntry, Movement
from account_credit.kernel.errors import CurrencyMismatchError, InsufficientFunds, InvalidInput
from account_credit.kernel.money import Money


def minimum_balance(account: Account, floor: Floor) -> int | None:
    """Lowest balance a debit may leave (None: no floor). What is held (reserved for renewals) is not spendable:
    a debit from the balance leaves at least ``held``, one on credit at least ``held - credit_limit``."""
    if floor is Floor.ZERO:
        return account.held
    if floor is Floor.CREDIT_LIMIT:
        return account.held - account.credit_limit
    return None


def reserve(account: Account, change: int) -> Account:
    """The account after its held amount changes by ``change`` (+ reserve, - use up or release).

    A reservation must be covered by the balance (everything held <= balance): InsufficientFunds otherwise, with
    the shortfall. Releasing more than is held is a programming error of the caller (InvalidInput)."""
    held = account.held + change
    if held < 0:
        raise InvalidInput(f"cannot release {-change}: only {account.held} is held", field="hold")
    if change > 0 and account.balance < held:
        shortfall = Money(held - account.balance, account.currency)
        free = Money(max(0, account.balance - account.held), account.currency)
        raise InsufficientFunds(
            f"{Money(change, account.currency)} cannot be reserved: {free} is free, short by {shortfall}",
            field="amount",
            shortfall=shortfall.amount,
            currency=account.currency,
            balance=account.balance,
            available=account.balance - account.held,
        )
    return replace(account, held=held)


def check(account: Account, movement: Movement) -> int:
    """Validate a movement against the account; returns the balance after it.

    Raises CurrencyMismatchError, InvalidInput (zero amount) or InsufficientFunds
    (with the shortfall in minor units).
    """
    if movement.amount.currency != account.currency:
        raise CurrencyMismatchError(
            f"account {account.account_id} is in {account.currency}, the movement is in {movement.amount.currency}",
            field="currency",
        )
    if movement.record_only:
        if movement.amount.amount != 0:
            raise InvalidInput("a record-only entry moves no money", field="amount")
        return account.balance
    if movement.amount.amount == 0:
        raise InvalidInput("amount must not be zero", field="amount")
    after = account.balance + movement.amount.amount
    if movement.amount.amount < 0:
        floor = minimum_balance(account, movement.floor)
        if floor is not None and after < floor:
            shortfall = Money(floor - after, account.currency)
            raise InsufficientFunds(
                f"{Money(-movement.amount.amount, account.currency)} needed, "
                f"{Money(account.balance - floor, account.currency)} available; short by {shortfall}",
                field="amount",
                shortfall=shortfall.amount,
                currency=account.currency,
                balance=account.balance,
                available=account.balance - floor,
            )
    return after


def post(
    account: Account, movement: Movement, *, entry_id: str, now: str, idempotency_key: str | None
) -> tuple[Account, LedgerEntry]:
    """Apply a movement to a known state: the account after it (as planned) and the entry that records it.

    The entry carries no ``seq``/``balance_after``: the store applies movements as commutative increments, so
    where an entry falls in the account's order is decided by the database (see LedgerEntry)."""
    after = check(account, movement)
    entry = LedgerEntry(
        entry_id=entry_id,
        account_id=account.account_id,
        type=movement.type,
        amount=movement.amount.amount,
        currency=account.currency,
        created_at=now,
        description=movement.description,
        actor=movement.actor,
        reference=dict(movement.reference),
        idempotency_key=idempotency_key,
    )
    return account.with_balance(after, account.seq + 1), entry
