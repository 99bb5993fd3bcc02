"""Ledger rules: how low each floor lets a debit go, and what ``post`` records."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from account_credit.kernel import ledger
from account_credit.kernel.domain import Account, CompanyDetails, Floor, LedgerEntry, Movement, PaymentSettings
from account_credit.kernel.errors import CurrencyMismatchError, InsufficientFunds, InvalidInput
from account_credit.kernel.money import Money


def make_account(balance: int = 0, credit_limit: int = 0, currency: str = "USD", seq: int = 0) -> Account:
    return Account(
        account_id="acc_test",
        currency=currency,
        company=CompanyDetails(name="Acme"),
        billing_emails=("billing@acme.test",),
        partner_id=None,
        settings=PaymentSettings(),
        credit_limit=credit_limit,
        balance=balance,
        seq=seq,
    )


def movement(amount: int, floor: Floor = Floor.ZERO, currency: str = "USD", **kw: object) -> Movement:
    return Movement(account_id="acc_test", amount=Money(amount, currency), type="test", floor=floor, **kw)  # type: ignore[arg-type]


def lowest_allowed(account: Account, floor: Floor) -> int | None:
    """The documented meaning of each floor."""
    return {Floor.ZERO: 0, Floor.CREDIT_LIMIT: -account.credit_limit, Floor.NONE: None}[floor]


# --------------------------------------------------------------------------- minimum_balance


@pytest.mark.parametrize("credit_limit", [0, 1, 200_000])
def test_minimum_balance_per_floor(credit_limit: int) -> None:
    acc = make_account(balance=123, credit_limit=credit_limit)
    assert ledger.minimum_balance(acc, Floor.ZERO) == 0
    assert ledger.minimum_balance(acc, Floor.CREDIT_LIMIT) == -credit_limit
    assert ledger.minimum_balance(acc, Floor.NONE) is None


# --------------------------------------------------------------------------- boundaries


BOUNDED = [
    # (floor, balance, credit_limit)
    (Floor.ZERO, 1000, 500),
    (Floor.ZERO, 1, 0),
    (Floor.CREDIT_LIMIT, 1000, 500),
    (Floor.CREDIT_LIMIT, 0, 200_000),
    (Floor.CREDIT_LIMIT, -100, 500),  # already using the credit line
    (Floor.CREDIT_LIMIT, 250, 0),  # no credit line: same as ZERO
]


@pytest.mark.parametrize(("floor", "balance", "credit_limit"), BOUNDED)
def test_debit_down_to_exactly_the_floor_is_allowed(floor: Floor, balance: int, credit_limit: int) -> None:
    acc = make_account(balance=balance, credit_limit=credit_limit)
    low = lowest_allowed(acc, floor)
    assert low is not None
    debit = balance - low
    assert ledger.check(acc, movement(-debit, floor)) == low
    after, entry = ledger.post(acc, movement(-debit, floor), entry_id="ent_1", now="t", idempotency_key=None)
    assert (after.balance, entry.amount) == (low, -debit)


@pytest.mark.parametrize(("floor", "balance", "credit_limit"), BOUNDED)
@pytest.mark.parametrize("beyond", [1, 2, 99, 10**9])
def test_debit_past_the_floor_is_refused_with_the_exact_shortfall(
    floor: Floor, balance: int, credit_limit: int, beyond: int
) -> None:
    acc = make_account(balance=balance, credit_limit=credit_limit)
    low = lowest_allowed(acc, floor)
    assert low is not None
    debit = balance - low + beyond
    with pytest.raises(InsufficientFunds) as info:
        ledger.check(acc, movement(-debit, floor))
    err = info.value
    assert err.extra["shortfall"] == beyond
    assert err.extra["currency"] == "USD"
    assert err.extra["balance"] == balance
    assert err.extra["available"] == balance - low
    assert err.field == "amount"
    assert err.status == 402
    # post applies the same rule and produces nothing.
    with pytest.raises(InsufficientFunds):
        ledger.post(acc, movement(-debit, floor), entry_id="ent_1", now="t", idempotency_key=None)


def test_zero_floor_ignores_the_credit_line() -> None:
    acc = make_account(balance=100, credit_limit=1_000_000)
    with pytest.raises(InsufficientFunds) as info:
        ledger.check(acc, movement(-101, Floor.ZERO))
    assert info.value.extra["shortfall"] == 1


def test_zero_floor_on_an_overdrawn_account_needs_the_whole_gap() -> None:
    acc = make_account(balance=-200, credit_limit=500)
    with pytest.raises(InsufficientFunds) as info:
        ledger.check(acc, movement(-1, Floor.ZERO))
    assert info.value.extra["shortfall"] == 201
    assert info.value.extra["available"] == -200


@pytest.mark.parametrize("debit", [1, 1000, 200_001, 10**13])
@pytest.mark.parametrize("balance", [-(10**9), -1, 0, 500])
def test_no_floor_allows_any_debit(debit: int, balance: int) -> None:
    acc = make_account(balance=balance, credit_limit=200_000)
    assert ledger.check(acc, movement(-debit, Floor.NONE)) == balance - debit


@pytest.mark.parametrize("floor", list(Floor))
@pytest.mark.parametrize("balance", [-(10**9), -200_001, -1, 0, 7])
@pytest.mark.parametrize("credit", [1, 5, 10**12])
def test_credits_are_never_refused(floor: Floor, balance: int, credit: int) -> None:
    # Even an account below every floor can always receive money.
    acc = make_account(balance=balance, credit_limit=200_000)
    assert ledger.check(acc, movement(credit, floor)) == balance + credit


@pytest.mark.parametrize("floor", list(Floor))
def test_zero_amount_is_refused(floor: Floor) -> None:
    with pytest.raises(InvalidInput) as info:
        ledger.check(make_account(balance=100, credit_limit=100), movement(0, floor))
    assert info.value.field == "amount"
    assert not isinstance(info.value, InsufficientFunds)


@pytest.mark.parametrize("amount", [1, -1, 0])
def test_currency_mismatch_is_refused_before_anything_else(amount: int) -> None:
    acc = make_account(balance=1000, credit_limit=0, currency="USD")
    with pytest.raises(CurrencyMismatchError) as info:
        ledger.check(acc, movement(amount, Floor.ZERO, currency="EUR"))
    assert info.value.field == "currency"
    assert info.value.status == 422
    with pytest.raises(CurrencyMismatchError):
        ledger.post(acc, movement(amount, currency="JPY"), entry_id="e", now="t", idempotency_key=None)


def test_insufficient_funds_message_states_the_amounts() -> None:
    acc = make_account(balance=1000, credit_limit=500)
    with pytest.raises(InsufficientFunds) as info:
        ledger.check(acc, movement(-2000, Floor.CREDIT_LIMIT))
    assert "20.00 USD" in info.value.detail  # needed
    assert "15.00 USD" in info.value.detail  # available
    assert "5.00 USD" in info.value.detail  # shortfall


# --------------------------------------------------------------------------- post


def test_post_records_the_movement_and_advances_seq() -> None:
    acc = make_account(balance=1000, credit_limit=0, seq=41)
    ref = {"order_id": "ord_1"}
    m = movement(-250, Floor.ZERO, description="refund", actor="operator:op-1", reference=ref)
    after, entry = ledger.post(acc, m, entry_id="ent_x", now="2026-03-01T09:00:00.000000Z", idempotency_key="k-1")

    assert after.balance == 750
    assert after.seq == 42
    # Where the entry falls (seq) and the balance after it are the sequencer's: the write commutes.
    assert entry == LedgerEntry(
        entry_id="ent_x",
        account_id="acc_test",
        type="test",
        amount=-250,
        currency="USD",
        created_at="2026-03-01T09:00:00.000000Z",
        description="refund",
        actor="operator:op-1",
        reference={"order_id": "ord_1"},
        idempotency_key="k-1",
    )
    # Only balance and seq move; the input account is a value and stays as it was.
    assert (acc.balance, acc.seq) == (1000, 41)
    assert after.credit_limit == acc.credit_limit
    assert after.account_id == acc.account_id
    # The entry does not alias the movement's reference.
    ref["order_id"] = "changed"
    assert entry.reference == {"order_id": "ord_1"}


def test_post_twice_chains_balance_and_seq() -> None:
    acc = make_account(balance=0, credit_limit=100)
    acc, e1 = ledger.post(acc, movement(500), entry_id="e1", now="t1", idempotency_key=None)
    acc, e2 = ledger.post(acc, movement(-550, Floor.CREDIT_LIMIT), entry_id="e2", now="t2", idempotency_key=None)
    assert (e1.amount, e2.amount) == (500, -550)
    assert (e1.seq, e1.balance_after, e2.seq, e2.balance_after) == (None, None, None, None)
    assert (acc.balance, acc.seq) == (-50, 2)
    assert acc.available == 50


# --------------------------------------------------------------------------- property


movements_st = st.lists(
    st.tuples(
        st.integers(min_value=-(10**6), max_value=10**6).filter(bool),
        st.sampled_from(list(Floor)),
    ),
    max_size=40,
)


@given(
    start=st.integers(min_value=-(10**6), max_value=10**6),
    credit_limit=st.integers(min_value=0, max_value=10**6),
    moves=movements_st,
)
def test_posting_any_sequence_keeps_the_ledger_consistent(
    start: int, credit_limit: int, moves: list[tuple[int, Floor]]
) -> None:
    account = make_account(balance=start, credit_limit=credit_limit, seq=0)
    entries: list[LedgerEntry] = []
    for i, (amount, floor) in enumerate(moves):
        before = account.balance
        low = lowest_allowed(account, floor)
        try:
            account, entry = ledger.post(
                account, movement(amount, floor), entry_id=f"e{i}", now=f"t{i}", idempotency_key=None
            )
        except InsufficientFunds as err:
            # Refused exactly when a debit would cross its floor, by exactly the missing amount.
            assert amount < 0
            assert low is not None
            assert before + amount < low
            assert err.extra["shortfall"] == low - (before + amount)
            assert account.balance == before
            continue
        entries.append(entry)
        assert account.balance == before + amount
        if amount < 0 and low is not None:
            assert account.balance >= low
        if amount > 0:
            assert account.balance > before

    assert account.balance == start + sum(e.amount for e in entries)
    assert account.seq == len(entries)
