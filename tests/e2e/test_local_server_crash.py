"""Real HTTP against a local server with its own state directory and its own DynamoDB Local: a server
killed right after it answered 201 loses nothing (DynamoDB Local runs in its own session and the next
server reuses it), its function instances do not outlive it, the email of that order arrives once after
the restart, Ctrl-C leaves the database running, and ``stop`` ends it."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tools import ddb_local, localauth
from tools.template import ROOT

from .conftest import LocalServer, group_alive, server_env, start_server

pytestmark = pytest.mark.e2e

PRICE = 5_000


class Site:
    def __init__(self, tmp: Path) -> None:
        self.state = tmp / "state"
        self.env = server_env(
            self.state, DDB_PORT=str(ddb_local.free_port()), TABLE_NAME=f"crash-{uuid.uuid4().hex[:8]}"
        )
        self.env.pop("DYNAMODB_ENDPOINT", None)  # the server starts (and then reuses) its own DynamoDB Local
        self.servers: list[LocalServer] = []

    def start(self) -> LocalServer:
        server = start_server(self.state, self.state / f"server-{len(self.servers)}.log", self.env, "--no-schedules")
        self.servers.append(server)
        return server

    def ddb(self) -> dict[str, Any] | None:
        return ddb_local.running(self.state)

    def stop_command(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tools.local_server", "stop"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def emails(self) -> list[email.message.EmailMessage]:
        outbox = self.state / "outbox"
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in sorted(outbox.glob("*.eml"))
        ]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(tmp_path)
    try:
        yield s
    finally:
        for server in s.servers:
            server.stop()
        rec = ddb_local.read_record(s.state)
        s.stop_command()
        if rec and ddb_local.alive(rec["pid"]):  # last resort: never leave a database behind
            os.kill(rec["pid"], signal.SIGKILL)


def call(server: LocalServer, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return requests.request(method, server.base + path, headers=headers, timeout=60, **kwargs)


def test_an_order_answered_201_survives_a_killed_server_and_emails_once(site: Site) -> None:
    operator = localauth.mint("operator", subject="e2e-crash")
    first = site.start()
    ddb = site.ddb()
    assert ddb is not None, first.output()
    assert "(started, pid" in first.output()

    code = f"crash-{uuid.uuid4().hex[:6]}"
    body = {"name": "OV SSL", "term_months": 12, "prices": {"EUR": PRICE}}
    assert call(first, "PUT", f"/catalog/products/{code}", operator, json=body).status_code == 201
    account = {"currency": "EUR", "company": {"name": "Crash s.r.o."}, "billing_emails": ["billing@crash.test"]}
    r = call(first, "POST", "/accounts", operator, json=account)
    assert r.status_code == 201, r.text
    acc = r.json()["account_id"]
    credit = {"type": "credit", "amount": 12_000, "reason": "crash test"}
    r = call(first, "POST", f"/accounts/{acc}/adjustments", operator, json=credit, headers={"Idempotency-Key": acc})
    assert r.status_code == 201, r.text
    settings = {"bill_to_balance": True, "cards_enabled": True, "low_balance_threshold": 10_000}
    assert call(first, "PUT", f"/accounts/{acc}/settings", operator, json=settings).status_code == 200
    customer = localauth.mint("customer", account_id=acc)
    order = {"order_id": "crash-1", "channel": "portal", "lines": [{"product_code": code, "quantity": 1}]}
    placed = call(first, "POST", f"/accounts/{acc}/orders", customer, json=order)
    assert placed.status_code == 201, placed.text  # 12,000 -> 7,000: below the 10,000 threshold

    first.kill()  # SIGKILL the server process alone, right after the answer: a crash
    assert ddb_local.alive(ddb["pid"]), "DynamoDB Local must outlive the server"
    deadline = time.monotonic() + 15
    while group_alive(first.proc.pid):  # its function instances notice and exit: no orphans
        assert time.monotonic() < deadline, "function instances outlived the killed server"
        time.sleep(0.2)

    second = site.start()
    assert f"(reused, pid {ddb['pid']}" in second.output()
    got = call(second, "GET", f"/accounts/{acc}/orders/crash-1", customer)
    assert got.status_code == 200 and got.json() == placed.json()
    assert call(second, "GET", f"/accounts/{acc}", customer).json()["balance"] == 7_000

    deadline = time.monotonic() + 30
    while not site.emails():
        assert time.monotonic() < deadline, f"no email after the restart:\n{second.output()}"
        time.sleep(0.2)
    time.sleep(2)  # a few more poll intervals for a duplicate
    (msg,) = site.emails()
    assert msg["To"] == "billing@crash.test" and msg["Subject"] == "Low balance: Crash s.r.o."

    # Ctrl-C: the API stops, the database keeps running and the server says so.
    second.proc.send_signal(signal.SIGINT)
    assert second.proc.wait(30) == 0
    assert "keeps running for the next `make run`; `make stop` stops it." in second.output()
    assert ddb_local.alive(ddb["pid"]) and ddb_local.answers(f"http://127.0.0.1:{ddb['port']}")

    stopped = site.stop_command()
    assert stopped.returncode == 0 and f"pid {ddb['pid']}" in stopped.stdout and "stopped" in stopped.stdout
    assert not ddb_local.alive(ddb["pid"]) and site.ddb() is None
    assert not ddb_local.answers(f"http://127.0.0.1:{ddb['port']}")
    assert "not running" in site.stop_command().stdout
