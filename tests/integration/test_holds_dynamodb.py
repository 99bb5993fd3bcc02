"""Holds on DynamoDB Local, as concurrent containers meet them: the write conditions pin what is held, so orders
racing a hold never spend reserved money, and one hold placed by overlapping runs is reserved once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from account_credit.accounts import service as accounts
from account_credit.accounts.schemas import AccountCreate
from account_credit.holds import service as holds
from account_credit.kernel.domain import Movement
from account_credit.kernel.errors import InsufficientFunds
from account_credit.kernel.money import Money
from account_credit.platform.commit import commit
from tests.integration.helpers import containers


def _funded(store: Any, amount: int) -> str:
    req = AccountCreate.model_validate({"currency": "EUR", "company": {"name": "Acme"}, "billing_emails": ["a@b.test"]})
    account_id = accounts.open_account(store, req).account_id
    uow = store.unit_of_work()
    uow.move(Movement(account_id=account_id, amount=Money(amount, "EUR"), type="adjustment_credit"))
    commit(uow, None, lambda _p: {})
    return account_id


def _debit(store: Any, account_id: str, amount: int) -> bool:
    uow = store.unit_of_work()
    uow.move(Movement(account_id=account_id, amount=Money(-amount, "EUR"), type="order_balance"))
    try:
        commit(uow, None, lambda _p: {})
    except InsufficientFunds:
        return False
    return True


def _at_once(jobs: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))

    def run(job: Any) -> Any:
        barrier.wait()
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, jobs))


def test_a_hold_and_the_held_attribute_on_dynamodb(table_name: str, dynamo_client: Any) -> None:
    store = containers(table_name, dynamo_client, 1)[0]
    a = _funded(store, 10_000)
    hold = holds.place(store, a, "h1", 6_000, "EUR", subscription_id="s1", term=2)
    assert hold is not None and hold.amount == 6_000
    assert _debit(store, a, 4_001) is False
    assert _debit(store, a, 4_000) is True
    assert holds.release(store, a, "h1", reason="test") is True
    after = store.get_account(a)
    assert (after.balance, after.held) == (6_000, 0)


@pytest.mark.parametrize("orders", [6])
def test_orders_racing_a_hold_from_other_containers_never_take_reserved_money(
    table_name: str, dynamo_client: Any, orders: int
) -> None:
    stores = containers(table_name, dynamo_client, orders + 2)
    a = _funded(stores[0], 10_000)
    for s in stores:
        s.get_account(a)  # every container warm, with the state before the hold
    jobs: list[Any] = [
        lambda s=stores[-1]: holds.place(s, a, "h1", 5_000, "EUR", subscription_id="s1", term=2),
        lambda s=stores[-2]: holds.place(s, a, "h1", 5_000, "EUR", subscription_id="s1", term=2),
    ]
    jobs += [lambda s=stores[i]: _debit(s, a, 1_500) for i in range(orders)]
    got = _at_once(jobs)
    placed = [h for h in got[:2] if h is not None]
    paid = sum(1 for ok in got[2:] if ok)
    final = stores[0].get_account(a)
    held = placed[0].amount if placed else 0
    assert len({h.created_at for h in placed}) <= 1  # both runs see the one hold
    assert final.held == held
    assert final.balance == 10_000 - 1_500 * paid
    assert final.balance >= final.held  # nothing reserved was spent
