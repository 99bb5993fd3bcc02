"""Warm "containers" as Lambda runs them: one OS process each, serving one request at a time.

``Fleet(n, env)`` spawns ``n`` fresh interpreters (the ``spawn`` start method: nothing is inherited from
this process but the environment and ``sys.path``). Each one sets the functions' environment exactly as
the local server does (``tools.local_server.prepare``) and then waits for commands; it imports a
function's ``app.py`` (``bench.measures.invoke``) only when a command first invokes it, so the first
command an agent runs is a cold container's first invocation.

Every agent counts its DynamoDB calls with botocore's event hooks on the store's own client
(``bench.measures.Calls``). Commands (see ``_COMMANDS``):

- ``invoke``: one operation through the real handler; its status, body and the calls it made;
- ``window``: send single orders through the order handler (or the same transaction bare) on one
  account until a deadline, starting at a moment shared by all agents (``time.monotonic`` is
  system-wide on Linux); latencies, statuses, calls, CPU time;
- ``orders``: a fixed number of orders on one account (the correctness check of ``make test``);
- ``setup``: a product and accounts, made through the handlers of this agent.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import random
import sys
import time
import traceback
import uuid
import warnings
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any

from tools.template import ROOT

# --------------------------------------------------------------------------- the parent's side


class AgentFailed(RuntimeError):
    """An agent raised (its traceback is the message) or died: the run is broken."""


class Fleet:
    """``n`` agent processes; ``call`` one, or ``each`` of several at once (send all, then collect)."""

    def __init__(self, n: int, env: dict[str, str]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        for i in range(n):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_agent, args=(child, env, i), daemon=True, name=f"bench-agent-{i}")
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)
        for i in range(n):
            self._receive(i)  # "ready": the environment is set, nothing invoked yet

    def __len__(self) -> int:
        return len(self.conns)

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def call(self, index: int, command: str, **args: Any) -> Any:
        self.conns[index].send((command, args))
        return self._receive(index)

    def each(self, indices: list[int], command: str, args: list[dict[str, Any]]) -> list[Any]:
        for i, a in zip(indices, args, strict=True):
            self.conns[i].send((command, a))
        return [self._receive(i) for i in indices]

    def _receive(self, index: int) -> Any:
        try:
            kind, value = self.conns[index].recv()
        except (EOFError, OSError) as exc:
            raise AgentFailed(f"agent {index} died (exit code {self.procs[index].exitcode})") from exc
        if kind == "error":
            raise AgentFailed(f"agent {index} failed:\n{value}")
        return value

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(("stop", {}))
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
        for conn in self.conns:
            conn.close()


def agent_environment(endpoint: str, table: str, outbox: str) -> dict[str, str]:
    """What an agent needs besides what ``prepare`` sets: the database, the table, no tracing/metrics output."""
    return {
        "DYNAMODB_ENDPOINT": endpoint,
        "TABLE_NAME": table,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "EMAIL_OUTBOX_DIR": outbox,
        "LOCAL_DOCUMENTS_DIR": os.path.join(os.path.dirname(outbox), "bench-documents"),
    }


# --------------------------------------------------------------------------- the agent's side


def _agent(conn: Connection, env: dict[str, str], index: int) -> None:
    os.environ.update(env)
    # Powertools warns on every invocation that no metric was added (metrics are off here).
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    for path in (str(ROOT), str(ROOT / "shared")):
        if path not in sys.path:
            sys.path.insert(0, path)
    from tools.local_server import prepare

    # The functions' environment exactly as the local server sets it (template.yaml's variables, sandbox
    # secrets). The table exists already: this is one DescribeTable on a client of its own, not counted.
    prepare(memory=False, ddb_port=0, start_ddb=False)
    state = _State(index)
    conn.send(("ok", "ready"))
    while True:
        try:
            command, args = conn.recv()
        except EOFError:
            return
        if command == "stop":
            return
        try:
            conn.send(("ok", _COMMANDS[command](state, **args)))
        except Exception:  # noqa: BLE001 - reported to the parent, which fails the run
            conn.send(("error", traceback.format_exc()))


class _State:
    """What an agent keeps between commands: its counters, its bare client, its fault injectors."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.calls: Any = None  # bench.measures.Calls on the store's client, made at the first command
        self.bare: Any = None
        self.bare_calls: Any = None
        self.injectors: list[ConflictInjector] = []
        self.timers: dict[str, CallTimer] = {}

    def store_calls(self) -> Any:
        if self.calls is None:
            from bench.measures import Calls, store_client

            self.calls = Calls(store_client())
        return self.calls

    def bare_client(self) -> Any:
        """The bare client (configured exactly like the store's, ``bench.measures.bare_client``), the call
        counters and timers of both clients, then the conflict injectors (registered last: see them)."""
        if self.bare is None:
            from bench.measures import Calls, bare_client, store_client

            store = store_client()
            self.store_calls()
            self.bare = bare_client()
            self.bare_calls = Calls(self.bare)
            self.timers = {"handler": CallTimer(store), "bare": CallTimer(self.bare)}
            self.injectors = [
                ConflictInjector(store, seed=7919 * (self.index + 1)),
                ConflictInjector(self.bare, seed=104729 * (self.index + 1)),
            ]
        return self.bare


class CallTimer:
    """Seconds spent inside DynamoDB calls (``before-call`` to ``after-call``) of one client."""

    def __init__(self, client: Any) -> None:
        self.seconds = 0.0
        self._started = 0.0
        client.meta.events.register("before-call.dynamodb.*", self._start)
        client.meta.events.register("after-call.dynamodb.*", self._stop)
        client.meta.events.register("after-call-error.dynamodb.*", self._stop)  # e.g. a read timeout

    def _start(self, **_: Any) -> None:
        self._started = time.perf_counter()

    def _stop(self, **_: Any) -> None:
        self.seconds += time.perf_counter() - self._started


def _invoke(state: _State, op: str, account_id: str, key: str, ticket: Any = None) -> dict[str, Any]:
    """One operation through the real handler, counting every DynamoDB call it makes."""
    from bench import measures

    calls = state.store_calls()
    run = measures.operation(op).run
    got, counted = calls.measure(lambda: run(account_id, key, ticket))
    return {"status": got["statusCode"], "body": got["body"], "calls": dict(counted)}


def _setup(state: _State, price: int | None = None, accounts: list[dict[str, Any]] | None = None) -> list[str]:
    """The product at ``price`` (if given) and accounts: ``{"balance": minor units, "credit_limit": minor units}``."""
    from bench import measures

    if price is not None:
        measures.ensure_product(price)
    made = []
    for spec in accounts or []:
        account_id = measures.open_account(spec.get("balance", 0))
        if spec.get("credit_limit") is not None:
            measures.set_credit_limit(account_id, spec["credit_limit"])
        made.append(account_id)
    return made


def _orders(
    state: _State, account_id: str, count: int, start_at: float, may_use_credit: bool = False
) -> list[dict[str, Any]]:
    """``count`` orders one after another (each its own order id), starting at ``start_at``; ``count=0`` only
    imports the order function."""
    from bench import measures

    measures.load_order_function()
    _wait_until(start_at)
    out = []
    for _ in range(count):
        got = measures.order(account_id, uuid.uuid4().hex, may_use_credit=may_use_credit)
        body = json.loads(got["body"]) if got.get("body") else {}
        out.append({"status": got["statusCode"], "type": body.get("type", ""), "agent": state.index})
    return out


def _window(
    state: _State,
    side: str,
    account_id: str,
    start_at: float,
    duration: float,
    conflict_rate: float,
    timeout: float,
    shape: list[dict[str, Any]] | None = None,
    shape_account: str | None = None,
    warm: bool = False,
) -> dict[str, Any]:
    """Single orders on ``account_id`` from ``start_at`` until ``start_at + duration`` (a request started
    before the deadline runs to its end), through the order handler (``side="handler"``) or as the same
    transaction sent bare (``side="bare"``: ``shape`` re-keyed per request, floor condition only, a
    transaction conflict retried at once). ``warm``: one request, not timed (before the windows)."""
    from bench import measures

    bare = state.bare_client()
    for injector in state.injectors:
        injector.rate = conflict_rate
    if side == "handler":
        handler = measures.load_order_function()
        counter = state.store_calls()
    else:
        counter = state.bare_calls
    counter.reset()
    for injector in state.injectors:
        injector.injected = 0
    timer = state.timers[side]
    timer.seconds = 0.0

    def handler_request() -> tuple[int | str, bool]:
        key = uuid.uuid4().hex
        event, context = measures.order_event(account_id, key, timeout)
        try:
            return handler_call(event, context)
        except Exception as exc:  # noqa: BLE001 - a handler that raises is a 500 on Lambda
            return f"raised {type(exc).__name__}", False

    def handler_call(event: dict[str, Any], context: Any) -> tuple[int | str, bool]:
        status = handler(event, context)["statusCode"]
        return status, status < 300

    def bare_items() -> list[dict[str, Any]]:
        assert shape is not None and shape_account is not None
        return measures.bare_copy(shape, shape_account, account_id)

    def bare_request(items: list[dict[str, Any]]) -> tuple[int | str, bool]:
        from botocore.exceptions import ClientError

        for _attempt in range(1_000):
            try:
                bare.transact_write_items(TransactItems=items)
                return 200, True
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code == "TransactionCanceledException":
                    reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                    if "TransactionConflict" in reasons:
                        continue  # someone else's transaction overlapped: try again at once
                    return "floor condition failed" if "ConditionalCheckFailed" in reasons else str(reasons), False
                if code in {"ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError"}:
                    continue
                return code, False
            except Exception as exc:  # noqa: BLE001 - e.g. a read timeout: counted as a failure
                return type(exc).__name__, False
        return "conflicts never settled", False

    if warm:
        if side == "handler":
            status, ok = handler_request()
        else:
            status, ok = bare_request(bare_items())
        return {"status": {str(status): 1}, "ok": int(ok)}

    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    ok_count = 0
    cpu = 0.0
    _wait_until(start_at)
    deadline = start_at + duration
    while time.monotonic() < deadline:
        if side == "handler":
            key = uuid.uuid4().hex
            event, context = measures.order_event(account_id, key, timeout)
            c0, t0 = time.process_time(), time.monotonic()
            try:
                status, ok = handler_call(event, context)
            except Exception as exc:  # noqa: BLE001 - a handler that raises is a 500 on Lambda
                status, ok = f"raised {type(exc).__name__}", False
        else:
            items = bare_items()
            c0, t0 = time.process_time(), time.monotonic()
            status, ok = bare_request(items)
        t1, c1 = time.monotonic(), time.process_time()
        latencies.append(t1 - t0)
        cpu += c1 - c0
        statuses[str(status)] += 1
        ok_count += ok
    return {
        "ok": ok_count,
        "latencies": latencies,
        "status": dict(statuses),
        "calls": dict(counter.snapshot()),
        "cpu": cpu,
        "in_calls": timer.seconds,
        "end": time.monotonic(),
        "injected": sum(i.injected for i in state.injectors),
    }


def _wait_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


_COMMANDS: dict[str, Any] = {"invoke": _invoke, "setup": _setup, "orders": _orders, "window": _window}


# --------------------------------------------------------------------------- injected transaction conflicts


class ConflictInjector:
    """Cancels a ``TransactWriteItems`` before it is sent, at random (``rate``), the way real DynamoDB
    cancels a transaction that overlaps another one on the same item: ``TransactionCanceledException``
    with one reason per item, ``TransactionConflict`` on the first (the account) and ``None`` on the rest.
    DynamoDB Local never does. The same mechanism as the fault harness of the tests
    (``tests/integration/faults.py``: a ``before-call`` hook that raises), conflicts only. Register it
    after any call counter, so a cancelled call is still counted as sent."""

    def __init__(self, client: Any, seed: int) -> None:
        self.rng = random.Random(seed)
        self.rate = 0.0
        self.injected = 0
        # The wildcard, like the counters: botocore calls more specific handlers first, and handlers of one
        # event in the order they were registered, so a counter registered earlier still sees the call.
        client.meta.events.register("before-call.dynamodb.*", self._before)

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name != "TransactWriteItems" or self.rate <= 0 or self.rng.random() >= self.rate:
            return
        from botocore.exceptions import ClientError

        self.injected += 1
        body = params.get("body") or b"{}"
        count = len(json.loads(body).get("TransactItems", [])) or 1
        reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item (injected)"}]
        reasons += [{"Code": "None"} for _ in range(count - 1)]
        response: Any = {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled (injected)"},
            "CancellationReasons": reasons,
        }
        raise ClientError(response, model.name)
