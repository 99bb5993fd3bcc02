"""Auto top-up: the crossing rule (a table), the setting, and the service on the in-memory store with a fake
provider that makes one charge per idempotency key: once per crossing however often the stream delivers it,
a decline told once, an outage retried into the same single charge, no second charge while below, re-armed by a
top-up; the charge is a card top-up (deposit, entry, link for a later refund)."""

from __future__ import annotations

import copy
import importlib.util
import sys
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from _auto_top_up_support import account_item, account_record, events_of, prefer, save_card
from _deposit_support import ENV as DEPOSIT_ENV
from _deposit_support import reset as reset_deposits
from _order_support import FakeProvider
from _support import (
    ROOT,
    Api,
    LambdaContext,
    account_request,
    customer_claims,
    operator_claims,
    partner_claims,
)
from pydantic import ValidationError

from account_credit.accounts import service as accounts
from account_credit.auto_top_up import rules
from account_credit.auto_top_up import service as svc
from account_credit.auto_top_up.schemas import AutoTopUpUpdate
from account_credit.deposits import service as deposits
from account_credit.kernel.errors import InvalidInput
from account_credit.kernel.money import Money
from account_credit.payment_methods.reliance import Preferences
from account_credit.platform.payments.port import WebhookEvent
from account_credit.platform.payments.sandbox import SandboxProvider
from account_credit.platform.store import keys
from account_credit.platform.store.memory import MemoryStore

ON = rules.Setting(enabled=True, below=5_000, amount=20_000)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for k, v in DEPOSIT_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    reset_deposits()
    yield
    reset_deposits()


# --------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("setting", "old", "new", "crossed"),
    [
        (ON, (6_000, 1), (4_000, 2), True),  # fell through the level
        (ON, (5_000, 1), (4_999, 2), True),  # exactly at the level is not below it
        (ON, (6_000, 1), (5_000, 2), False),  # down to the level: not below
        (ON, (4_000, 1), (3_000, 2), False),  # down again while below: the crossing was before
        (ON, (4_000, 1), (6_000, 2), False),  # a top-up: re-arms, charges nothing
        (ON, (6_000, 1), (-500, 2), True),  # into the credit line
        (ON, (6_000, 3), (4_000, 3), False),  # no ledger movement (seq unchanged): not a crossing
        (rules.Setting(enabled=False, below=5_000, amount=20_000), (6_000, 1), (4_000, 2), False),
        (rules.Setting(), (6_000, 1), (4_000, 2), False),  # never set
    ],
)
def test_a_crossing_is_a_ledger_movement_from_at_or_above_the_level_to_below_it(
    setting: rules.Setting, old: tuple[int, int], new: tuple[int, int], crossed: bool
) -> None:
    assert rules.crossed(setting, old[0], old[1], new[0], new[1]) is crossed


@pytest.mark.parametrize(
    ("prefs", "candidates"),
    [
        (Preferences(), []),
        (Preferences("pm_a"), ["pm_a"]),
        (Preferences("balance", "pm_b"), ["pm_b"]),
        (Preferences("pm_a", "pm_b"), ["pm_a", "pm_b"]),
        (Preferences("pm_a", "balance"), ["pm_a"]),
        (Preferences("pm_a", "pm_a"), ["pm_a"]),
    ],
)
def test_the_default_pays_before_the_alternate_and_the_balance_never(prefs: Preferences, candidates: list[str]) -> None:
    assert rules.candidates(prefs) == candidates


# --------------------------------------------------------------------------- set-up


@pytest.fixture
def acc(store: MemoryStore, open_account: Any) -> str:
    account_id = str(open_account("EUR").account_id)
    save_card(store, account_id, "pm_main")
    prefer(store, account_id, "pm_main")
    svc.configure(store, account_id, AutoTopUpUpdate(enabled=True, below=5_000, amount=20_000), "customer:c1")
    credit(store, account_id, 10_000, "k0")
    return account_id


def credit(store: MemoryStore, account_id: str, amount: int, key: str) -> None:
    accounts.credit(store, account_id, amount, reason="bank payment", idempotency_key=key, actor="operator:op")


def debit(store: MemoryStore, account_id: str, amount: int, key: str) -> dict[str, Any]:
    """Debit and return the stream record of that change of the account item."""
    before = copy.deepcopy(account_item(store, account_id))
    accounts.debit(store, account_id, amount, reason="order", idempotency_key=key, actor="operator:op")
    return account_record(before, copy.deepcopy(account_item(store, account_id)))


def deposit_items(store: MemoryStore, account_id: str) -> list[dict[str, Any]]:
    return store.query_prefix(*keys.deposits_prefix(account_id))


def balance(store: MemoryStore, account_id: str) -> int:
    account = store.get_account(account_id)
    assert account is not None
    return account.balance


def providers(fake: Any) -> Any:
    return lambda _name: fake


# --------------------------------------------------------------------------- once per crossing


def test_a_fall_below_the_level_charges_the_default_card_once_however_often_the_record_comes(
    store: MemoryStore, acc: str
) -> None:
    fake = FakeProvider(name="sandbox")
    record = debit(store, acc, 6_000, "d1")  # 10,000 -> 4,000: below 5,000
    assert svc.on_stream_record(store, record, providers(fake)) == "succeeded"
    for _ in range(3):
        assert svc.on_stream_record(store, copy.deepcopy(record), providers(fake)) == "duplicate"

    assert len(fake.charge_calls) == 1
    (call,) = fake.charge_calls
    assert (call["amount"], call["token"]) == (Money(20_000, "EUR"), "pm_card_visa")
    assert call["key"] == f"autotopup-{acc}-{record['dynamodb']['NewImage']['seq']['N']}"
    assert balance(store, acc) == 4_000 + 20_000
    (deposit,) = deposit_items(store, acc)
    assert (deposit["method"], deposit["state"], deposit["credited_amount"], deposit["actor"]) == (
        "card",
        "credited",
        20_000,
        "auto_top_up",
    )
    entries = store.list_entries(acc, since=None, until=None, entry_type="deposit_card", cursor=None, limit=10)
    assert [e.amount for e in entries.items] == [20_000]
    (event,) = events_of(store, acc, "auto_top_up.succeeded")
    assert event["payload"]["deposit_id"] == deposit["deposit_id"]
    assert (event["payload"]["amount"], event["payload"]["currency"]) == (20_000, "EUR")
    assert events_of(store, acc, "deposit.received") == []  # one email: the auto top-up's


def test_a_decline_is_told_once_and_credits_nothing(store: MemoryStore, open_account: Any) -> None:
    acc = str(open_account("EUR").account_id)
    save_card(store, acc, "pm_bad", token="pm_card_chargeDeclined")
    prefer(store, acc, "pm_bad")
    svc.configure(store, acc, AutoTopUpUpdate(enabled=True, below=5_000, amount=20_000), "customer:c1")
    credit(store, acc, 10_000, "k0")
    sandbox = SandboxProvider(webhook_secret="unused")
    record = debit(store, acc, 6_000, "d1")

    assert svc.on_stream_record(store, record, providers(sandbox)) == "declined"
    assert svc.on_stream_record(store, copy.deepcopy(record), providers(sandbox)) == "duplicate"

    (event,) = events_of(store, acc, "auto_top_up.declined")
    assert event["payload"] == {
        "amount": 20_000,
        "currency": "EUR",
        "brand": "visa",
        "last4": "4242",
        "decline_code": "card_declined",
    }
    assert balance(store, acc) == 4_000 and deposit_items(store, acc) == []


def test_a_provider_outage_fails_the_record_and_its_retry_is_the_same_single_charge(
    store: MemoryStore, acc: str
) -> None:
    fake = FakeProvider(name="sandbox", fail=True)
    record = debit(store, acc, 6_000, "d1")
    with pytest.raises(ConnectionError):
        svc.on_stream_record(store, record, providers(fake))
    seq = int(record["dynamodb"]["NewImage"]["seq"]["N"])
    crossing = store.get_item(*keys.auto_top_up_crossing(acc, seq))
    assert crossing is not None and crossing["state"] == "interrupted"
    assert balance(store, acc) == 4_000

    fake.fail = False
    assert svc.on_stream_record(store, copy.deepcopy(record), providers(fake)) == "succeeded"
    assert len(fake.charges) == 1 and len({c["key"] for c in fake.charge_calls}) == 1
    assert balance(store, acc) == 24_000 and len(deposit_items(store, acc)) == 1


def test_while_below_nothing_more_is_charged_and_a_top_up_above_re_arms(store: MemoryStore, acc: str) -> None:
    fake = FakeProvider(name="sandbox")
    first = debit(store, acc, 6_000, "d1")  # 4,000: crossing
    down_again = debit(store, acc, 1_000, "d2")  # 3,000: still below, before the first is processed
    assert svc.on_stream_record(store, first, providers(fake)) == "succeeded"  # +20,000 = 23,000
    assert svc.on_stream_record(store, down_again, providers(fake)) == "no_crossing"

    second = debit(store, acc, 19_000, "d3")  # 4,000 again: another crossing, another seq
    assert svc.on_stream_record(store, second, providers(fake)) == "succeeded"
    assert len(fake.charges) == 2 and balance(store, acc) == 24_000
    assert len(events_of(store, acc, "auto_top_up.succeeded")) == 2


def test_a_crossing_already_made_good_by_another_top_up_charges_nothing(store: MemoryStore, acc: str) -> None:
    fake = FakeProvider(name="sandbox")
    record = debit(store, acc, 6_000, "d1")
    credit(store, acc, 5_000, "k1")  # the customer topped up before the record was processed
    assert svc.on_stream_record(store, record, providers(fake)) == "recovered"
    assert svc.on_stream_record(store, record, providers(fake)) == "duplicate"
    assert fake.charge_calls == []


def test_without_a_card_to_charge_or_with_the_setting_off_nothing_is_charged(store: MemoryStore, acc: str) -> None:
    fake = FakeProvider(name="sandbox")
    prefer(store, acc, "balance")
    assert svc.on_stream_record(store, debit(store, acc, 6_000, "d1"), providers(fake)) == "no_card"

    credit(store, acc, 6_000, "k1")  # 10,000 again
    prefer(store, acc, "balance", alternate="pm_main")  # the alternate card pays when the default is the balance
    svc.configure(store, acc, AutoTopUpUpdate(enabled=False, below=5_000, amount=20_000), "customer:c1")
    assert svc.on_stream_record(store, debit(store, acc, 6_000, "d2"), providers(fake)) == "no_crossing"
    assert fake.charge_calls == []

    credit(store, acc, 6_000, "k2")
    svc.configure(store, acc, AutoTopUpUpdate(enabled=True, below=5_000, amount=20_000), "customer:c1")
    assert svc.on_stream_record(store, debit(store, acc, 6_000, "d3"), providers(fake)) == "succeeded"
    assert [c["token"] for c in fake.charge_calls] == ["pm_card_visa"]


def test_a_crossing_another_attempt_holds_is_retried_later_and_a_dead_attempts_claim_is_taken_over(
    store: MemoryStore, acc: str
) -> None:
    fake = FakeProvider(name="sandbox")
    record = debit(store, acc, 6_000, "d1")
    seq = int(record["dynamodb"]["NewImage"]["seq"]["N"])
    key = keys.auto_top_up_crossing(acc, seq)
    card = {"payment_method_id": "pm_main", "provider": "sandbox", "token": "pm_card_visa", "brand": "visa"}
    card |= {"last4": "4242", "exp_month": 12, "exp_year": 2030}
    held = {"kind": "auto_top_up_crossing", "state": "charging", "claimed_at": time.time_ns(), "card": card}
    store.put_if_absent(key, {**held, "amount": 20_000, "currency": "EUR", "seq": seq})

    with pytest.raises(svc.CrossingInFlight):
        svc.on_stream_record(store, record, providers(fake))
    assert fake.charge_calls == []

    store.items[key]["claimed_at"] -= (svc.STALE_CLAIM_SECONDS + 1) * 1_000_000_000  # its function died
    assert svc.on_stream_record(store, record, providers(fake)) == "succeeded"
    assert len(fake.charges) == 1 and balance(store, acc) == 24_000


def test_the_auto_top_ups_charge_is_a_card_top_up_a_refund_at_the_provider_takes_back(
    store: MemoryStore, acc: str
) -> None:
    fake = FakeProvider(name="sandbox")
    assert svc.on_stream_record(store, debit(store, acc, 6_000, "d1"), providers(fake)) == "succeeded"
    (deposit,) = deposit_items(store, acc)
    refund = WebhookEvent(
        provider="sandbox",
        event_id="evt_refund_1",
        type="payment.refunded",
        raw_type="charge.refunded",
        payment_id=deposit["payment_id"],
        amount=Money(20_000, "EUR"),
    )
    assert deposits.apply_event(store, refund)["outcome"] == "reversed"
    assert balance(store, acc) == 4_000


# --------------------------------------------------------------------------- the setting


def test_the_setting_is_read_back_with_the_card_it_would_charge(store: MemoryStore, acc: str) -> None:
    got = svc.view(store, acc)
    assert {k: got[k] for k in ("enabled", "below", "amount", "currency")} == {
        "enabled": True,
        "below": 5_000,
        "amount": 20_000,
        "currency": "EUR",
    }
    assert got["card"]["payment_method_id"] == "pm_main" and got["card"]["last4"] == "4242"
    prefer(store, acc)  # the balance is the default, no alternate
    assert svc.view(store, acc)["card"] is None


def test_a_fresh_account_has_auto_top_up_off(store: MemoryStore, open_account: Any) -> None:
    acc = str(open_account("EUR").account_id)
    assert svc.view(store, acc) | {"updated_at": None} == {
        "account_id": acc,
        "currency": "EUR",
        "enabled": False,
        "below": None,
        "amount": None,
        "card": None,
        "updated_at": None,
    }


def test_the_amount_must_be_a_top_up_the_account_may_make(store: MemoryStore, acc: str) -> None:
    with pytest.raises(InvalidInput) as err:  # DEPOSIT_MIN_AMOUNT is 10 EUR
        svc.configure(store, acc, AutoTopUpUpdate(enabled=True, below=5_000, amount=999), "customer:c1")
    assert err.value.field == "amount"
    assert svc.view(store, acc)["amount"] == 20_000  # nothing changed


@pytest.mark.parametrize(
    "body",
    [
        {"enabled": True, "below": 0, "amount": 20_000},
        {"enabled": True, "below": 5_000, "amount": -1},
        {"enabled": "yes", "below": 5_000, "amount": 20_000},
        {"enabled": True, "below": "5000", "amount": 20_000},
        {"enabled": True, "below": 5_000, "amount": 20_000.5},
        {"enabled": True, "below": 5_000},
        {"enabled": True, "below": 5_000, "amount": 20_000, "currency": "EUR"},
    ],
)
def test_the_setting_body_is_strict(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        AutoTopUpUpdate.model_validate(body)


# --------------------------------------------------------------------------- the functions


def _load(path: str, name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def http(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, MemoryStore]]:
    """The auto top-up API function and the accounts function over one fresh in-memory store."""
    from account_credit.platform.http import resolver

    monkeypatch.setenv("STORE", "memory")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    resolver.store.cache_clear()
    memory = resolver.store()
    assert isinstance(memory, MemoryStore)
    yield Api(_load("functions/auto_top_up/api.py", "auto_top_up_api")), memory
    resolver.store.cache_clear()


def test_the_owner_its_partner_and_operators_set_it_and_nobody_else_sees_it(
    http: tuple[Api, MemoryStore],
) -> None:
    api, memory = http
    acc = str(accounts.open_account(memory, account_request("EUR", partner_id="partner-a")).account_id)
    path = f"/accounts/{acc}/auto-top-up"
    body = {"enabled": True, "below": 5_000, "amount": 20_000}

    r = api.request("PUT", path, body=body, claims=customer_claims(acc))
    assert r.status == 200, r.raw_body
    assert (r.json["enabled"], r.json["below"], r.json["amount"], r.json["card"]) == (True, 5_000, 20_000, None)
    assert api.request("GET", path, claims=partner_claims("partner-a")).json["amount"] == 20_000
    r = api.request("PUT", path, body={**body, "enabled": False}, claims=operator_claims())
    assert r.status == 200 and r.json["enabled"] is False

    for stranger in (customer_claims("acc_other"), partner_claims("partner-b")):
        assert api.request("GET", path, claims=stranger).status == 404
        assert api.request("PUT", path, body={"amount": "x"}, claims=stranger).status == 404  # 404 before 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"enabled": True, "below": 5_000, "amount": 500}, "amount"),  # under the smallest top-up
        ({"enabled": True, "below": 0, "amount": 20_000}, "below"),
        ({"enabled": 1, "below": 5_000, "amount": 20_000}, "enabled"),
    ],
)
def test_a_bad_setting_is_a_problem_naming_its_field(http: tuple[Api, MemoryStore], body: Any, field: str) -> None:
    api, memory = http
    acc = str(accounts.open_account(memory, account_request("EUR")).account_id)
    r = api.request("PUT", f"/accounts/{acc}/auto-top-up", body=body, claims=customer_claims(acc))
    assert r.status == 422 and r.content_type.startswith("application/problem+json")
    assert r.json["field"] == field


def test_the_routes_are_in_the_api_document() -> None:
    from account_credit.openapi import document

    paths = document()["paths"]["/accounts/{account_id}/auto-top-up"]
    assert set(paths) == {"get", "put"}
    assert {"200", "401", "404", "422"} <= set(paths["put"]["responses"])


def test_the_stream_function_reports_only_the_record_it_could_not_process(
    store: MemoryStore, acc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = _load("functions/auto_top_up/app.py", "auto_top_up_stream")
    monkeypatch.setattr(stream, "store", lambda: store)
    good = debit(store, acc, 6_000, "d1")
    broken = copy.deepcopy(good)
    broken["dynamodb"]["SequenceNumber"] = "broken"
    del broken["dynamodb"]["NewImage"]["currency"]  # an account item the service cannot read
    out = stream.lambda_handler({"Records": [good, broken]}, LambdaContext())
    assert out == {"batchItemFailures": [{"itemIdentifier": "broken"}]}
    assert balance(store, acc) == 24_000  # the sandbox provider approved the card
