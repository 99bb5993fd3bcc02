"""Saving cards on DynamoDB Local, as concurrent containers do: of several first cards registered at once exactly
one becomes the default, and one card registered twice at once is one payment method."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from account_credit.accounts import service as accounts
from account_credit.accounts.schemas import AccountCreate
from account_credit.payment_methods import service as methods
from account_credit.platform.payments.port import SavedCard
from tests.integration.helpers import containers


def _account(store: Any) -> str:
    req = AccountCreate.model_validate({"currency": "EUR", "company": {"name": "Acme"}, "billing_emails": ["a@b.test"]})
    return accounts.open_account(store, req).account_id


def _card(token: str) -> SavedCard:
    return SavedCard(provider="sandbox", token=token, brand="visa", last4="4242", exp_month=12, exp_year=2099)


def _at_once(stores: list[Any], jobs: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))

    def run(i: int) -> Any:
        barrier.wait()
        return jobs[i](stores[i % len(stores)])

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, range(len(jobs))))


def test_of_eight_first_cards_registered_at_once_exactly_one_is_the_default(
    table_name: str, dynamo_client: Any
) -> None:
    stores = containers(table_name, dynamo_client, 8)
    acc = _account(stores[0])
    tokens = [f"pm_{uuid.uuid4().hex[:10]}" for _ in range(8)]
    _at_once(stores, [lambda s, t=t: methods.save_card(s, acc, _card(t)) for t in tokens])
    saved = methods.list_methods(stores[0], acc)
    assert sorted(m.card.token for m in saved) == sorted(tokens)
    assert sum(m.is_default for m in saved) == 1
    assert methods.default_card(stores[0], acc) == next(m for m in saved if m.is_default)


def test_one_card_registered_eight_times_at_once_is_one_method(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 8)
    acc = _account(stores[0])
    got = _at_once(stores, [lambda s: methods.save_card(s, acc, _card("pm_same")) for _ in range(8)])
    saved = methods.list_methods(stores[0], acc)
    assert len(saved) == 1 and saved[0].is_default
    assert {m.payment_method_id for m in got} == {saved[0].payment_method_id}
