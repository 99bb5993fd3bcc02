"""The local server's function instances (tools.local_server.FunctionPool), driven directly: one
invocation per instance at a time, cold starts on demand and warm reuse, a per-function maximum,
and what a crash, an unhandled error, a timeout or a failed init do. The function under test is
``handler`` below: the workers import this very file by path, as they import functions/*/app.py."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tools import local_server
from tools.local_server import Api, FunctionPool, FunctionSpec, InvokeError
from tools.template import ROOT

pytestmark = pytest.mark.e2e

_busy = threading.Lock()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails if this instance is ever given a second invocation while one runs."""
    if not _busy.acquire(blocking=False):
        raise AssertionError("two invocations at once in one instance")
    try:
        mode = event.get("mode", "ok")
        if mode == "crash":
            os._exit(3)
        if mode == "raise":
            raise RuntimeError("boom")
        time.sleep(float(event.get("sleep", 0)))
        return {
            "pid": os.getpid(),
            "echo": event.get("echo"),
            "request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(),
        }
    finally:
        _busy.release()


def spec(timeout: float = 20, name: str = "PoolProbe", handler_name: str = "handler") -> FunctionSpec:
    return FunctionSpec(name, "tests/e2e", f"{os.path.splitext(os.path.basename(__file__))[0]}.{handler_name}", timeout)


@pytest.fixture
def pool() -> Iterator[FunctionPool]:
    p = FunctionPool(spec(), max_instances=3)
    try:
        yield p
    finally:
        p.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] not in {"Z", "X"}
    except OSError:
        return True


def test_each_instance_serves_one_invocation_at_a_time_up_to_the_maximum(pool: FunctionPool) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(9) as ex:
        results = list(ex.map(lambda i: pool.invoke({"echo": i, "sleep": 0.5}, f"req-{i}"), range(9)))
    took = time.monotonic() - started
    assert [r["echo"] for r in results] == list(range(9))
    assert [r["request_id"] for r in results] == [f"req-{i}" for i in range(9)]
    assert len({r["pid"] for r in results}) == 3 and pool.cold_starts == 3
    assert took >= 1.5, "9 invocations of 0.5 s on 3 instances take 3 rounds"
    assert all(0 < r["remaining_ms"] <= 20_000 for r in results)
    # warm: the next invocation reuses an instance, no cold start
    assert pool.invoke({"echo": "warm"})["pid"] in {r["pid"] for r in results} and pool.cold_starts == 3


def test_an_unhandled_error_is_an_error_and_the_instance_stays_warm(pool: FunctionPool) -> None:
    pid = pool.invoke({})["pid"]
    with pytest.raises(InvokeError, match=r"unhandled error RuntimeError\('boom'\)"):
        pool.invoke({"mode": "raise"})
    assert pool.invoke({})["pid"] == pid


def test_a_crashed_instance_is_replaced(pool: FunctionPool) -> None:
    pid = pool.invoke({})["pid"]
    with pytest.raises(InvokeError, match=r"crashed \(exit code 3\)"):
        pool.invoke({"mode": "crash"})
    assert not alive(pid)
    assert pool.invoke({})["pid"] != pid and pool.pids() != [pid]


def test_an_invocation_past_the_timeout_kills_the_instance() -> None:
    pool = FunctionPool(spec(timeout=1.0), max_instances=1)
    try:
        pid = pool.invoke({})["pid"]
        started = time.monotonic()
        with pytest.raises(InvokeError, match="timed out after 1 s"):
            pool.invoke({"sleep": 30})
        assert time.monotonic() - started < 10
        assert not alive(pid) and pool.pids() == []
        assert pool.invoke({})["pid"] != pid  # the only slot was freed for a new instance
    finally:
        pool.close()


def test_a_failed_init_is_an_error() -> None:
    pool = FunctionPool(spec(name="NoSuchHandler", handler_name="no_such_handler"), max_instances=1)
    try:
        with pytest.raises(InvokeError, match="init failed: AttributeError"):
            pool.invoke({})
        assert pool.pids() == []
    finally:
        pool.close()


def test_idle_instances_are_ended_after_a_while(pool: FunctionPool) -> None:
    with ThreadPoolExecutor(2) as ex:
        pids = {r["pid"] for r in ex.map(lambda i: pool.invoke({"sleep": 0.3}), range(2))}
    assert pool.reap_idle(60) == 0 and sorted(pool.pids()) == sorted(pids)
    time.sleep(0.2)
    assert pool.reap_idle(0.1) == 2 and pool.pids() == []
    assert not [p for p in pids if alive(p)]
    assert pool.invoke({})["pid"] not in pids  # a cold start again


def test_close_ends_every_instance(pool: FunctionPool) -> None:
    with ThreadPoolExecutor(3) as ex:
        pids = {r["pid"] for r in ex.map(lambda i: pool.invoke({"sleep": 0.3}), range(3))}
    pool.close()
    assert not [p for p in pids if alive(p)]
    with pytest.raises(InvokeError, match="stopping"):
        pool.invoke({})


def test_a_failed_invocation_is_answered_like_api_gateway(capsys: pytest.CaptureFixture[str]) -> None:
    def failing(function: str, event: Any, request_id: str) -> Any:
        raise InvokeError("timed out after 10 s (instance killed)")

    status, headers, body = Api(failing).handle("GET", "/openapi.json", [], b"")
    assert (status, dict(headers), body) == (
        500,
        {"content-type": "application/json"},
        b'{"message":"Internal Server Error"}',
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "OpenApiFunction failed: timed out" in err


def test_the_server_process_imports_no_handler() -> None:
    """The HTTP routes, the stream and the schedules only ever reach handlers through instances."""
    code = """
import sys
from tools import local_server as ls
fns = ls.Functions(max_instances=1)
try:
    status, _, _ = ls.Api(fns.invoke).handle("GET", "/openapi.json", [], b"")
    assert status == 200, status
finally:
    fns.close()
print(sorted(m for m in sys.modules if m.startswith(("fn_", "account_credit", "aws_lambda_powertools"))))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_function_timeouts_come_from_the_template_or_the_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCAL_FUNCTION_TIMEOUT", raising=False)
    specs = local_server.function_specs()
    assert (specs["OrderFunction"].timeout, specs["NotifyFunction"].timeout) == (10, 60)
    monkeypatch.setenv("LOCAL_FUNCTION_TIMEOUT", "45")
    assert {s.timeout for s in local_server.function_specs().values()} == {45}
