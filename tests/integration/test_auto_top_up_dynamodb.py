"""Auto top-up and the card-expiry scan on DynamoDB Local, as concurrent containers meet: one stream record
processed by several containers at once is one charge and one deposit; the expiry scan queries the real index."""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest

from account_credit.accounts import service as accounts
from account_credit.accounts.schemas import AccountCreate
from account_credit.auto_top_up import service as auto_top_up
from account_credit.auto_top_up.schemas import AutoTopUpUpdate
from account_credit.deposits import config as deposit_config
from account_credit.kernel.money import Money
from account_credit.payment_methods import expiry
from account_credit.platform.payments.port import Charge
from account_credit.platform.store import keys
from tests.integration.helpers import containers
from tests.unit._auto_top_up_support import account_item, account_record, events_of, prefer, save_card, subscribe


class CountingProvider:
    """A provider that approves every card and counts its calls (one charge per idempotency key)."""

    name = "sandbox"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.charge_calls: list[str] = []

    def charge_saved_card(
        self, *, amount: Money, card: Any, account_id: str, reference: str, idempotency_key: str
    ) -> Charge:
        with self.lock:
            self.charge_calls.append(idempotency_key)
        if "decline" in card.token.lower():
            return Charge(status="declined", payment_id=f"pi_count_{idempotency_key}", decline_code="card_declined")
        return Charge(status="succeeded", payment_id=f"pi_count_{idempotency_key}")


@pytest.fixture(autouse=True)
def _deposit_bounds(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DEPOSIT_MIN_AMOUNT", "10")
    monkeypatch.setenv("DEPOSIT_MAX_AMOUNT", "50000")
    deposit_config.deposit_settings.cache_clear()
    yield
    deposit_config.deposit_settings.cache_clear()


def via(provider: Any) -> Any:
    return lambda _name: provider


def _account(store: Any) -> str:
    req = AccountCreate.model_validate({"currency": "EUR", "company": {"name": "Acme"}, "billing_emails": ["a@b.test"]})
    return str(accounts.open_account(store, req).account_id)


def _at_once(stores: list[Any], job: Any) -> list[Any]:
    barrier = threading.Barrier(len(stores))

    def run(store: Any) -> Any:
        barrier.wait()
        try:
            return job(store)
        except auto_top_up.CrossingInFlight:
            return "in_flight"  # the stream retries this record later

    with ThreadPoolExecutor(len(stores)) as pool:
        return list(pool.map(run, stores))


def _fall_below(store: Any, token: str) -> tuple[str, dict[str, Any]]:
    """An account with auto top-up (below 50.00, 200.00) and one debit that falls through the level."""
    acc = _account(store)
    save_card(store, acc, "pm_main", token=token)
    prefer(store, acc, "pm_main")
    auto_top_up.configure(store, acc, AutoTopUpUpdate(enabled=True, below=5_000, amount=20_000), "customer:c")
    accounts.credit(store, acc, 10_000, reason="bank", idempotency_key="k0", actor="operator:op")
    before = copy.deepcopy(account_item(store, acc))
    accounts.debit(store, acc, 6_000, reason="order", idempotency_key="d1", actor="operator:op")
    return acc, account_record(before, account_item(store, acc))


def test_one_crossing_processed_by_eight_containers_at_once_is_one_charge_and_one_deposit(
    table_name: str, dynamo_client: Any
) -> None:
    stores = containers(table_name, dynamo_client, 8)
    store = stores[0]
    acc, record = _fall_below(store, "pm_card_visa")
    fake = CountingProvider()

    outcomes = _at_once(stores, lambda s: auto_top_up.on_stream_record(s, copy.deepcopy(record), via(fake)))
    assert outcomes.count("succeeded") == 1, outcomes
    assert set(outcomes) <= {"succeeded", "duplicate", "in_flight"}
    # The stream delivers the failed ones again: nothing more happens.
    assert auto_top_up.on_stream_record(store, copy.deepcopy(record), via(fake)) == "duplicate"

    assert len(fake.charge_calls) == 1
    account = store.get_account(acc)
    assert account is not None and account.balance == 24_000
    assert len(store.query_prefix(*keys.deposits_prefix(acc))) == 1
    assert len(events_of(store, acc, "auto_top_up.succeeded")) == 1


def test_a_declined_crossing_processed_by_eight_containers_at_once_is_told_once(
    table_name: str, dynamo_client: Any
) -> None:
    stores = containers(table_name, dynamo_client, 8)
    store = stores[0]
    acc, record = _fall_below(store, "pm_card_chargeDeclined")
    fake = CountingProvider()
    outcomes = _at_once(stores, lambda s: auto_top_up.on_stream_record(s, copy.deepcopy(record), via(fake)))
    assert outcomes.count("declined") == 1, outcomes
    assert auto_top_up.on_stream_record(store, copy.deepcopy(record), via(fake)) == "duplicate"
    assert len(fake.charge_calls) == 1
    (event,) = events_of(store, acc, "auto_top_up.declined")
    assert event["payload"]["decline_code"] == "card_declined"
    account = store.get_account(acc)
    assert account is not None and account.balance == 4_000


def test_the_expiry_scan_reads_the_index_and_announces_each_relied_on_card_once(
    table_name: str, dynamo_client: Any
) -> None:
    stores = containers(table_name, dynamo_client, 4)
    store = stores[0]
    acc = _account(store)
    month = (2031, 7)  # far from the other tests' cards
    save_card(store, acc, "pm_exp", exp=(month[1], month[0]))
    save_card(store, acc, "pm_spare", exp=(month[1], month[0]))
    subscribe(store, acc, "sub_1", payment_method_id="pm_exp")
    results = _at_once(stores, lambda s: expiry.scan(s, date(2031, 7, 20), 30))
    assert sum(r.announced for r in results) == 1
    (event,) = events_of(store, acc, "card.expiring")
    assert event["payload"]["relied_on_by"] == ["subscription:sub_1"]
