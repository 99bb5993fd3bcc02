"""Real HTTP against the local server process with its stream poller: a debit across the low-balance
threshold becomes exactly one .eml in the outbox; a server stopped before it fed the stream (or started
with --no-streams) delivers the email after a restart from its checkpoint."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests

from tools import ddb_local, localauth
from tools.template import ROOT

pytestmark = pytest.mark.e2e


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base: str
    log: Path

    def call(self, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return requests.request(method, self.base + path, headers=headers, timeout=15, **kwargs)

    def stop(self, kill: bool = False) -> None:
        if self.proc.poll() is None:
            if kill:
                self.proc.kill()  # SIGKILL: no clean shutdown, like a crash
            else:
                self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@dataclass
class Site:
    """One fresh table and outbox; ``start`` runs the local server on them (again and again)."""

    table: str
    outbox: Path
    checkpoint: Path
    start: Callable[..., Server]

    def emails(self) -> list[EmailMessage]:
        if not self.outbox.exists():
            return []
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in sorted(self.outbox.glob("*.eml"))
        ]

    def wait_for_emails(self, count: int, timeout: float = 15) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.emails()
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


@pytest.fixture
def site(ddb_endpoint: str, tmp_path: Path) -> Iterator[Site]:
    localauth.mint("operator")  # the signing key exists before a server reads it
    table = f"e2e-notify-{uuid.uuid4().hex[:10]}"
    ddb_local.ensure_table(ddb_endpoint, table)
    outbox = tmp_path / "outbox"
    state = tmp_path / "state"  # the server's own state folder, never the developer's .local
    checkpoint = state / f"stream-checkpoint-{table}.json"  # where the server keeps it
    started: list[Server] = []

    def start(*flags: str) -> Server:
        port = ddb_local.free_port()
        log = tmp_path / f"server-{len(started)}.log"
        env = {
            **os.environ,
            "DYNAMODB_ENDPOINT": ddb_endpoint,
            "TABLE_NAME": table,
            "EMAIL_OUTBOX_DIR": str(outbox),
            "LOCAL_STATE_DIR": str(state),
            "LOCAL_SERVER_QUIET": "1",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        env.pop("STORE", None)
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tools.local_server", "--port", str(port), "--no-schedules", *flags],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = Server(proc, f"http://127.0.0.1:{port}", log)
        started.append(server)
        deadline = time.monotonic() + 30
        while True:
            try:
                # The first request imports the openapi function: give it time on a busy machine.
                if requests.get(server.base + "/openapi.json", timeout=10).status_code == 200:
                    return server
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                server.stop(kill=True)
                raise RuntimeError(f"local server did not start:\n{log.read_text()}")
            time.sleep(0.1)

    try:
        yield Site(table, outbox, checkpoint, start)
    finally:
        for server in started:
            server.stop(kill=True)
        checkpoint.unlink(missing_ok=True)
        checkpoint.with_suffix(".tmp").unlink(missing_ok=True)


def open_account(server: Server, token: str, company: str = "Certs & Co s.r.o.") -> dict[str, Any]:
    body = {"currency": "EUR", "company": {"name": company}, "billing_emails": ["billing@certs.test"]}
    r = server.call("POST", "/accounts", token, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def adjust(server: Server, token: str, account_id: str, kind: str, amount: int) -> dict[str, Any]:
    """Post an adjustment; returns the account as it is right after it."""
    r = server.call(
        "POST",
        f"/accounts/{account_id}/adjustments",
        token,
        json={"type": kind, "amount": amount, "reason": f"e2e {kind}"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    account = server.call("GET", f"/accounts/{account_id}", token)
    assert account.status_code == 200, account.text
    return dict(account.json())


def set_threshold(server: Server, token: str, account_id: str, threshold: int) -> None:
    body = {"bill_to_balance": True, "cards_enabled": True, "low_balance_threshold": threshold}
    r = server.call("PUT", f"/accounts/{account_id}/settings", token, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["low_balance_threshold"] == threshold


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def test_debit_across_the_threshold_puts_exactly_one_email_in_the_outbox(site: Site, operator: str) -> None:
    server = site.start()
    acc = open_account(server, operator)["account_id"]
    adjust(server, operator, acc, "credit", 1_250_000)  # 12,500.00 EUR
    set_threshold(server, operator, acc, 1_000_000)  # 10,000.00 EUR
    assert adjust(server, operator, acc, "debit", 300_050)["balance"] == 949_950  # 9,499.50 EUR: crossed

    (msg,) = site.wait_for_emails(1)
    assert msg["To"] == "billing@certs.test"
    assert msg["Subject"] == "Low balance: Certs & Co s.r.o."
    assert text_of(msg) == (
        f"The balance of account {acc} (Certs & Co s.r.o.) is €9,499.50, below your alert threshold of "
        "€10,000.00.\nTop up to keep orders and renewals paid automatically.\n"
    )
    assert "Certs &amp; Co s.r.o." in html_of(msg) and "€9,499.50" in html_of(msg)

    assert adjust(server, operator, acc, "debit", 50_000)["balance"] == 899_950  # down again while below: no email
    assert adjust(server, operator, acc, "credit", 150_050)["balance"] == 1_050_000  # 10,500.00 EUR: re-armed
    assert adjust(server, operator, acc, "debit", 100_050)["balance"] == 949_950  # 9,499.50 EUR: a new crossing
    # The stream is delivered in order, so when the second crossing's email is there, the debit
    # before it has been handled too: two emails in all means it added none.
    emails = site.wait_for_emails(2)
    time.sleep(1.0)  # a few more poll intervals for anything late
    emails = site.emails()
    assert len(emails) == 2, [m["Subject"] for m in emails]
    assert len({m["X-Notification-Id"] for m in emails}) == 2
    assert all(acc in text_of(m) and "€9,499.50" in text_of(m) for m in emails)


def _checkpoint(site: Site) -> dict[str, Any]:
    return dict(json.loads(site.checkpoint.read_text()))


def test_an_email_missed_while_streams_were_off_is_sent_after_a_restart(site: Site, operator: str) -> None:
    # First run feeds the stream and keeps a checkpoint; then it is killed (no clean shutdown).
    server = site.start()
    acc = open_account(server, operator)["account_id"]
    adjust(server, operator, acc, "credit", 50_000)
    set_threshold(server, operator, acc, 20_000)
    deadline = time.monotonic() + 15
    while not site.checkpoint.exists():
        assert time.monotonic() < deadline, "the stream poller never wrote its checkpoint"
        time.sleep(0.1)
    server.stop(kill=True)
    before = _checkpoint(site)

    # Second run does not feed the stream: the crossing is committed but nobody emails it yet.
    server = site.start("--no-streams")
    assert adjust(server, operator, acc, "debit", 40_000)["balance"] == 10_000
    server.stop()
    assert site.emails() == []
    assert _checkpoint(site) == before

    # Third run resumes from the checkpoint and delivers what it missed, once.
    server = site.start()
    (msg,) = site.wait_for_emails(1)
    assert msg["Subject"] == "Low balance: Certs & Co s.r.o."
    assert f"account {acc} (Certs & Co s.r.o.) is €100.00, below your alert threshold of €200.00" in text_of(msg)
    # The checkpoint moves once every stream function took the batch (the documents function's first
    # invocation loads the PDF libraries: give it time on a busy machine).
    deadline = time.monotonic() + 60
    while _checkpoint(site)["shards"] == before["shards"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(site.emails()) == 1
    after = _checkpoint(site)
    assert after["stream"] == before["stream"] and after["shards"] != before["shards"]
    server.stop()
