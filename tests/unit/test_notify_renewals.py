"""The subscription, renewal, card-expiry and auto top-up emails: each event kind becomes its email in English and
Slovak, once per event, saying what the customer needs to know (and what to do)."""

from __future__ import annotations

from typing import Any

import pytest
from test_notify_fakes import RecordingMailer

from account_credit.accounts import service as svc
from account_credit.accounts.schemas import AccountCreate
from account_credit.notifications import service as notifications
from account_credit.platform.store.memory import MemoryStore

PAYLOADS: dict[str, dict[str, Any]] = {
    "renewal.succeeded": {
        "subscription_id": "sub_a",
        "term": 2,
        "order_id": "renewal-sub_a-2",
        "amount": 12_300,
        "currency": "EUR",
        "method": "balance",
    },
    "renewal.paid_with_alternate": {
        "subscription_id": "sub_a",
        "term": 2,
        "order_id": "renewal-sub_a-2",
        "amount": 12_300,
        "currency": "EUR",
        "method": "card",
        "brand": "visa",
        "last4": "4242",
        "failed_method": "pm_default",
        "decline_code": "card_declined",
    },
    "renewal.failed": {
        "subscription_id": "sub_a",
        "term": 2,
        "amount": 12_300,
        "currency": "EUR",
        "attempts": 1,
        "retry_until": "2027-01-17",
        "reasons": ["the balance does not cover it"],
    },
    "subscription.suspended": {"subscription_id": "sub_a", "term": 1, "reason": "renewal_failed"},
    "renewal.forecast_short": {
        "window_end": "2027-02-09",
        "due": 24_600,
        "available": 10_000,
        "currency": "EUR",
        "subscriptions": [{"subscription_id": "sub_a", "renewal_date": "2027-01-10", "term": 2, "amount": 24_600}],
    },
    "card.expiring": {"payment_method_id": "pm_1", "brand": "visa", "last4": "4242", "exp_month": 1, "exp_year": 2027},
    "auto_top_up.succeeded": {
        "amount": 50_000,
        "currency": "EUR",
        "deposit_id": "dep_1",
        "brand": "visa",
        "last4": "4242",
    },
    "auto_top_up.declined": {
        "amount": 50_000,
        "currency": "EUR",
        "brand": "visa",
        "last4": "4242",
        "decline_code": "insufficient_funds",
    },
}
# What each email must say, in every language (besides its figures).
MUST_SAY = {
    "renewal.succeeded": ["sub_a", "renewal-sub_a-2"],
    "renewal.paid_with_alternate": ["sub_a", "card_declined", "4242"],
    "renewal.failed": ["sub_a", "the balance does not cover it"],
    "subscription.suspended": ["sub_a"],
    "renewal.forecast_short": ["sub_a"],
    "card.expiring": ["4242", "01/2027"],
    "auto_top_up.succeeded": ["4242", "dep_1"],
    "auto_top_up.declined": ["4242", "insufficient_funds"],
}
WHAT_TO_DO = {
    "renewal.failed": {"en": ["top up", "update the card", "another payment method"], "sk": ["dobite", "kartu"]},
    "renewal.forecast_short": {"en": ["Top up"], "sk": ["Dobite"]},
    "auto_top_up.declined": {"en": ["Update your card"], "sk": ["Aktualizujte kartu"]},
}


def account(store: MemoryStore, language: str) -> str:
    req = AccountCreate.model_validate(
        {
            "currency": "EUR",
            "company": {"name": "Certs s.r.o.", "city": "Bratislava", "country": "SK"},
            "billing_emails": ["billing@certs.test"],
            "language": language,
        }
    )
    return svc.open_account(store, req).account_id


def event(acc: str, kind: str, payload: dict[str, Any], n: int = 1) -> dict[str, Any]:
    return {"kind": "event", "event_id": f"evt_{n}", "account_id": acc, "type": kind, "payload": payload}


@pytest.mark.parametrize("language", ["en", "sk"])
@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_every_new_event_is_one_email_in_the_account_language(store: MemoryStore, kind: str, language: str) -> None:
    acc = account(store, language)
    mailer = RecordingMailer()
    assert notifications.on_event(store, mailer, event(acc, kind, PAYLOADS[kind])).sent == [f"{kind}-evt_1"]
    assert not notifications.on_event(store, mailer, event(acc, kind, PAYLOADS[kind]))  # redelivered: once
    (sent,) = mailer.sent
    text = sent.email.text
    assert sent.email.to == ("billing@certs.test",)
    assert "{" not in text and "{" not in sent.email.subject
    for said in MUST_SAY[kind]:
        assert said in text, (said, text)
    for said in WHAT_TO_DO.get(kind, {}).get(language, []):
        assert said in text, (said, text)
    if "amount" in PAYLOADS[kind]:
        assert "EUR" in text or "€" in text


def test_a_suspension_says_why(store: MemoryStore) -> None:
    acc = account(store, "en")
    mailer = RecordingMailer()
    notifications.on_event(store, mailer, event(acc, "subscription.suspended", PAYLOADS["subscription.suspended"]))
    customer = {"subscription_id": "sub_b", "reason": "customer"}
    notifications.on_event(store, mailer, event(acc, "subscription.suspended", customer, 2))
    first, second = (s.email.text for s in mailer.sent)
    assert "could not be paid" in first and "you suspended it" in second


def test_a_renewal_decline_is_told_by_the_renewal_email_not_the_order_one(store: MemoryStore) -> None:
    acc = account(store, "en")
    mailer = RecordingMailer()
    declined = {"order_id": "renewal-sub_a-2", "channel": "renewal", "amount": 12_300, "currency": "EUR"}
    assert not notifications.on_event(store, mailer, event(acc, "order.declined", declined))
    portal = {**declined, "order_id": "o-1", "channel": "portal"}
    assert notifications.on_event(store, mailer, event(acc, "order.declined", portal, 2))
