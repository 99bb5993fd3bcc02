"""1,000 random operations through the services on DynamoDB Local while the client injects
conflicts, throttling and timeouts-after-commit. Afterwards: no overdraft, no entry twice,
balance = sum of entries for every account, and every request got a definite answer."""

from __future__ import annotations

import random
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from account_credit.accounts import service as svc
from account_credit.accounts.schemas import AccountCreate, Adjustment
from account_credit.kernel.auth import Principal, Role
from account_credit.kernel.domain import Floor, Movement
from account_credit.kernel.errors import ConcurrentUpdate, InsufficientFunds, ServiceUnavailable
from account_credit.kernel.money import Money
from account_credit.platform.commit import commit
from account_credit.platform.idempotency import claim
from account_credit.platform.store.cache import AccountCache
from account_credit.platform.store.dynamo import DynamoStore
from tests.integration.faults import FaultInjector
from tests.integration.helpers import sequence

pytestmark = pytest.mark.integration

OPERATOR = Principal(subject="faults", role=Role.OPERATOR)
OPERATIONS = 1_000
SEED = 20261122


def _debit(store: DynamoStore, account_id: str, amount: int, key: str) -> Any:
    uow = store.unit_of_work()
    uow.move(Movement(account_id=account_id, amount=Money(-amount, "USD"), type="test_debit", floor=Floor.ZERO))
    return commit(uow, claim(account_id, "debit", key, {"amount": amount}), lambda p: {"seq": p.entries[0].seq})


def test_random_operations_under_faults_keep_the_ledger_exact(table_name: str, dynamo_client: Any) -> None:
    injector = FaultInjector(dynamo_client, seed=SEED)
    stores = [DynamoStore(table_name, dynamo_client=dynamo_client, cache=AccountCache()) for _ in range(4)]
    injector.enabled = False
    accounts = [
        svc.open_account(
            stores[0], AccountCreate(currency="USD", company={"name": f"F{i}"}, billing_emails=["f@x.test"])
        ).account_id
        for i in range(3)
    ]
    injector.enabled = True

    rng = random.Random(SEED)
    plan: list[tuple[str, str, int, str]] = []
    keys: list[tuple[str, str, int, str]] = []
    for i in range(OPERATIONS):
        if keys and rng.random() < 0.15:
            plan.append(rng.choice(keys))  # a replay of an earlier request, same key and body
            continue
        op = rng.choice(["credit", "credit", "debit", "adjust_debit"])
        request = (op, rng.choice(accounts), rng.randint(1, 5_000), f"{op}-{i}")
        plan.append(request)
        keys.append(request)

    def run(index_request: tuple[int, tuple[str, str, int, str]]) -> tuple[str, str]:
        index, (op, account_id, amount, key) = index_request
        store = stores[index % len(stores)]
        for _attempt in range(20):  # a caller retrying with the same key, as the errors tell it to
            try:
                if op == "debit":
                    _debit(store, account_id, amount, key)
                else:
                    kind = "credit" if op == "credit" else "debit"
                    svc.adjust(
                        store,
                        Adjustment(type=kind, amount=amount, reason="fault run").command(
                            account_id, key, OPERATOR.actor
                        ),
                    )
                return key, "ok"
            except InsufficientFunds:
                return key, "insufficient"
            except (ConcurrentUpdate, ServiceUnavailable):
                continue
        return key, "no definite answer"

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(run, enumerate(plan)))

    injector.enabled = False
    assert sum(injector.injected.values()) > 100, injector.injected
    assert injector.injected["TimeoutAfterCommit"] > 5, injector.injected
    print("faults injected:", dict(injector.injected))
    assert all(answer in {"ok", "insufficient"} for _, answer in answers), [
        a for a in answers if a[1] not in {"ok", "insufficient"}
    ][:5]

    sequence(stores[0])
    for account_id in accounts:
        account = stores[0].get_account(account_id)
        assert account is not None
        entries, cursor = [], None
        while True:
            page = stores[0].list_entries(account_id, since=None, until=None, entry_type=None, cursor=cursor, limit=200)
            entries.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        entries.sort(key=lambda e: e.seq)
        assert account.balance == sum(e.amount for e in entries)
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        per_key: dict[str, int] = defaultdict(int)
        for e in entries:
            per_key[e.idempotency_key or ""] += 1
            assert e.balance_after >= -account.credit_limit, "never past the credit floor"
            if e.type == "test_debit":
                assert e.balance_after >= 0, "a zero-floor debit never overdraws"
        assert max(per_key.values()) == 1, "an idempotency key posted twice"

    succeeded = {key for key, answer in answers if answer == "ok"}
    posted = set()
    for account_id in accounts:
        page = stores[0].list_entries(account_id, since=None, until=None, entry_type=None, cursor=None, limit=1000)
        posted |= {e.idempotency_key for e in page.items}
    assert succeeded == posted - {None}, "every success is posted, and nothing else is"
