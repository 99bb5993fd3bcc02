"""1. Hot account across containers: N processes ordering on ONE account through the real order handler,
against N processes sending the same transaction bare (floor condition only), alternating windows.

Each agent of the fleet (``bench/containers.py``) is one warm container: it has imported the order function
and serves one request at a time. In a handler window every agent sends single orders (one API Gateway
event each, its own order id) on the shared account; in a bare window the same agents send the transaction
the handler sends (captured from it, fresh keys per request, only the floor condition) through a boto3 client
configured exactly like the store's, retrying a transaction conflict at once. Windows alternate
handler/bare/bare/handler..., all agents starting at the same moment, so both sides are equally warm.
Optionally every agent cancels a share of its ``TransactWriteItems`` calls (both sides, same rate) with
``TransactionConflict``, as real DynamoDB does to overlapping transactions on one item.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.measures import (
    Broken,
    Report,
    Table,
    _table,
    capture_transaction,
    function_timeout,
    ledger_check,
    open_account,
    operation,
)

FUNDS = 10**9  # minor units; a product costs 1: every order of the run is within the balance
P99_CAP_AT_8 = 1.0  # seconds


@dataclass
class Side:
    ok: int = 0
    span: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    cpu: float = 0.0
    in_calls: float = 0.0
    injected: int = 0
    per_agent: Counter[int] = field(default_factory=Counter)

    def add(self, agents: list[int], results: list[dict[str, Any]], start_at: float) -> None:
        self.span += max(r["end"] for r in results) - start_at
        for agent, r in zip(agents, results, strict=True):
            self.ok += r["ok"]
            self.per_agent[agent] += r["ok"]
            self.latencies += r["latencies"]
            self.statuses.update(r["status"])
            self.calls.update(r["calls"])
            self.cpu += r["cpu"]
            self.in_calls += r["in_calls"]
            self.injected += r["injected"]

    @property
    def rate(self) -> float:
        return self.ok / self.span if self.span else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[round(q * 100) - 1]

    def split(self) -> tuple[float, float, float]:
        """Per paid order, ms: CPU of the process; the requests' wall time inside DynamoDB calls and outside
        them (the handler's own work, sleeps between attempts, waiting for a core)."""
        if not self.ok:
            return float("nan"), float("nan"), float("nan")
        wall = sum(self.latencies)
        return (
            1000 * self.cpu / self.ok,
            1000 * self.in_calls / self.ok,
            1000 * max(0.0, wall - self.in_calls) / self.ok,
        )

    def failures(self, ok_status: set[str]) -> Counter[str]:
        return Counter({s: n for s, n in self.statuses.items() if s not in ok_status})

    def shares(self, agents: list[int]) -> list[float]:
        """Each agent's part of the successes, times N (1.00 = a fair share)."""
        total = sum(self.per_agent[a] for a in agents)
        return [len(agents) * self.per_agent[a] / total if total else 0.0 for a in agents]


@dataclass
class Scenario:
    n: int
    conflict_rate: float
    handler: Side
    bare: Side
    timeout: float
    problems: list[str]

    @property
    def label(self) -> str:
        faults = f", {self.conflict_rate:.0%} TransactionConflict injected" if self.conflict_rate else ""
        return f"N = {self.n}{faults}"


def _ok_handler(status: str) -> bool:
    return status.isdigit() and int(status) < 300


def run_scenario(
    fleet: Any, n: int, windows: int, seconds: float, conflict_rate: float, shape: list[dict[str, Any]], shape_of: str
) -> Scenario:
    print(f"        N = {n}" + (f", {conflict_rate:.0%} conflicts injected" if conflict_rate else ""), file=sys.stderr)
    agents = list(range(n))
    timeout = function_timeout("OrderFunction")
    account = open_account(FUNDS)
    bare_account = open_account(FUNDS)
    common = {"conflict_rate": 0.0, "timeout": timeout, "shape": shape, "shape_account": shape_of}

    # Warm both sides in every agent (the order function imported, the account and catalog known, the bare
    # client connected): not timed.
    warm_ok = 0
    for side, acc in (("handler", account), ("bare", bare_account)):
        args = {**common, "side": side, "account_id": acc, "start_at": 0.0, "duration": 0.0, "warm": True}
        got = fleet.each(agents, "window", [args] * n)
        if side == "handler":
            warm_ok = sum(g["ok"] for g in got)

    handler, bare = Side(), Side()
    for w in range(2 * windows):
        side = ("handler", "bare", "bare", "handler")[w % 4]
        start_at = time.monotonic() + 0.2 + 0.01 * n  # every agent has its command before the start
        args = {
            **common,
            "conflict_rate": conflict_rate,
            "side": side,
            "account_id": account if side == "handler" else bare_account,
            "start_at": start_at,
            "duration": seconds,
        }
        results = fleet.each(agents, "window", [args] * n)
        (handler if side == "handler" else bare).add(agents, results, start_at)

    problems = []
    client = _reader()
    for name, acc, expected in (("handler", account, handler.ok + warm_ok), ("bare", bare_account, None)):
        _balance, entries, wrong = ledger_check(client, _table(), acc)
        problems += [f"{name} account {acc}: {p}" for p in wrong]
        if expected is not None:
            debits = sum(1 for e in entries if int(e["amount"]) < 0)
            if debits != expected:
                problems.append(f"handler account {acc}: {debits} debit entries for {expected} orders answered as paid")
    return Scenario(n, conflict_rate, handler, bare, timeout, problems)


def _reader() -> Any:
    from bench.measures import bare_client

    return bare_client()


def hot_account(
    fleet: Any, ns: tuple[int, ...], windows: int, seconds: float, conflict_rate: float
) -> tuple[Report, dict[str, tuple[int, Counter[str], int]]]:
    """The hot-account table for every N, without and with injected conflicts; also the calls per paid order
    at N = 8 (or the largest N below it) without faults, for the calls table ("under N")."""
    op = operation("order paid from balance")
    shape_of = open_account(FUNDS)
    shape = capture_transaction(op, shape_of)
    scenarios = [
        run_scenario(fleet, n, windows, seconds, rate, shape, shape_of) for rate in (0.0, conflict_rate) for n in ns
    ]
    report = Report()
    rows = []
    for s in scenarios:
        report.broken += [f"hot account, {s.label}: {p}" for p in s.problems]
        h, b = s.handler, s.bare
        ratio = h.rate / b.rate if b.rate else float("nan")
        h_fail = h.failures({k for k in h.statuses if _ok_handler(k)})
        b_fail = b.failures({"200"})
        past = sum(1 for t in h.latencies if t > s.timeout)
        past_bare = sum(1 for t in b.latencies if t > s.timeout)
        shares = h.shares(list(range(s.n)))
        starved = [i for i, share in enumerate(shares) if share < 0.25] if s.n > 1 else []
        writes = h.calls.get("TransactWriteItems", 0) / h.ok if h.ok else float("nan")
        bare_writes = b.calls.get("TransactWriteItems", 0) / b.ok if b.ok else float("nan")
        p99_ok = h.pct(0.99) <= 1.5 * b.pct(0.99) and (s.n != 8 or h.pct(0.99) <= P99_CAP_AT_8)
        cpu_h, calls_h, rest_h = h.split()
        cpu_b = 1000 * b.cpu / b.ok if b.ok else float("nan")
        rows.append(
            [
                s.label,
                f"{h.rate:.0f}/s ÷ {b.rate:.0f}/s = **{ratio:.2f}**",
                f"{1000 * h.pct(0.5):.0f} / {1000 * b.pct(0.5):.0f}",
                f"{1000 * h.pct(0.99):.0f} / {1000 * b.pct(0.99):.0f}",
                f"{writes:.2f} / {bare_writes:.2f}",
                f"{cpu_h:.1f} / {cpu_b:.1f}",
                f"{calls_h:.0f} / {rest_h:.0f}",
                f"{min(shares):.2f}-{max(shares):.2f}" + (f" ({len(starved)} starved)" if starved else ""),
                _statuses(h_fail) + " / " + _statuses(b_fail),
                f"{past} / {past_bare}",
                f"{h.injected} / {b.injected}" if s.conflict_rate else "-",
                "ok" if not s.problems else "BROKEN",
            ]
        )
        target = (
            f">= 0.8; p99 <= 1.5x bare p99{' and <= 1 s' if s.n == 8 else ''}; no failures; none past the "
            f"{s.timeout:.0f} s timeout; no process below 1/4 of its share; no overdraft, balance = Σ entries"
        )
        measured = (
            f"{ratio:.2f} ({h.ok} ÷ {b.ok} orders); p99 {1000 * h.pct(0.99):.0f} ms vs bare "
            f"{1000 * b.pct(0.99):.0f} ms; failures {_statuses(h_fail)}; {past} past the timeout; shares "
            f"{min(shares):.2f}-{max(shares):.2f}x1/N; {'invariants hold' if not s.problems else 'BROKEN'}"
        )
        passed = ratio >= 0.8 and p99_ok and not h_fail and past == 0 and not starved and not s.problems
        report.rows.append((f"5. Hot account across containers, {s.label}: handler ÷ bare", measured, target, passed))
    report.tables.append(
        Table(
            "5. Hot account: N processes ordering on one account, handler ÷ bare (handler / bare in each cell)",
            [
                "scenario",
                "paid orders/s",
                "p50 ms",
                "p99 ms",
                "TransactWriteItems per paid order",
                "CPU ms per paid order",
                "handler wall ms per paid order: in DynamoDB calls / outside them",
                "share xN, min-max",
                "failures",
                f"past the {scenarios[0].timeout:.0f} s timeout",
                "conflicts injected",
                "invariants",
            ],
            rows,
            f"{windows} windows of {seconds:g} s per side, alternating; every order within the balance. "
            "Share xN: each process's part of the paid orders times N (1.00 = fair; starved: below 0.25). "
            "Bare failures: a floor condition that failed or an error other than a conflict. The handler's wall time "
            "per paid order is split into the time inside DynamoDB calls (including waiting for DynamoDB Local "
            "on the same cores) and outside them (its own work, sleeps between attempts, waiting for a core).",
        )
    )
    under: dict[str, tuple[int, Counter[str], int]] = {}
    plain = [s for s in scenarios if not s.conflict_rate and s.n <= 8]
    if plain:
        s = max(plain, key=lambda s: s.n)
        under[op.name] = (s.n, s.handler.calls, s.handler.ok)
    return report, under


def _statuses(counter: Counter[str]) -> str:
    return ", ".join(f"{k}x{v}" for k, v in sorted(counter.items())) or "0"


__all__ = ["Broken", "hot_account"]
