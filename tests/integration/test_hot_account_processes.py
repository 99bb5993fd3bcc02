"""A hot account as Lambda runs it: several OS processes, each a warm container running the real order
function (one request at a time), ordering on ONE account at the same moment.

The account is funded for fewer orders than are sent, so the race decides who is paid: exactly
floor(funds / price) orders are paid and every other one is declined with the documented problem
(402 insufficient-funds); nothing is answered 409/503/500; the balance never goes below its floor and
equals the sum of its entries; each paid order is exactly one debit entry; every process got at least one
order paid (none starved). The same with the credit line (orders that may use credit, floor -credit_limit).

Correctness only: how fast is ``python -m bench``'s business.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.containers import Fleet, agent_environment
from bench.measures import ledger_check

pytestmark = pytest.mark.integration

PROCESSES = 4
PRICE = 700  # minor units (USD)


def _race(fleet: Fleet, account_id: str, per_process: int, may_use_credit: bool = False) -> list[dict[str, Any]]:
    agents = list(range(len(fleet)))
    # Import the order function in every process first, so that all of them start at the same moment.
    fleet.each(agents, "orders", [{"account_id": account_id, "count": 0, "start_at": 0.0}] * len(agents))
    start_at = time.monotonic() + 0.3
    args = {"account_id": account_id, "count": per_process, "start_at": start_at, "may_use_credit": may_use_credit}
    return [answer for answers in fleet.each(agents, "orders", [args] * len(agents)) for answer in answers]


def _check(
    answers: list[dict[str, Any]], dynamo_client: Any, table: str, account_id: str, paid: int, floor: int
) -> None:
    statuses = Counter(a["status"] for a in answers)
    assert set(statuses) <= {201, 402}, statuses  # never 409/503/500: every caller gets a definite answer
    assert statuses[201] == paid, statuses
    declined = [a for a in answers if a["status"] == 402]
    assert all(a["type"] == "/problems/insufficient-funds" for a in declined), declined[:3]

    balance, entries, problems = ledger_check(dynamo_client, table, account_id)
    assert problems == []  # balance = sum of entries, nothing below the credit floor
    assert balance >= floor
    assert all(e["balance_after"] >= floor for e in entries if isinstance(e.get("balance_after"), int))
    debits = [e for e in entries if e["amount"] < 0]
    assert len(debits) == paid  # each paid order is one debit, and nothing else was debited
    assert all(e["amount"] == -PRICE for e in debits)

    per_process = Counter(a["agent"] for a in answers if a["status"] == 201)
    assert all(per_process[i] >= 1 for i in range(PROCESSES)), per_process  # nobody starved


def test_orders_from_several_processes_on_one_account(
    ddb_endpoint: str, table_name: str, dynamo_client: Any, tmp_path: Path
) -> None:
    funds, credit_funds, credit_limit = 36 * PRICE + PRICE // 2, 8 * PRICE, 10 * PRICE
    env = agent_environment(ddb_endpoint, table_name, str(tmp_path / "outbox"))
    with Fleet(PROCESSES, env) as fleet:
        balance_only, with_credit = fleet.call(
            0,
            "setup",
            price=PRICE,
            accounts=[{"balance": funds}, {"balance": credit_funds, "credit_limit": credit_limit}],
        )

        answers = _race(fleet, balance_only, per_process=15)  # 60 orders for 36 paid
        _check(answers, dynamo_client, table_name, balance_only, paid=funds // PRICE, floor=0)

        answers = _race(fleet, with_credit, per_process=8, may_use_credit=True)  # 32 orders for 18 paid
        _check(
            answers,
            dynamo_client,
            table_name,
            with_credit,
            paid=(credit_funds + credit_limit) // PRICE,
            floor=-credit_limit,
        )
