"""What a planned money write relies on (platform/store/reliance.py): the range of starting balances for which
the plan and its answer hold, table-tested at the edges, and the sequencer's placement rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from account_credit.kernel import ledger
from account_credit.kernel.domain import Account, CompanyDetails, Floor, Movement, PaymentSettings
from account_credit.kernel.errors import InsufficientFunds
from account_credit.kernel.money import Money
from account_credit.orders.decision import split, split_range
from account_credit.platform.store.reliance import reliance
from account_credit.platform.store.sequencing import LedgerMismatch, from_images, placements


def account(balance: int, credit_limit: int = 0, threshold: int | None = None) -> Account:
    return Account(
        account_id="acc_r",
        currency="EUR",
        company=CompanyDetails(name="R"),
        billing_emails=("r@x.test",),
        partner_id=None,
        settings=PaymentSettings(low_balance_threshold=threshold),
        credit_limit=credit_limit,
        balance=balance,
    )


def move(amount: int, floor: Floor = Floor.ZERO) -> Movement:
    return Movement(account_id="acc_r", amount=Money(amount, "EUR"), type="t", floor=floor)


def plan(before: Account, movements: list[Movement]) -> Account:
    after = before
    for m in movements:
        after, _ = ledger.post(after, m, entry_id="e", now="t", idempotency_key=None)
    return after


@pytest.mark.parametrize(
    ("balance", "limit", "threshold", "movements", "low", "high", "credit_limit", "below"),
    [
        # a debit from the balance: any starting balance that still covers it
        (100, 0, None, [move(-30)], 30, None, None, False),
        (30, 0, None, [move(-30)], 30, None, None, False),  # down to exactly zero
        # into the credit line: relies on the limit too
        (10, 50, None, [move(-40, Floor.CREDIT_LIMIT)], -10, None, 50, False),
        # a credit relies on nothing about the balance
        (-20, 50, None, [move(25)], None, None, None, False),
        # no floor at all (a charge-back): nothing
        (0, 0, None, [move(-99, Floor.NONE)], None, None, None, False),
        # credit then debit in one write: the debit's floor counts the credit before it
        (60, 0, None, [move(100), move(-150)], 50, None, None, False),
        # threshold 500: ending above it relies on staying above; ending below on staying below
        (1000, 0, 500, [move(-400)], 900, None, None, False),
        (1000, 0, 500, [move(-500)], 1000, None, None, False),  # down to exactly the threshold: not below
        (1000, 0, 500, [move(-501)], 501, 1000, None, True),
        (400, 0, 500, [move(100)], 400, None, None, False),  # a top-up to exactly the threshold is not below
        (399, 0, 500, [move(100)], None, 399, None, True),
    ],
)
def test_reliance_at_the_edges(
    balance: int,
    limit: int,
    threshold: int | None,
    movements: list[Movement],
    low: int | None,
    high: int | None,
    credit_limit: int | None,
    below: bool,
) -> None:
    before = account(balance, limit, threshold)
    r = reliance(before, movements, plan(before, movements))
    assert (r.low, r.high, r.credit_limit, r.threshold, r.below) == (low, high, credit_limit, threshold, below)
    assert r.holds(before)


@given(
    balance=st.integers(-1_000, 1_000),
    limit=st.integers(0, 1_000),
    threshold=st.one_of(st.none(), st.integers(-500, 1_500)),
    amount=st.integers(-1_500, 1_500).filter(bool),
    floor=st.sampled_from([Floor.ZERO, Floor.CREDIT_LIMIT]),
    other=st.integers(-2_000, 2_000),
)
def test_any_starting_balance_the_reliance_accepts_gives_the_same_outcome(
    balance: int, limit: int, threshold: int | None, amount: int, floor: Floor, other: int
) -> None:
    """The point of the design: if the write's condition holds on the state it meets, applying the planned delta
    there keeps every floor and lands on the planned side of the threshold, whatever other writes did."""
    before = account(balance, limit, threshold)
    try:
        after = plan(before, [move(amount, floor)])
    except InsufficientFunds:  # a refused plan writes nothing
        return
    r = reliance(before, [move(amount, floor)], after)
    met = account(other, limit, threshold)
    if not r.holds(met):
        return
    landed = other + amount
    if amount < 0:
        assert landed >= (0 if floor is Floor.ZERO else -limit)
    assert (threshold is not None and landed < threshold) == r.below


@pytest.mark.parametrize("before", [-50, 0, 1, 499, 500, 501, 2_000])
def test_an_orders_split_holds_over_its_whole_range_and_nowhere_else(before: int) -> None:
    total = 500
    low, high = split_range(before, total)
    for b in range(-100, 700):
        inside = (low is None or b >= low) and (high is None or b <= high)
        assert (split(b, total) == split(before, total)) == inside, b


def test_placements_number_and_run_the_balance_from_the_state_the_write_met() -> None:
    placed = placements({"balance": 60, "seq": 4}, [{"sk": "a", "amount": 100}, {"sk": "b", "amount": -150}])
    assert [(p.sk, p.seq, p.balance_after) for p in placed] == [("a", 5, 160), ("b", 6, 10)]


def test_a_stream_change_without_entries_places_nothing_and_one_that_does_not_add_up_is_a_mismatch() -> None:
    old = {"kind": "account", "account_id": "a", "balance": 10, "seq": 1}
    assert from_images(old, {**old, "settings": {}}) == []  # settings change: seq unchanged
    assert from_images(None, old) == []  # the account was opened
    bad = {**old, "balance": 11, "seq": 2, "last_commit": [{"sk": "x", "amount": 5}]}
    with pytest.raises(LedgerMismatch):
        from_images(old, bad)
    good = {**old, "balance": 15, "seq": 2, "last_commit": [{"sk": "x", "amount": 5}]}
    assert [(p.seq, p.balance_after) for p in from_images(old, good)] == [(2, 15)]
