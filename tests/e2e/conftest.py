"""Starts the local server (tools/local_server.py) as a real process on a free port.

The server runs in its own process group with its own state directory (LOCAL_STATE_DIR: stream
checkpoints, the email outbox) under pytest's tmp dir, writes its output to a log file, and is always
stopped with everything it started (its function instances included), even when it never got ready.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tools import ddb_local, localauth
from tools.template import ROOT

READY_TIMEOUT = 120.0  # a loaded CI machine (load average ~20) may need this long for a cold start


class Api:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.base + path, headers=headers, timeout=30, **kwargs)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Only zombies left (nobody reaped them yet) count as gone.
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[-1].split()
            if int(fields[2]) == pgid and fields[0] not in {"Z", "X"}:
                return True
    return not Path("/proc/self").exists()


@dataclass
class LocalServer:
    """One local server process (the leader of its own process group) and its log file."""

    proc: subprocess.Popen[bytes]
    base: str
    log: Path
    state: Path
    env: dict[str, str] = field(repr=False)

    def output(self, tail: int = 200) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-tail:])

    def kill(self) -> None:
        """SIGKILL the server process alone, like a crash (its instances notice and exit)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL whatever is left of its process group."""
        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        deadline = time.monotonic() + 10
        while group_alive(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)


def server_env(state: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "LOCAL_STATE_DIR": str(state),
        "EMAIL_OUTBOX_DIR": str(state / "outbox"),
        "LOCAL_SERVER_QUIET": "1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.setdefault("LOCAL_FUNCTION_TIMEOUT", "30")  # the template's 10 s is tight on a loaded CI machine
    env.pop("STORE", None)
    env.update(extra)
    return env


def start_server(
    state: Path, log: Path, env: Mapping[str, str], *flags: str, timeout: float = READY_TIMEOUT
) -> LocalServer:
    """Start ``python -m tools.local_server`` on a free port and wait until it answers (or fail with its output)."""
    localauth.mint("operator")  # the signing key exists before the server reads it
    port = ddb_local.free_port()
    state.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tools.local_server", "--port", str(port), *flags],
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends its instances too
        )
    server = LocalServer(proc, f"http://127.0.0.1:{port}", log, state, dict(env))
    try:
        wait_ready(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def wait_ready(server: LocalServer, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    last: str = "no answer yet"
    while True:
        try:
            r = requests.get(server.base + "/openapi.json", timeout=10)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}: {r.text[:200]}"
        except requests.RequestException as exc:  # refused, reset, read timeout while it starts...
            last = repr(exc)
        if server.proc.poll() is not None:
            raise RuntimeError(f"local server exited with {server.proc.returncode}:\n{server.output()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"local server not ready within {timeout:.0f} s ({last}):\n{server.output()}")
        time.sleep(0.2)


@pytest.fixture(scope="session", autouse=True)
def _no_inherited_state_dir() -> Iterator[None]:
    """Servers started here get their state dir explicitly; one set in the developer's shell must not leak
    into the tests (or the tests into it)."""
    saved = os.environ.pop("LOCAL_STATE_DIR", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["LOCAL_STATE_DIR"] = saved


@pytest.fixture(scope="session")
def local_server(ddb_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """The server gets a table of its own: its stream poller runs the ledger sequencer (and every stream function)
    on whatever it writes, and must not reach into the table the integration tests read and compare."""
    state = tmp_path_factory.mktemp("local-state")
    table = f"e2e-{uuid.uuid4().hex[:12]}"
    ddb_local.ensure_table(ddb_endpoint, table)
    env = server_env(state, DYNAMODB_ENDPOINT=ddb_endpoint, TABLE_NAME=table)
    server = start_server(state, state / "server.log", env)
    try:
        yield server
    finally:
        server.stop()


def placed_transactions(api: Api, token: str, account_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """The account's first page of transactions once the server's sequencer placed every entry on it (``seq`` and
    ``balance_after`` set), so two reads compare what the ledger holds, not how far the stream got."""
    deadline = time.monotonic() + timeout
    while True:
        page: dict[str, Any] = api.call("GET", f"/accounts/{account_id}/transactions", token).json()
        if all(e["balance_after"] is not None for e in page["items"]) or time.monotonic() > deadline:
            return page
        time.sleep(0.2)


@pytest.fixture(scope="session")
def api(local_server: LocalServer) -> Api:
    return Api(local_server.base)


@pytest.fixture(scope="session")
def operator() -> str:
    return localauth.mint("operator", subject="e2e-operator")


# A seller registered for VAT in Slovakia (23 %), with the identifiers Peppol requires of it.
VAT = {
    "VAT_REGISTERED": "true",
    "VAT_RATE": "23",
    "SELLER_VAT_ID": "SK2020273893",
    "SELLER_COMPANY_ID": "35763469",
    "SELLER_PEPPOL_ENDPOINT": "9950:SK2020273893",
    "PO_PAYMENT_TERMS_DAYS": "0",  # purchase orders' invoices are due at once: the reminder run has work today
    "OPERATOR_EMAIL": "orders@seller.test",
}


@pytest.fixture(scope="session")
def vat_server(ddb_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A local server whose seller is VAT-registered in Slovakia (23 %), on a table of its own."""
    state = tmp_path_factory.mktemp("billing-state")
    table = f"billing-{uuid.uuid4().hex[:10]}"
    ddb_local.ensure_table(ddb_endpoint, table)
    server = start_server(
        state, state / "server.log", server_env(state, DYNAMODB_ENDPOINT=ddb_endpoint, TABLE_NAME=table, **VAT)
    )
    try:
        yield server
    finally:
        server.stop()
