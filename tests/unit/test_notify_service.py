"""The notification service over the in-memory store: stream records in (Lambda's format, sample events
in tests/events), each email sent once, stale claims taken over, the threshold scan, and the notify
Lambda handler with partial batch failures."""

from __future__ import annotations

import contextlib
import copy
import email
import email.policy
import importlib.util
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from _support import OPERATOR, ROOT, LambdaContext
from test_notify_fakes import Feed, RecordingMailer, SenderKilled, SesDown, load_stream_event, passes_notify_filter

from account_credit.accounts import schemas
from account_credit.accounts import service as svc
from account_credit.kernel.domain import Account, CompanyDetails, PaymentSettings
from account_credit.notifications import service as notifications
from account_credit.notifications.mailer import OutboxMailer
from account_credit.notifications.rules import AlertKind
from account_credit.platform.store.keys import account_pk
from account_credit.platform.store.memory import MemoryStore

SAMPLE = "acc_01jq8sample0000000000000001"  # the account of the sample stream events
LOW = AlertKind.LOW_BALANCE


def sample_account(store: MemoryStore, **overrides: Any) -> Account:
    """The account the sample events belong to, as it is after them (balance 9,345.50 USD)."""
    account = Account(
        account_id=SAMPLE,
        currency="USD",
        company=CompanyDetails(name="Acme Certificates Ltd", city="Bratislava", country="SK"),
        billing_emails=("billing@acme.test", "finance@acme.test"),
        partner_id="partner-a",
        settings=PaymentSettings(low_balance_threshold=1_000_000),
        credit_limit=200_000,
        balance=934_550,
        seq=8,
        **overrides,
    )
    store.create_account(account)
    return account


def only_record(name: str) -> dict[str, Any]:
    (record,) = load_stream_event(name)["Records"]
    return dict(record)


def claim(store: MemoryStore, account_id: str, notification_id: str) -> dict[str, Any] | None:
    return store.get_item(account_pk(account_id), f"NOTIFY#{notification_id}")


def age_claim(store: MemoryStore, account_id: str, notification_id: str, seconds: int) -> None:
    """Time passes: the claim, if there is one, was made ``seconds`` ago."""
    with store.lock:
        found = store.items.get((account_pk(account_id), f"NOTIFY#{notification_id}"))
        if found is not None:
            found["claimed_at"] = int(time.time()) - seconds


@pytest.fixture
def mailer() -> RecordingMailer:
    return RecordingMailer()


# --------------------------------------------------------------------------- event items -> emails


def test_deposit_received_event_emails_every_billing_address(store: MemoryStore, mailer: RecordingMailer) -> None:
    sample_account(store)
    record = only_record("dynamodb_stream_deposit_received.json")
    assert passes_notify_filter(record)

    outcome = notifications.on_stream_record(store, mailer, record)

    nid = "deposit.received-evt_01jq8sampledeposit0000001"
    assert outcome.sent == [nid]
    (sent,) = mailer.sent
    assert sent.notification_id == nid
    assert sent.email.to == ("billing@acme.test", "finance@acme.test")
    assert sent.email.subject == "Deposit received: $5,000.00"
    assert sent.email.text == (
        f"We received $5,000.00 for account {SAMPLE} (Acme Certificates Ltd). New balance: $12,345.50.\n"
    )
    done = claim(store, SAMPLE, nid)
    assert done is not None and done["state"] == "sent" and done["message_id"] == "ses-message-1"


def test_redelivered_event_record_sends_once(store: MemoryStore, mailer: RecordingMailer) -> None:
    sample_account(store)
    record = only_record("dynamodb_stream_deposit_received.json")
    first = notifications.on_stream_record(store, mailer, record)
    before = claim(store, SAMPLE, first.sent[0])
    for _ in range(3):
        assert not notifications.on_stream_record(store, mailer, copy.deepcopy(record))
    assert len(mailer.sent) == 1 and mailer.attempts == 1
    assert claim(store, SAMPLE, first.sent[0]) == before


def test_account_record_crossing_the_threshold_alerts_once_and_guards_the_crossing(
    store: MemoryStore, mailer: RecordingMailer
) -> None:
    sample_account(store)
    record = only_record("dynamodb_stream_low_balance.json")
    assert passes_notify_filter(record)

    nid = notifications.alert_id(LOW, SAMPLE, 10)  # version of the new image
    assert notifications.on_stream_record(store, mailer, record).sent == [nid]
    assert not notifications.on_stream_record(store, mailer, record)  # redelivered

    (sent,) = mailer.sent
    assert sent.email.subject == "Low balance: Acme Certificates Ltd"
    assert "is $9,345.50, below your alert threshold of $10,000.00" in sent.email.text
    guard = store.get_item(account_pk(SAMPLE), "ALERT#low_balance")
    assert guard is not None and guard["notification_id"] == nid
    assert store.get_item(account_pk(SAMPLE), "ALERT#credit_in_use") is None


def test_batch_sample_emails_proforma_and_decline_and_ignores_everything_else(
    store: MemoryStore, mailer: RecordingMailer
) -> None:
    sample_account(store)
    records = load_stream_event("dynamodb_stream_batch.json")["Records"]
    # The template's FilterCriteria lets only event and account items through to the function ...
    passing = [r for r in records if passes_notify_filter(r)]
    assert [r["dynamodb"]["NewImage"]["type"]["S"] for r in passing] == [
        "proforma.issued",
        "order.paid",
        "order.declined",
    ]
    # ... and the service ignores the others anyway (an entry, a claim being marked sent, a TTL removal).
    outcomes = [notifications.on_stream_record(store, mailer, r) for r in records]
    assert [o.sent for o in outcomes] == [
        [],
        ["proforma.issued-evt_01jq8sampleproforma000001"],
        [],  # order.paid is not emailed
        ["order.declined-evt_01jq8sampledeclined000001"],
        [],
        [],
    ]
    proforma, declined = (s.email for s in mailer.sent)
    assert proforma.subject == "Proforma invoice PF-2026-000042: $12,100.00"
    assert "Pay by bank transfer by 15 Mar 2026 with the payment reference 2026000042." in proforma.text
    assert "IBAN: SK3112000000198742637541, BIC: TATRSKBX" in proforma.text
    assert "Balance now: $9,345.50." in proforma.text  # no balance_after: the account's balance
    assert declined.subject == "Order ord_01jq8sample0000000000000042 declined: insufficient funds"
    assert "for $49,990.00" in declined.text and "short by $40,654.50" in declined.text


def test_event_modified_or_for_an_unknown_account_sends_nothing(store: MemoryStore, mailer: RecordingMailer) -> None:
    record = only_record("dynamodb_stream_deposit_received.json")
    assert not notifications.on_stream_record(store, mailer, record)  # no such account (closed, another table)
    sample_account(store)
    modified = copy.deepcopy(record)
    modified["eventName"] = "MODIFY"
    modified["dynamodb"]["OldImage"] = modified["dynamodb"]["NewImage"]
    assert not notifications.on_stream_record(store, mailer, modified)  # only a new event is news
    assert mailer.sent == []


def test_slovak_account_gets_the_event_email_in_slovak(store: MemoryStore, mailer: RecordingMailer) -> None:
    sample_account(store, language="sk")
    notifications.on_stream_record(store, mailer, only_record("dynamodb_stream_deposit_received.json"))
    (sent,) = mailer.sent
    assert sent.email.subject == "Platba prijatá: 5 000,00 USD"  # a subject is one line of plain spaces
    assert "Nový zostatok kreditu: 12\u00a0345,50\u00a0USD." in sent.email.text


# --------------------------------------------------------------------------- claims: exactly once, stale takeover


def test_claim_left_sending_by_a_dead_sender_is_taken_over_after_the_stale_window_and_sent_once(
    store: MemoryStore, mailer: RecordingMailer
) -> None:
    sample_account(store)
    record = only_record("dynamodb_stream_deposit_received.json")
    nid = "deposit.received-evt_01jq8sampledeposit0000001"
    mailer.deaths = 1  # the first sender claims, then dies in the SES call
    with pytest.raises(SenderKilled):
        notifications.on_stream_record(store, mailer, record)
    stale = claim(store, SAMPLE, nid)
    assert stale is not None and stale["state"] == "sending" and mailer.sent == []

    age_claim(store, SAMPLE, nid, notifications.STALE_CLAIM_SECONDS + 1)
    assert notifications.on_stream_record(store, mailer, record).sent == [nid]
    assert not notifications.on_stream_record(store, mailer, record)
    assert not notifications.on_stream_record(store, mailer, record)

    assert mailer.ids() == [nid]
    done = claim(store, SAMPLE, nid)
    assert done is not None and done["state"] == "sent"
    assert done["claimed_at"] >= int(time.time()) - 5  # the takeover re-stamped the claim


def test_stale_alert_claim_is_taken_over_through_its_own_guard(store: MemoryStore, mailer: RecordingMailer) -> None:
    sample_account(store)
    record = only_record("dynamodb_stream_low_balance.json")
    nid = notifications.alert_id(LOW, SAMPLE, 10)
    mailer.deaths = 1
    with pytest.raises(SenderKilled):
        notifications.on_stream_record(store, mailer, record)
    age_claim(store, SAMPLE, nid, notifications.STALE_CLAIM_SECONDS + 1)
    assert notifications.on_stream_record(store, mailer, record).sent == [nid]
    assert not notifications.on_stream_record(store, mailer, record)
    assert mailer.ids() == [nid]


def test_a_claim_another_sender_just_made_is_not_sent_again(store: MemoryStore, mailer: RecordingMailer) -> None:
    account = sample_account(store)
    record = only_record("dynamodb_stream_deposit_received.json")
    nid = "deposit.received-evt_01jq8sampledeposit0000001"
    # Another container claimed it a moment ago and is inside its SES call right now.
    store.put_record(notifications._claim_record(account.account_id, nid, "deposit.received"))
    with contextlib.suppress(Exception):  # answering "retry later" is fine too; sending a second copy is not
        notifications.on_stream_record(store, mailer, record)
    assert mailer.attempts == 0


def test_only_one_of_two_takeovers_of_the_same_stale_claim_wins(store: MemoryStore) -> None:
    account = sample_account(store)
    nid = "deposit.received-evt_01jq8sampledeposit0000001"
    store.put_record(notifications._claim_record(account.account_id, nid, "deposit.received"))
    age_claim(store, SAMPLE, nid, notifications.STALE_CLAIM_SECONDS + 30)
    seen = claim(store, SAMPLE, nid)  # both redeliveries read the same stale claim
    assert seen is not None
    assert notifications._take_over_if_stale(store, SAMPLE, nid, seen) is True
    assert notifications._take_over_if_stale(store, SAMPLE, nid, seen) is False


@pytest.mark.parametrize(
    ("sample", "nid"),
    [
        ("dynamodb_stream_deposit_received.json", "deposit.received-evt_01jq8sampledeposit0000001"),
        ("dynamodb_stream_low_balance.json", notifications.alert_id(LOW, SAMPLE, 10)),
    ],
)
def test_an_email_whose_send_failed_is_sent_when_lambda_retries_the_record(
    store: MemoryStore, mailer: RecordingMailer, sample: str, nid: str
) -> None:
    sample_account(store)
    record = only_record(sample)
    mailer.failures = 1  # SES throttled or timed out once
    with pytest.raises(SesDown):
        notifications.on_stream_record(store, mailer, record)  # reported as a batch item failure
    for _retry in range(3):  # Lambda retries a failing record (MaximumRetryAttempts: 10)
        try:
            notifications.on_stream_record(store, mailer, record)
            break
        except Exception:  # noqa: BLE001 - "not yet, retry later" is acceptable if a later retry sends
            age_claim(store, SAMPLE, nid, notifications.STALE_CLAIM_SECONDS + 1)  # time passes between retries
    assert mailer.ids() == [nid], "the retry succeeded without sending: the email is lost"


def test_scan_recovers_a_failed_alert_even_after_a_later_debit(mailer: RecordingMailer) -> None:
    feed = Feed.open(MemoryStore(), mailer)
    feed.credit(50_000)
    feed.threshold(10_000)
    mailer.failures = 1
    with pytest.raises(SesDown):
        feed.debit(45_000)  # the crossing; its email fails
    failed_id = notifications.alert_id(LOW, feed.account_id, feed.item()["version"])
    feed.debit(100)  # version moves on, still below: no new crossing
    age_claim(feed.store, feed.account_id, failed_id, notifications.STALE_CLAIM_SECONDS + 1)
    notifications.scan_low_balances(feed.store, mailer)
    assert len(mailer.of_kind("low_balance")) == 1


def test_redelivering_a_top_up_and_a_later_crossing_does_not_alert_that_crossing_twice(
    mailer: RecordingMailer,
) -> None:
    feed = Feed.open(MemoryStore(), mailer)
    feed.credit(50_000)
    feed.threshold(10_000)
    feed.debit(45_000)  # crossing 1: alerted
    feed.credit(10_000)  # top-up above the threshold: re-armed
    feed.debit(10_000)  # crossing 2: alerted
    assert len(mailer.of_kind("low_balance")) == 2
    for record in feed.records[-2:]:  # Lambda redelivers the tail of the batch (timeout, retry from a failure)
        assert not feed.deliver(record)
    feed.debit(500)  # still below: no crossing
    notifications.scan_low_balances(feed.store, mailer)
    assert len(mailer.of_kind("low_balance")) == 2


# --------------------------------------------------------------------------- the threshold scan


def test_scan_reads_only_the_accounts_below_their_threshold_and_alerts_each_once(
    store: MemoryStore, mailer: RecordingMailer
) -> None:
    below: set[str] = set()
    for i in range(30):
        account = svc.open_account(
            store,
            schemas.AccountCreate(currency="EUR", company={"name": f"Company {i}"}, billing_emails=[f"b{i}@x.test"]),
        )
        svc.adjust(
            store,
            schemas.Adjustment(type="credit", amount=20_000, reason="top").command(
                account.account_id, "k", OPERATOR.actor
            ),
        )
        if i % 3 == 0:
            continue  # no threshold at all
        threshold = 30_000 if i in {4, 17, 25} else 5_000  # 3 accounts end up below, the rest above
        settings = schemas.Settings(bill_to_balance=True, cards_enabled=True, low_balance_threshold=threshold)
        svc.put_settings(store, account.account_id, settings)  # no stream delivered: no alert yet
        if threshold > 20_000:
            below.add(account.account_id)
    assert len(below) == 3

    first = notifications.scan_low_balances(store, mailer, page_size=2)
    assert first == notifications.ScanResult(items_read=3, accounts_below=3, alerts_sent=3)
    assert {s.email.text.split()[4] for s in mailer.sent} == below  # "The balance of account <id> ..."
    assert all("is €200.00, below your alert threshold of €300.00" in s.email.text for s in mailer.sent)

    second = notifications.scan_low_balances(store, mailer, page_size=2)
    assert second == notifications.ScanResult(items_read=3, accounts_below=3, alerts_sent=0)
    assert len(mailer.sent) == 3


def test_scan_does_not_repeat_an_alert_the_stream_already_sent(mailer: RecordingMailer) -> None:
    feed = Feed.open(MemoryStore(), mailer)
    feed.credit(50_000)
    feed.threshold(10_000)
    feed.debit(45_000)
    feed.debit(1_000)  # version moves on while below
    assert notifications.scan_low_balances(feed.store, mailer) == notifications.ScanResult(1, 1, 0)
    assert len(mailer.sent) == 1


def test_scan_leaves_an_alert_being_sent_alone_and_sends_it_once_its_sender_is_known_dead(
    mailer: RecordingMailer,
) -> None:
    feed = Feed.open(MemoryStore(), mailer)
    feed.credit(50_000)
    feed.threshold(10_000)
    mailer.deaths = 1
    with pytest.raises(SenderKilled):
        feed.debit(45_000)
    nid = notifications.alert_id(LOW, feed.account_id, feed.item()["version"])
    assert notifications.scan_low_balances(feed.store, mailer).alerts_sent == 0  # maybe still being sent
    age_claim(feed.store, feed.account_id, nid, notifications.STALE_CLAIM_SECONDS + 1)
    assert notifications.scan_low_balances(feed.store, mailer).alerts_sent == 1
    assert notifications.scan_low_balances(feed.store, mailer).alerts_sent == 0
    assert mailer.ids() == [nid]


def test_scan_delivers_an_alert_whose_send_failed_exactly_once(mailer: RecordingMailer) -> None:
    feed = Feed.open(MemoryStore(), mailer)
    feed.credit(50_000)
    feed.threshold(10_000)
    mailer.failures = 1
    with pytest.raises(SesDown):
        feed.debit(45_000)  # SES refused; the stream gave up on the record (or it went to the failure queue)
    nid = notifications.alert_id(LOW, feed.account_id, feed.item()["version"])
    sent = notifications.scan_low_balances(feed.store, mailer).alerts_sent  # now, or ...
    age_claim(feed.store, feed.account_id, nid, notifications.STALE_CLAIM_SECONDS + 1)
    sent += notifications.scan_low_balances(feed.store, mailer).alerts_sent  # ... at the latest when stale
    sent += notifications.scan_low_balances(feed.store, mailer).alerts_sent
    assert sent == 1 and mailer.ids() == [nid]


def test_scan_of_an_empty_index_reads_nothing(store: MemoryStore, mailer: RecordingMailer) -> None:
    assert notifications.scan_low_balances(store, mailer) == notifications.ScanResult(0, 0, 0)


# --------------------------------------------------------------------------- outbox


def test_alerts_of_two_accounts_at_the_same_version_are_two_outbox_files(tmp_path: Path) -> None:
    store = MemoryStore()
    outbox = OutboxMailer(tmp_path, "billing@example.com")
    feeds = [Feed(store, outbox, Feed.open(store, RecordingMailer()).account) for _ in range(2)]  # type: ignore[arg-type]
    for feed in feeds:
        feed.credit(50_000)
        feed.threshold(10_000)
        feed.debit(45_000)
    assert feeds[0].item()["version"] == feeds[1].item()["version"]
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2, files
    for feed in feeds:
        (match,) = [f for f in files if feed.account_id in f]
        msg = email.message_from_bytes((tmp_path / match).read_bytes(), policy=email.policy.default)
        assert feed.account_id in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


# --------------------------------------------------------------------------- the notify Lambda handler


@pytest.fixture
def notify_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, MemoryStore, Path]]:
    """functions/notify/app.py over the in-memory store, emails in a temp outbox (both chosen from the env)."""
    from account_credit.platform import config
    from account_credit.platform.http import resolver

    outbox = tmp_path / "outbox"
    monkeypatch.setenv("STORE", "memory")
    monkeypatch.setenv("EMAIL_OUTBOX_DIR", str(outbox))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "AccountCreditUnitTests")
    resolver.store.cache_clear()
    config.settings.cache_clear()
    name = f"notify_app_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / "notify" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    store = resolver.store()
    assert isinstance(store, MemoryStore)
    try:
        yield module, store, outbox
    finally:
        sys.modules.pop(name, None)
        resolver.store.cache_clear()


def test_notify_handler_reports_only_the_failing_record_of_a_batch(
    notify_app: tuple[ModuleType, MemoryStore, Path],
) -> None:
    module, store, outbox = notify_app
    sample_account(store)
    records = load_stream_event("dynamodb_stream_batch.json")["Records"]
    records = [r for r in records if passes_notify_filter(r)]  # what Lambda hands the function
    broken = copy.deepcopy(only_record("dynamodb_stream_low_balance.json"))
    del broken["dynamodb"]["NewImage"]["currency"]  # an account item the service cannot read
    broken["dynamodb"]["SequenceNumber"] = "4200000000012345678999"
    event = {"Records": [records[0], broken, *records[1:]]}

    result = module.lambda_handler(event, LambdaContext(function_name="account-credit-notify"))

    assert result == {"batchItemFailures": [{"itemIdentifier": "4200000000012345678999"}]}
    assert sorted(p.name for p in outbox.iterdir()) == [
        "order.declined-evt_01jq8sampledeclined000001.eml",
        "proforma.issued-evt_01jq8sampleproforma000001.eml",
    ]
    # Lambda retries from the failed record on: the good records after it are not emailed twice.
    again = module.lambda_handler({"Records": event["Records"][1:]}, LambdaContext(function_name="notify"))
    assert again == {"batchItemFailures": [{"itemIdentifier": "4200000000012345678999"}]}
    assert len(list(outbox.iterdir())) == 2
