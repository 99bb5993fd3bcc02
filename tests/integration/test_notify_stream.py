"""Notifications on the real pieces: DynamoDB Local's table stream (read with tools.streams.StreamPoller)
into the real functions/notify/app.py handler, emails through boto3's SES v2 client answered by moto in
server mode; and the scheduled threshold scan over the sparse index on DynamoDB Local."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import requests
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from account_credit.accounts import schemas
from account_credit.accounts import service as svc
from account_credit.kernel.auth import Principal, Role
from account_credit.kernel.domain import Account, CompanyDetails, PaymentSettings
from account_credit.notifications import service as notifications
from account_credit.notifications.mailer import SesMailer
from account_credit.notifications.rules import AlertKind
from account_credit.platform import config
from account_credit.platform.events import DomainEvent
from account_credit.platform.store.cache import AccountCache
from account_credit.platform.store.dynamo import DynamoStore
from account_credit.platform.store.keys import account_pk
from tools import ddb_local
from tools.local_server import LambdaContext
from tools.streams import StreamPoller
from tools.template import ROOT

pytestmark = pytest.mark.integration

OPERATOR = Principal(subject="op", role=Role.OPERATOR)
SENDER = "billing@example.com"


# --------------------------------------------------------------------------- SES: moto in server mode


@dataclass
class Ses:
    url: str

    def messages(self, to_domain: str) -> list[Any]:
        """Messages moto accepted for recipients at ``to_domain`` (each test uses its own domain)."""
        from moto.backends import get_backend
        from moto.core import DEFAULT_ACCOUNT_ID

        sent = get_backend("ses")[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        return [m for m in sent if any(a.endswith("@" + to_domain) for a in m.destinations.get("ToAddresses", []))]


@pytest.fixture(scope="module")
def ses() -> Iterator[Ses]:
    from moto.server import ThreadedMotoServer

    port = ddb_local.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        requests.post(f"{url}/moto-api/reset", timeout=5)
        # SES only sends from a verified identity (moto enforces it too).
        client = boto3.client("sesv2", endpoint_url=url, region_name="us-east-1")
        client.create_email_identity(EmailIdentity=SENDER)
        yield Ses(url)
    finally:
        server.stop()


# --------------------------------------------------------------------------- the functions, wired from the environment


@dataclass
class Functions:
    notify: ModuleType
    scan: ModuleType
    table: str
    endpoint: str


def _load(path: Path) -> ModuleType:
    name = f"notify_it_{path.stem}_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _fresh_caches() -> None:
    from account_credit.platform.http import resolver

    config.settings.cache_clear()
    resolver.store.cache_clear()


@pytest.fixture(scope="module")
def functions(ddb_endpoint: str, ses: Ses) -> Iterator[Functions]:
    """notify/app.py and notify/scan.py as Lambda runs them: DynamoDB store, SES mailer (no outbox)."""
    table = f"notify-{uuid.uuid4().hex[:10]}"
    ddb_local.ensure_table(ddb_endpoint, table)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("STORE", raising=False)
        mp.delenv("EMAIL_OUTBOX_DIR", raising=False)
        mp.setenv("DYNAMODB_ENDPOINT", ddb_endpoint)
        mp.setenv("TABLE_NAME", table)
        mp.setenv("SENDER_EMAIL", SENDER)
        mp.setenv("AWS_ENDPOINT_URL_SESV2", ses.url)
        mp.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        mp.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
        _fresh_caches()
        notify = _load(ROOT / "functions" / "notify" / "app.py")
        scan = _load(ROOT / "functions" / "notify" / "scan.py")
        assert isinstance(notify.mailer, SesMailer) and isinstance(scan.mailer, SesMailer)
        try:
            yield Functions(notify, scan, table, ddb_endpoint)
        finally:
            for m in (notify, scan):
                sys.modules.pop(m.__name__, None)
            _fresh_caches()
    _fresh_caches()


def ctx(name: str = "account-credit-notify") -> LambdaContext:
    return LambdaContext(function_name=name, aws_request_id=str(uuid.uuid4()))


class Tap:
    """The table stream as Lambda's event source mapping sees it (tools.streams.StreamPoller: the template's
    FilterCriteria, batches, a checkpoint), either handed to the real notify handler or just collected."""

    def __init__(self, fns: Functions, checkpoint: Path) -> None:
        self.fns = fns
        self.collected: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []
        self.invoke_handler = False
        self.poller = StreamPoller(fns.endpoint, fns.table, self._invoke, checkpoint)

    def _invoke(self, fn: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
        if fn["function"] != "NotifyFunction":
            return {}  # the ledger sequencer reads the same stream; these tests are about emails
        self.collected.extend(event["Records"])
        if not self.invoke_handler:
            return {}
        result = dict(self.fns.notify.lambda_handler(event, ctx()))
        self.results.append(result)
        return result

    def _poll(self, at_least: int, timeout: float = 10) -> list[dict[str, Any]]:
        self.collected, self.results = [], []
        deadline = time.monotonic() + timeout
        while True:
            self.poller.poll_once()
            if len(self.collected) >= at_least:
                self.poller.poll_once()  # and anything that arrived meanwhile
                return self.collected
            assert time.monotonic() < deadline, f"stream delivered {len(self.collected)} records, wanted {at_least}"
            time.sleep(0.05)

    def collect(self, at_least: int = 1) -> list[dict[str, Any]]:
        """New records for the notify function, not handled."""
        self.invoke_handler = False
        return self._poll(at_least)

    def deliver(self, at_least: int = 1) -> list[dict[str, Any]]:
        """New records, handed to the real handler batch by batch; every batch must succeed."""
        self.invoke_handler = True
        records = self._poll(at_least)
        assert all(r == {"batchItemFailures": []} for r in self.results), self.results
        return records


@pytest.fixture(scope="module")
def tap(functions: Functions, tmp_path_factory: pytest.TempPathFactory) -> Tap:
    return Tap(functions, tmp_path_factory.mktemp("stream") / "checkpoint.json")


@pytest.fixture
def store(functions: Functions, dynamo_client: Any) -> DynamoStore:
    return DynamoStore(functions.table, dynamo_client=dynamo_client, cache=AccountCache())


@pytest.fixture
def domain() -> str:
    """A recipient domain of this test only: moto keeps every message of the module."""
    return f"{uuid.uuid4().hex[:8]}.acme.test"


# --------------------------------------------------------------------------- helpers


def open_account(store: DynamoStore, domain: str, company: str = "Acme Certificates Ltd", **extra: Any) -> str:
    req = schemas.AccountCreate(
        currency="USD",
        company={"name": company},
        billing_emails=[f"billing@{domain}", f"finance@{domain}"],
        **extra,
    )
    return svc.open_account(store, req).account_id


def adjust(store: DynamoStore, account_id: str, kind: str, amount: int) -> None:
    req = schemas.Adjustment(type=kind, amount=amount, reason=f"integration {kind}")
    svc.adjust(store, req.command(account_id, uuid.uuid4().hex, OPERATOR.actor))


def set_threshold(store: DynamoStore, account_id: str, threshold: int | None) -> None:
    req = schemas.Settings(bill_to_balance=True, cards_enabled=True, low_balance_threshold=threshold)
    svc.put_settings(store, account_id, req)


def image_type(record: dict[str, Any]) -> str:
    new = record["dynamodb"]["NewImage"]
    return str(new["type"]["S"] if new["kind"]["S"] == "event" else "account")


# --------------------------------------------------------------------------- stream -> handler -> SES


def test_debit_crossing_the_threshold_sends_one_ses_email_to_the_billing_addresses(
    tap: Tap, store: DynamoStore, ses: Ses, domain: str
) -> None:
    acc = open_account(store, domain)
    adjust(store, acc, "credit", 2_500_000)  # 25,000.00 USD
    set_threshold(store, acc, 1_000_000)  # 10,000.00 USD
    tap.deliver(3)
    assert ses.messages(domain) == []

    adjust(store, acc, "debit", 1_550_050)  # -> 9,499.50 USD
    (record,) = tap.deliver(1)  # the account item; its entry and idempotency record are filtered out
    assert record["eventName"] == "MODIFY" and image_type(record) == "account"

    (msg,) = ses.messages(domain)
    assert msg.source == SENDER
    assert msg.destinations["ToAddresses"] == [f"billing@{domain}", f"finance@{domain}"]
    assert msg.subject == "Low balance: Acme Certificates Ltd"
    assert f"The balance of account {acc} (Acme Certificates Ltd) is $9,499.50" in msg.body
    assert "below your alert threshold of $10,000.00" in msg.body
    version = int(record["dynamodb"]["NewImage"]["version"]["N"])
    claim = store.get_item(account_pk(acc), f"NOTIFY#{notifications.alert_id(AlertKind.LOW_BALANCE, acc, version)}")
    assert claim is not None and claim["state"] == "sent" and claim["message_id"] == msg.id

    adjust(store, acc, "debit", 100)  # down again while below
    tap.deliver(1)
    assert len(ses.messages(domain)) == 1


def test_threshold_raised_above_the_balance_alerts_once_and_a_redelivered_batch_sends_nothing_more(
    tap: Tap, functions: Functions, store: DynamoStore, ses: Ses, domain: str
) -> None:
    acc = open_account(store, domain, company="Certs & Co s.r.o.")
    adjust(store, acc, "credit", 50_000)
    tap.deliver(2)
    set_threshold(store, acc, 100_000)  # update + the sparse-index sync: two MODIFY records, one version
    store.publish(DomainEvent(acc, "deposit.received", {"amount": 50_000, "currency": "USD", "balance_after": 50_000}))
    batch = tap.collect(3)
    assert [image_type(r) for r in batch] == ["account", "account", "deposit.received"]
    assert "gsi1pk" in batch[1]["dynamodb"]["NewImage"] and "gsi1pk" not in batch[0]["dynamodb"]["NewImage"]
    event = {"Records": batch}

    assert functions.notify.lambda_handler(event, ctx()) == {"batchItemFailures": []}
    subjects = sorted(m.subject for m in ses.messages(domain))
    assert subjects == ["Deposit received: $500.00", "Low balance: Certs & Co s.r.o."]

    for _ in range(2):  # Lambda redelivers the whole batch (timeout, throttled checkpoint...)
        assert functions.notify.lambda_handler(event, ctx()) == {"batchItemFailures": []}
    assert sorted(m.subject for m in ses.messages(domain)) == subjects


def _broken_account(store: DynamoStore, domain: str) -> str:
    """An account whose billing address SES refuses (written directly: the API would refuse it too)."""
    account = Account(
        account_id=f"acc_broken{uuid.uuid4().hex[:12]}",
        currency="USD",
        company=CompanyDetails(name="Broken Address Ltd"),
        billing_emails=(f"accounts-payable-at-{domain}",),  # no @: SES answers InvalidParameterValue
        partner_id=None,
        settings=PaymentSettings(),
        credit_limit=200_000,
    )
    store.create_account(account)
    return account.account_id


def test_a_record_ses_rejects_is_reported_and_the_other_emails_of_the_batch_go_out(
    tap: Tap, functions: Functions, store: DynamoStore, ses: Ses, domain: str
) -> None:
    good = open_account(store, domain)
    bad = _broken_account(store, domain)
    store.publish(DomainEvent(good, "deposit.received", {"amount": 10_000, "currency": "USD"}))
    store.publish(DomainEvent(bad, "proforma.issued", {"total": 121_000, "currency": "USD", "proforma_number": "PF-1"}))
    store.publish(
        DomainEvent(
            good, "order.declined", {"amount": 99_900, "currency": "USD", "shortfall": 89_900, "order_id": "o1"}
        )
    )
    batch = tap.collect(5)
    assert [image_type(r) for r in batch] == [
        "account",
        "account",
        "deposit.received",
        "proforma.issued",
        "order.declined",
    ]
    failing = batch[3]["dynamodb"]["SequenceNumber"]

    result = functions.notify.lambda_handler({"Records": batch}, ctx())

    assert result == {"batchItemFailures": [{"itemIdentifier": failing}]}
    assert sorted(m.subject for m in ses.messages(domain)) == [
        "Deposit received: $100.00",
        "Order o1 declined: insufficient funds",
    ]
    # Lambda retries from the failed record on: the emails after it are not sent twice.
    retry = functions.notify.lambda_handler({"Records": batch[3:]}, ctx())
    assert len(ses.messages(domain)) == 2
    assert retry["batchItemFailures"] in ([], [{"itemIdentifier": failing}])


def test_a_rejected_email_is_sent_when_the_record_is_retried_after_the_address_is_fixed(
    tap: Tap, functions: Functions, store: DynamoStore, ses: Ses, domain: str
) -> None:
    bad = _broken_account(store, domain)
    event = DomainEvent(bad, "deposit.received", {"amount": 10_000, "currency": "USD"})
    store.publish(event)
    batch = [r for r in tap.collect(2) if image_type(r) == "deposit.received"]
    with pytest.raises(BatchProcessingError):  # every record of the batch failed: a function error, retried
        functions.notify.lambda_handler({"Records": batch}, ctx())

    store.update_account(bad, {"billing_emails": [f"ap@{domain}"]})  # the customer fixes the address
    for _retry in range(3):  # Lambda retries the record (MaximumRetryAttempts: 10)
        try:
            functions.notify.lambda_handler({"Records": batch}, ctx())
            break
        except BatchProcessingError:  # "not yet, retry later" is acceptable if a later retry sends
            _age_claim(store, bad, f"deposit.received-{event.event_id}")

    assert [m.subject for m in ses.messages(domain)] == ["Deposit received: $100.00"]


def _age_claim(store: DynamoStore, account_id: str, notification_id: str) -> None:
    """Time passes between retries: the claim, if still there, becomes stale."""
    with contextlib.suppress(store.client.exceptions.ConditionalCheckFailedException):  # released: nothing to age
        store.client.update_item(
            TableName=store.table,
            Key={"pk": {"S": account_pk(account_id)}, "sk": {"S": f"NOTIFY#{notification_id}"}},
            UpdateExpression="SET claimed_at = claimed_at - :d",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":d": {"N": str(notifications.STALE_CLAIM_SECONDS + 1)}},
        )


# --------------------------------------------------------------------------- the threshold scan on DynamoDB Local


@pytest.fixture
def scan_table(functions: Functions, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A table of its own (the scan reads the whole index), made the functions' table for this test."""
    name = f"scan-{uuid.uuid4().hex[:10]}"
    ddb_local.ensure_table(functions.endpoint, name)
    monkeypatch.setenv("TABLE_NAME", name)
    _fresh_caches()
    yield name
    _fresh_caches()


def test_scan_reads_only_the_accounts_below_their_threshold_and_a_second_run_sends_nothing(
    functions: Functions, scan_table: str, dynamo_client: Any, ses: Ses, domain: str
) -> None:
    store = DynamoStore(scan_table, dynamo_client=dynamo_client, cache=AccountCache())
    below: list[str] = []

    def raised(i: int) -> None:  # threshold raised above the balance (the index set by the settings update)
        acc = open_account(store, domain, company=f"Raised {i}")
        adjust(store, acc, "credit", 3_000)
        set_threshold(store, acc, 5_000)
        below.append(acc)

    def debited(i: int) -> None:  # a debit across the threshold (the index set by the movement transaction)
        acc = open_account(store, domain, company=f"Debited {i}")
        adjust(store, acc, "credit", 10_000)
        set_threshold(store, acc, 5_000)
        adjust(store, acc, "debit", 6_000)
        below.append(acc)

    def recovered(i: int) -> None:  # was below, topped up: out of the index again
        acc = open_account(store, f"quiet.{domain}", company=f"Recovered {i}")
        set_threshold(store, acc, 5_000)
        adjust(store, acc, "credit", 10_000)

    def quiet(i: int) -> None:  # seeded above its threshold (or without one)
        store.create_account(
            Account(
                account_id=f"acc_quiet{i:04d}{uuid.uuid4().hex[:8]}",
                currency="USD",
                company=CompanyDetails(name=f"Quiet {i}"),
                billing_emails=(f"billing{i}@quiet.{domain}",),
                partner_id=None,
                settings=PaymentSettings(low_balance_threshold=5_000 if i % 2 else None),
                credit_limit=200_000,
                balance=20_000,
            )
        )

    jobs: list[Callable[[], None]] = [*(lambda i=i: raised(i) for i in range(4))]
    jobs += [*(lambda i=i: debited(i) for i in range(3))]
    jobs += [*(lambda i=i: recovered(i) for i in range(3))]
    jobs += [*(lambda i=i: quiet(i) for i in range(290))]
    with ThreadPoolExecutor(16) as pool:
        for f in [pool.submit(job) for job in jobs]:
            f.result()
    assert len(below) == 7
    assert dynamo_client.scan(TableName=scan_table, Select="COUNT")["Count"] >= 300

    first = functions.scan.lambda_handler(scheduled_event(), ctx("account-credit-threshold-scan"))
    assert first == {"items_read": 7, "accounts_below": 7, "alerts_sent": 7}
    sent = ses.messages(domain)
    assert len(sent) == 7 and {m.subject.split(": ", 1)[0] for m in sent} == {"Low balance"}
    assert sorted(m.destinations["ToAddresses"][0] for m in sent) == [f"billing@{domain}"] * 7
    assert {acc for acc in below if any(acc in m.body for m in sent)} == set(below)

    paged = notifications.scan_low_balances(store, SesMailer(SENDER), page_size=3)
    assert paged == notifications.ScanResult(items_read=7, accounts_below=7, alerts_sent=0)
    second = functions.scan.lambda_handler(scheduled_event(), ctx("account-credit-threshold-scan"))
    assert second == {"items_read": 7, "accounts_below": 7, "alerts_sent": 0}
    assert len(ses.messages(domain)) == 7


def scheduled_event() -> dict[str, Any]:
    from tools.schedule import scheduled_event as build

    return build("LowBalanceScan")
