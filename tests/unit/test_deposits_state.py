"""The deposit state machine (deposits/state.py): every order of provider events ends with the right money."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from account_credit.deposits.service import plain
from account_credit.deposits.state import (
    Deposit,
    DepositState,
    Method,
    on_payment_failed,
    on_payment_succeeded,
    on_reversal,
    on_transfer,
    pick_proforma,
    proforma_status,
)

AMOUNT = 10_000


def card(**kw: Any) -> Deposit:
    base = Deposit(deposit_id="dep_1", account_id="acc_1", method=Method.CARD, currency="EUR", amount=AMOUNT)
    return replace(base, **kw)


def bank(amount: int = AMOUNT, **kw: Any) -> Deposit:
    base = Deposit(
        deposit_id="dep_b",
        account_id="acc_1",
        method=Method.BANK_TRANSFER,
        currency="EUR",
        amount=amount,
        proforma={"number": "PF-2026-000001"},
    )
    return replace(base, **kw)


def apply(d: Deposit, event: tuple[str, int]) -> tuple[Deposit, int]:
    """Apply one event like the service does (changes + version bump); returns the deposit and the net money."""
    kind, amount = event
    if kind == "succeeded":
        t = on_payment_succeeded(d, amount)
    elif kind == "failed":
        t = on_payment_failed(d, "declined")
    else:
        t = on_reversal(d, kind, amount)
    if t.changes:
        d = Deposit.from_item({**d.attrs(), **plain(t.changes), "version": d.version + 1})
    return d, t.credit - t.reverse


def run(events: list[tuple[str, int]]) -> tuple[Deposit, int]:
    d, net = card(), 0
    for e in events:
        d, delta = apply(d, e)
        net += delta
    return d, net


# --------------------------------------------------------------------------- single transitions


def test_success_credits_the_received_amount_once() -> None:
    t = on_payment_succeeded(card(), AMOUNT)
    assert (t.outcome, t.credit, t.reverse) == ("credited", AMOUNT, 0)
    assert t.changes["state"] == DepositState.CREDITED and t.changes["credited_amount"] == AMOUNT
    again = on_payment_succeeded(card(state=DepositState.CREDITED, credited_amount=AMOUNT), AMOUNT)
    assert (again.outcome, again.credit, again.changes) == ("already_credited", 0, {})


def test_success_credits_what_was_captured_not_what_was_asked() -> None:
    assert on_payment_succeeded(card(), 9_000).credit == 9_000


def test_failure_marks_pending_failed_and_moves_no_money() -> None:
    t = on_payment_failed(card(), "Your card was declined.")
    assert (t.outcome, t.credit, t.reverse) == ("failed", 0, 0)
    assert t.changes == {"state": DepositState.FAILED, "failure_message": "Your card was declined."}


def test_a_late_failure_after_the_success_changes_nothing() -> None:
    t = on_payment_failed(card(state=DepositState.CREDITED, credited_amount=AMOUNT), "late")
    assert (t.outcome, t.changes, t.moves_money) == ("ignored_late_failure", {}, False)


def test_success_after_a_failure_credits_it() -> None:
    """Stripe: a PaymentIntent whose first attempt failed can still succeed with another card."""
    t = on_payment_succeeded(card(state=DepositState.FAILED, failure_message="declined"), AMOUNT)
    assert (t.credit, t.changes["state"], t.changes["failure_message"]) == (AMOUNT, DepositState.CREDITED, None)


def test_full_refund_takes_everything_back_and_a_replay_takes_nothing() -> None:
    credited = card(state=DepositState.CREDITED, credited_amount=AMOUNT)
    t = on_reversal(credited, "refund", AMOUNT)
    assert (t.outcome, t.reverse, t.changes["state"]) == ("reversed", AMOUNT, DepositState.REVERSED)
    done = Deposit.from_item({**credited.attrs(), **plain(t.changes)})
    assert on_reversal(done, "refund", AMOUNT).outcome == "no_change"
    assert on_payment_succeeded(done, AMOUNT).outcome == "already_reversed"


def test_partial_refunds_are_cumulative() -> None:
    d = card(state=DepositState.CREDITED, credited_amount=AMOUNT)
    d, first = apply(d, ("refund", 3_000))
    assert first == -3_000 and d.state == DepositState.PARTIALLY_REVERSED
    d, stale = apply(d, ("refund", 2_000))  # an older event arriving late: cumulative amount is lower
    assert stale == 0
    d, second = apply(d, ("refund", 5_000))
    assert second == -2_000 and d.reversed_amount == 5_000


def test_refund_and_dispute_together_never_take_back_more_than_was_credited() -> None:
    d = card(state=DepositState.CREDITED, credited_amount=AMOUNT)
    d, a = apply(d, ("refund", 6_000))
    d, b = apply(d, ("dispute", 8_000))
    assert a + b == -AMOUNT and d.state == DepositState.REVERSED


def test_a_reversal_before_the_success_means_the_success_credits_nothing() -> None:
    d, net = run([("refund", AMOUNT), ("succeeded", AMOUNT)])
    assert net == 0 and d.state == DepositState.REVERSED and d.credited_amount == 0


def test_a_partial_reversal_before_the_success_is_netted_in_the_credit_transaction() -> None:
    t = on_payment_succeeded(card(refunded_amount=2_500), AMOUNT)
    assert (t.credit, t.reverse, t.changes["state"]) == (AMOUNT, 2_500, DepositState.PARTIALLY_REVERSED)


@pytest.mark.parametrize(
    "call",
    [
        lambda: on_payment_succeeded(bank(), 100),
        lambda: on_transfer(card(), 100, {}),
        lambda: on_payment_succeeded(card(), 0),
        lambda: on_reversal(card(), "chargeback", 1),
    ],
)
def test_misuse_is_refused(call: Any) -> None:
    with pytest.raises(ValueError):
        call()


# --------------------------------------------------------------------------- every order


EVENTS = [("succeeded", AMOUNT), ("succeeded", AMOUNT), ("failed", 0), ("refund", AMOUNT)]


@pytest.mark.parametrize("order", sorted(set(itertools.permutations(EVENTS))))
def test_every_order_of_success_duplicate_failure_and_refund_nets_to_zero(order: tuple) -> None:
    d, net = run(list(order))
    assert net == 0
    assert d.state == DepositState.REVERSED


@pytest.mark.parametrize(
    "order", sorted(set(itertools.permutations([("succeeded", AMOUNT), ("failed", 0), ("succeeded", AMOUNT)])))
)
def test_every_order_of_success_twice_and_failure_credits_once(order: tuple) -> None:
    d, net = run(list(order))
    assert net == AMOUNT and d.state == DepositState.CREDITED


events = st.lists(
    st.one_of(
        st.just(("succeeded", AMOUNT)),
        st.just(("failed", 0)),
        st.tuples(st.just("refund"), st.integers(1, AMOUNT)),
        st.tuples(st.just("dispute"), st.integers(1, AMOUNT)),
    ),
    max_size=12,
)


@given(events)
def test_any_sequence_ends_with_the_right_net_amount(seq: list[tuple[str, int]]) -> None:
    d, net = run(seq)
    succeeded = any(k == "succeeded" for k, _ in seq)
    refunded = max([a for k, a in seq if k == "refund"], default=0)
    disputed = max([a for k, a in seq if k == "dispute"], default=0)
    expected = AMOUNT - min(refunded + disputed, AMOUNT) if succeeded else 0
    assert net == expected
    assert d.credited_amount - d.reversed_amount == expected
    assert 0 <= d.reversed_amount <= d.credited_amount <= AMOUNT
    # Replaying the whole history again changes nothing.
    again = d
    for e in seq:
        again, delta = apply(again, e)
        assert delta == 0


# --------------------------------------------------------------------------- bank transfers


def test_transfers_are_credited_as_received_and_the_proforma_shows_it() -> None:
    d = bank()
    assert proforma_status(d) == "unpaid"
    t = on_transfer(d, 4_000, {"transfer_id": "t1"})
    assert (t.credit, t.changes["state"]) == (4_000, DepositState.PARTLY_PAID)
    d = Deposit.from_item({**d.attrs(), **plain(t.changes)})
    assert proforma_status(d) == "partly_paid"
    t = on_transfer(d, 6_000, {"transfer_id": "t2"})
    d = Deposit.from_item({**d.attrs(), **plain(t.changes)})
    assert (d.state, proforma_status(d), len(d.transfers)) == (DepositState.CREDITED, "paid", 2)
    t = on_transfer(d, 1, {"transfer_id": "t3"})
    d = Deposit.from_item({**d.attrs(), **plain(t.changes)})
    assert (t.credit, proforma_status(d), d.credited_amount) == (1, "overpaid", 10_001)


def test_a_transfer_pays_the_proforma_it_matches_else_the_oldest_open_one() -> None:
    old = bank(5_000, deposit_id="dep_a", created_at="2026-01-01")
    newer = bank(7_000, deposit_id="dep_b", created_at="2026-02-01")
    paid = bank(7_000, deposit_id="dep_c", created_at="2025-12-01", state=DepositState.CREDITED)
    assert pick_proforma([newer, old, paid], 7_000) is newer
    assert pick_proforma([newer, old, paid], 1_000) is old
    assert pick_proforma([paid, card()], 1_000) is None
