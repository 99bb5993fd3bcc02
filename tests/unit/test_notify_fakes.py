"""Fakes shared by the notification unit tests, and the checks that keep them honest.

* ``RecordingMailer``: a Mailer that records what it would send (and can fail on demand).
* ``Feed``: changes one account in a MemoryStore through the real services and hands every
  change of the account item to ``notifications.on_stream_record`` as a Lambda DynamoDB stream
  record (NEW_AND_OLD_IMAGES, DynamoDB JSON), like the table stream would. It keeps the records
  so a test can redeliver them (at-least-once delivery).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from _support import EVENTS, OPERATOR, account_request

from account_credit.accounts import schemas
from account_credit.accounts import service as svc
from account_credit.kernel.domain import Account
from account_credit.kernel.errors import InsufficientFunds
from account_credit.notifications import service as notifications
from account_credit.notifications.messages import Email
from account_credit.platform.store.codec import to_item
from account_credit.platform.store.items import account_from_item
from account_credit.platform.store.keys import ACCOUNT_SK, account_pk
from account_credit.platform.store.memory import MemoryStore
from tools import streams


class SesDown(RuntimeError):
    """What the fake mailer raises when told to fail (SES throttling, a timeout...)."""


class SenderKilled(BaseException):
    """The function dies inside the SES call (Lambda timeout, out of memory): no ``except Exception``
    handler of the code under test runs, so whatever it had written before stays as it was."""


@dataclass(frozen=True)
class Sent:
    notification_id: str
    email: Email


@dataclass
class RecordingMailer:
    """A Mailer that keeps every email instead of sending it; the next ``failures`` sends raise SesDown,
    the next ``deaths`` sends kill the sender (SenderKilled)."""

    sent: list[Sent] = field(default_factory=list)
    failures: int = 0
    deaths: int = 0
    attempts: int = 0

    def send(self, email: Email, *, notification_id: str) -> str:
        self.attempts += 1
        if self.deaths > 0:
            self.deaths -= 1
            raise SenderKilled(f"killed while sending {notification_id}")
        if self.failures > 0:
            self.failures -= 1
            raise SesDown(f"SES did not answer for {notification_id}")
        self.sent.append(Sent(notification_id, email))
        return f"ses-message-{len(self.sent)}"

    def ids(self, prefix: str = "") -> list[str]:
        return [s.notification_id for s in self.sent if s.notification_id.startswith(prefix)]

    def of_kind(self, kind: str) -> list[Sent]:
        return [s for s in self.sent if s.notification_id.startswith(f"{kind}-")]


_sequence = itertools.count(4_000_000_000_000_000_000)


def stream_record(
    event_name: str, old: dict[str, Any] | None, new: dict[str, Any] | None, sequence: int | None = None
) -> dict[str, Any]:
    """A DynamoDB stream record as Lambda delivers it (images in DynamoDB JSON)."""
    image = new or old
    assert image is not None
    seq = str(sequence if sequence is not None else next(_sequence))
    data: dict[str, Any] = {
        "ApproximateCreationDateTime": 1772355600,
        "Keys": {"pk": {"S": image["pk"]}, "sk": {"S": image["sk"]}},
        "SequenceNumber": seq,
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        data["NewImage"] = to_item(new)
    if old is not None:
        data["OldImage"] = to_item(old)
    return {
        "eventID": f"evt-{seq}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": data,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/account-credit/stream/2026-03-01T00:00:00.000",
    }


class Feed:
    """One account in a MemoryStore; every change of its item goes to the notify service as a stream record."""

    def __init__(self, store: MemoryStore, mailer: RecordingMailer, account: Account) -> None:
        self.store = store
        self.mailer = mailer
        self.account_id = account.account_id
        self.records: list[dict[str, Any]] = []
        self._keys = itertools.count()

    @classmethod
    def open(
        cls,
        store: MemoryStore,
        mailer: RecordingMailer,
        currency: str = "USD",
        language: str = "en",
        **company: Any,
    ) -> Feed:
        req = account_request(currency, **company).model_copy(update={"language": language})
        return cls(store, mailer, svc.open_account(store, req))

    def item(self) -> dict[str, Any]:
        found = self.store.get_item(account_pk(self.account_id), ACCOUNT_SK)
        assert found is not None
        return found

    @property
    def account(self) -> Account:
        return account_from_item(self.item())

    def _change(self, apply: Any) -> notifications.Outcome:
        old = self.item()
        apply()
        new = self.item()
        record = stream_record("MODIFY", old, new)
        self.records.append(record)
        return self.deliver(record)

    def deliver(self, record: dict[str, Any]) -> notifications.Outcome:
        return notifications.on_stream_record(self.store, self.mailer, record)

    def credit(self, amount: int) -> notifications.Outcome:
        return self._adjust("credit", amount)

    def debit(self, amount: int) -> notifications.Outcome:
        return self._adjust("debit", amount)

    def _adjust(self, kind: str, amount: int) -> notifications.Outcome:
        req = schemas.Adjustment(type=kind, amount=amount, reason=f"test {kind}")
        key = f"{self.account_id}-{next(self._keys)}"
        return self._change(lambda: svc.adjust(self.store, req.command(self.account_id, key, OPERATOR.actor)))

    def threshold(self, value: int | None) -> notifications.Outcome:
        req = schemas.Settings(bill_to_balance=True, cards_enabled=True, low_balance_threshold=value)
        return self._change(lambda: svc.put_settings(self.store, self.account_id, req))

    def try_debit(self, amount: int) -> notifications.Outcome | None:
        """A debit the ledger may refuse (beyond the credit line): then nothing changes and nothing streams."""
        try:
            return self.debit(amount)
        except InsufficientFunds:
            return None


def notify_filters() -> list[Any]:
    (fn,) = [f for f in streams.stream_functions() if f["function"] == "NotifyFunction"]
    return list(fn["filters"])


def passes_notify_filter(record: dict[str, Any]) -> bool:
    return any(streams.matches(p, record) for p in notify_filters())


def load_stream_event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


# --------------------------------------------------------------------------- checks of the fakes


def test_feed_records_carry_both_images_and_pass_the_notify_filter_of_the_template() -> None:
    store, mailer = MemoryStore(), RecordingMailer()
    feed = Feed.open(store, mailer)
    feed.credit(5_000)
    (record,) = feed.records
    assert record["eventName"] == "MODIFY"
    assert record["dynamodb"]["OldImage"]["balance"] == {"N": "0"}
    assert record["dynamodb"]["NewImage"]["balance"] == {"N": "5000"}
    assert record["dynamodb"]["NewImage"]["kind"] == {"S": "account"}
    assert passes_notify_filter(record)


def test_recording_mailer_fails_exactly_as_often_as_told() -> None:
    mailer = RecordingMailer(failures=1, deaths=1)
    email = Email(to=("a@b.test",), subject="s", text="t", html="<p>t</p>")
    with pytest.raises(SenderKilled):
        mailer.send(email, notification_id="n-1")
    with pytest.raises(SesDown):
        mailer.send(email, notification_id="n-1")
    assert mailer.send(email, notification_id="n-1") == "ses-message-1"
    assert mailer.attempts == 3 and mailer.ids() == ["n-1"]
    assert not issubclass(SenderKilled, Exception)  # a death is not an error the code can handle


@pytest.mark.parametrize(
    "name",
    ["dynamodb_stream_deposit_received.json", "dynamodb_stream_low_balance.json", "dynamodb_stream_batch.json"],
)
def test_sample_stream_events_are_lambda_records_with_dynamodb_json_images(name: str) -> None:
    event = load_stream_event(name)
    assert event["Records"]
    for r in event["Records"]:
        assert r["eventSource"] == "aws:dynamodb" and r["eventName"] in {"INSERT", "MODIFY", "REMOVE"}
        assert r["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        for image in ("NewImage", "OldImage"):
            for attr in r["dynamodb"].get(image, {}).values():
                assert len(attr) == 1 and next(iter(attr)) in {"S", "N", "BOOL", "NULL", "M", "L"}
