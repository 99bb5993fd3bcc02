"""Holds (holds/service.py, kernel/ledger.reserve): reserved balance that other orders cannot spend, placed once,
used up by the renewal's own payment or released, never moving the balance or writing a ledger entry."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from account_credit.holds import service as holds
from account_credit.kernel import ledger
from account_credit.kernel.domain import Account, CompanyDetails, Floor, Movement, PaymentSettings
from account_credit.kernel.errors import InsufficientFunds, InvalidInput
from account_credit.kernel.money import Money
from account_credit.platform.commit import commit
from account_credit.platform.store import keys
from account_credit.platform.store.memory import MemoryStore
from account_credit.platform.store.reliance import reliance


def account(balance: int, held: int = 0, credit_limit: int = 0) -> Account:
    return Account(
        account_id="acc_h",
        currency="EUR",
        company=CompanyDetails(name="H"),
        billing_emails=("h@x.test",),
        partner_id=None,
        settings=PaymentSettings(),
        credit_limit=credit_limit,
        balance=balance,
        held=held,
    )


def move(amount: int, floor: Floor = Floor.ZERO, hold: int = 0) -> Movement:
    return Movement(account_id="acc_h", amount=Money(amount, "EUR"), type="t", floor=floor, hold=hold)


# --------------------------------------------------------------------------- the pure rules


@pytest.mark.parametrize(
    ("balance", "held", "limit", "debit", "floor", "allowed"),
    [
        (1000, 300, 0, 700, Floor.ZERO, True),  # exactly what is free
        (1000, 300, 0, 701, Floor.ZERO, False),  # one cent of the reservation: refused
        (1000, 300, 200, 900, Floor.CREDIT_LIMIT, True),  # credit line + free balance
        (1000, 300, 200, 901, Floor.CREDIT_LIMIT, False),  # credit never reaches into what is held
        (1000, 0, 0, 1000, Floor.ZERO, True),  # nothing held: as before
        (100, 300, 0, 5_000, Floor.NONE, True),  # a charge-back has no floor at all
    ],
)
def test_what_is_held_is_not_spendable(
    balance: int, held: int, limit: int, debit: int, floor: Floor, allowed: bool
) -> None:
    before = account(balance, held, limit)
    assert before.available == balance - held + limit
    if allowed:
        assert ledger.check(before, move(-debit, floor)) == balance - debit
    else:
        with pytest.raises(InsufficientFunds) as refused:
            ledger.check(before, move(-debit, floor))
        assert refused.value.extra["available"] == balance - held + (limit if floor is Floor.CREDIT_LIMIT else 0)


@pytest.mark.parametrize(
    ("balance", "held", "change", "held_after"),
    [(1000, 0, 1000, 1000), (1000, 400, 600, 1000), (1000, 400, -400, 0), (-50, 0, 0, 0)],
)
def test_a_reservation_stays_covered_by_the_balance(balance: int, held: int, change: int, held_after: int) -> None:
    assert ledger.reserve(account(balance, held), change).held == held_after


def test_reserving_beyond_the_balance_or_releasing_more_than_held_is_refused() -> None:
    with pytest.raises(InsufficientFunds) as short:
        ledger.reserve(account(1000, 400), 601)
    assert short.value.extra["shortfall"] == 1
    with pytest.raises(InvalidInput):
        ledger.reserve(account(1000, 400), -401)


def test_a_renewal_using_its_hold_may_spend_the_held_money() -> None:
    before = account(1000, 600)
    capture = move(-900, Floor.ZERO, hold=-600)
    after = ledger.post(ledger.reserve(before, capture.hold), capture, entry_id="e", now="t", idempotency_key=None)[0]
    assert (after.balance, after.held) == (100, 0)
    r = reliance(before, [capture], after)
    assert (r.low, r.held) == (900, 600)


@given(
    balance=st.integers(-500, 2_000),
    held=st.integers(0, 1_000),
    limit=st.integers(0, 500),
    debit=st.integers(1, 2_500),
    floor=st.sampled_from([Floor.ZERO, Floor.CREDIT_LIMIT]),
    other_balance=st.integers(-1_000, 3_000),
    other_held=st.integers(0, 1_500),
)
def test_any_state_the_reliance_accepts_keeps_every_reservation(
    balance: int, held: int, limit: int, debit: int, floor: Floor, other_balance: int, other_held: int
) -> None:
    """A write planned on one state and meeting another: if its condition holds there, the debit leaves what is
    held there untouched (the condition pins ``held``, so another hold placed meanwhile re-plans the order)."""
    before = account(max(balance, held), held, limit)
    try:
        after = ledger.post(before, move(-debit, floor), entry_id="e", now="t", idempotency_key=None)[0]
    except InsufficientFunds:
        return
    r = reliance(before, [move(-debit, floor)], after)
    met = account(other_balance, other_held, limit)
    if not r.holds(met):
        return
    floor_there = other_held - (limit if floor is Floor.CREDIT_LIMIT else 0)
    assert other_balance - debit >= floor_there


# --------------------------------------------------------------------------- the service on the memory store


@pytest.fixture
def funded(store: MemoryStore, open_account) -> Account:  # type: ignore[no-untyped-def]
    acc = open_account(currency="EUR")
    uow = store.unit_of_work()
    uow.move(Movement(account_id=acc.account_id, amount=Money(10_000, "EUR"), type="adjustment_credit"))
    commit(uow, None, lambda _p: {})
    return store.get_account(acc.account_id)  # type: ignore[return-value]


def entries(store: MemoryStore, account_id: str) -> int:
    return len(store.list_entries(account_id, since=None, until=None, entry_type=None, cursor=None, limit=100).items)


def test_a_hold_reserves_without_moving_the_balance_and_only_once(store: MemoryStore, funded: Account) -> None:
    a = funded.account_id
    hold = holds.place(store, a, "renewal-sub_1-2", 4_000, "EUR", subscription_id="sub_1", term=2)
    assert hold is not None and (hold.amount, hold.state) == (4_000, "active")
    again = holds.place(store, a, "renewal-sub_1-2", 4_000, "EUR", subscription_id="sub_1", term=2)
    assert again == hold
    now = store.get_account(a)
    assert now is not None and (now.balance, now.held) == (10_000, 4_000)
    assert now.available == 6_000 + now.credit_limit
    assert entries(store, a) == 1  # the top-up only: a hold is not a ledger entry
    assert [h.hold_id for h in holds.active(store, a)] == ["renewal-sub_1-2"]
    kinds = [i["type"] for i in store.items.values() if i.get("kind") == "event"]
    assert kinds.count("hold.placed") == 1


def test_a_hold_takes_what_the_balance_can_spare_or_nothing(store: MemoryStore, funded: Account) -> None:
    a = funded.account_id
    first = holds.place(store, a, "h1", 7_000, "EUR", subscription_id="s1", term=2)
    second = holds.place(store, a, "h2", 7_000, "EUR", subscription_id="s2", term=2)
    assert first is not None and second is not None
    assert (first.amount, second.amount, second.asked) == (7_000, 3_000, 7_000)
    assert holds.place(store, a, "h3", 100, "EUR", subscription_id="s3", term=2) is None
    assert store.get_account(a).held == 10_000  # type: ignore[union-attr]


def test_orders_cannot_spend_held_money_and_a_release_gives_it_back(store: MemoryStore, funded: Account) -> None:
    a = funded.account_id
    holds.place(store, a, "h1", 6_000, "EUR", subscription_id="s1", term=2)
    uow = store.unit_of_work()
    uow.move(Movement(account_id=a, amount=Money(-4_001, "EUR"), type="order_balance"))
    with pytest.raises(InsufficientFunds):
        commit(uow, None, lambda _p: {})
    assert holds.release(store, a, "h1", reason="auto-renew turned off") is True
    assert holds.release(store, a, "h1", reason="again") is False
    assert holds.get(store, a, "h1").state == "released"  # type: ignore[union-attr]
    uow = store.unit_of_work()
    uow.move(Movement(account_id=a, amount=Money(-4_001, "EUR"), type="order_balance"))
    commit(uow, None, lambda _p: {})
    now = store.get_account(a)
    assert now is not None and (now.balance, now.held) == (5_999, 0)


def test_the_renewal_uses_its_hold_up_in_its_own_write(store: MemoryStore, funded: Account) -> None:
    a = funded.account_id
    holds.place(store, a, "h1", 8_000, "EUR", subscription_id="s1", term=2)
    parts = holds.use_up(store, a, "h1", "renewal-s1-2")
    assert parts is not None
    amount, update = parts
    uow = store.unit_of_work()
    uow.move(Movement(account_id=a, amount=Money(-9_000, "EUR"), type="order_balance", hold=-amount))
    uow.update(update)
    commit(uow, None, lambda _p: {})
    now = store.get_account(a)
    assert now is not None and (now.balance, now.held) == (1_000, 0)
    used = holds.get(store, a, "h1")
    assert used is not None and (used.state, used.reason) == ("captured", "order renewal-s1-2")
    assert holds.use_up(store, a, "h1", "renewal-s1-2") is None
    assert holds.release(store, a, "h1", reason="late") is False
    assert store.items[keys.account(a)]["held"] == 0


def test_a_hold_survives_an_account_item_written_before_holds_existed(store: MemoryStore, funded: Account) -> None:
    a = funded.account_id
    del store.items[keys.account(a)]["held"]
    assert store.get_account(a) == replace(funded, held=0, updated_at=store.get_account(a).updated_at)  # type: ignore[union-attr]
    assert holds.place(store, a, "h1", 500, "EUR", subscription_id="s1", term=2) is not None
    assert store.items[keys.account(a)]["held"] == 500
