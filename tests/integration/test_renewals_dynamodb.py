"""Renewals on DynamoDB Local: the run reads the real sparse index, and overlapping runs in separate containers
renew a subscription once (one order, one debit, one advance, one event)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from account_credit.accounts import service as accounts
from account_credit.accounts.schemas import AccountCreate
from account_credit.catalog import service as catalog
from account_credit.kernel.domain import Movement
from account_credit.kernel.money import Money
from account_credit.orders.schemas import ProductPut
from account_credit.platform.commit import commit
from account_credit.platform.store import Record, keys
from account_credit.renewals import service as renewals
from account_credit.renewals.config import RenewalSettings
from tests.integration.helpers import containers
from tests.unit._support import OPERATOR

CFG = RenewalSettings(hold_days=7, grace_days=7, forecast_days=30)
PRICE = 10_000


def _set_up(store: Any) -> str:
    catalog.put_product(store, OPERATOR, "ren-ov-1y", ProductPut(name="OV SSL", term_months=12, prices={"EUR": PRICE}))
    req = AccountCreate.model_validate({"currency": "EUR", "company": {"name": "Acme"}, "billing_emails": ["a@b.test"]})
    a = accounts.open_account(store, req).account_id
    uow = store.unit_of_work()
    uow.move(Movement(account_id=a, amount=Money(25_000, "EUR"), type="adjustment_credit"))
    commit(uow, None, lambda _p: {})
    lines = [{"product_code": "ren-ov-1y", "quantity": 1}]
    store.put_record(
        Record(
            *keys.subscription(a, "sub_r"),
            attrs={
                "kind": "subscription",
                "subscription_id": "sub_r",
                "account_id": a,
                "currency": "EUR",
                "state": "active",
                "term_months": 12,
                "start_date": "2026-01-10",
                "term": 1,
                "term_start": "2026-01-10",
                "term_end": "2027-01-10",
                "auto_renew": True,
                "payment_method_id": None,
                "items": lines,
                "renewal_items": lines,
                "orders": [],
                "version": 1,
                "gsi1pk": keys.RENEWAL_INDEX_PK,
                "gsi1sk": keys.renewal_index_sk("2027-01-10", a, "sub_r"),
            },
        )
    )
    return a


def test_overlapping_runs_on_dynamodb_renew_once(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 4)
    a = _set_up(stores[0])
    hold = renewals.run_day(stores[0], date(2027, 1, 5), account_id=a, cfg=CFG)
    assert hold.holds_placed == ["renewal-sub_r-2"]
    barrier = threading.Barrier(len(stores))

    def run(store: Any) -> renewals.RunReport:
        barrier.wait()
        return renewals.run_day(store, date(2027, 1, 10), account_id=a, cfg=CFG)

    with ThreadPoolExecutor(len(stores)) as pool:
        reports = list(pool.map(run, stores))
    assert sum(len(r.renewed) for r in reports) == 1
    assert not any(r.errors for r in reports)
    store = stores[0]
    sub = store.get_item(*keys.subscription(a, "sub_r"))
    assert sub is not None and (sub["term"], sub["term_end"], sub["version"]) == (2, "2028-01-10", 2)
    account = store.get_account(a)
    assert account is not None and (account.balance, account.held) == (25_000 - PRICE, 0)
    events = store.query_prefix(keys.account_pk(a), "EVENT#", limit=1000)
    assert [e["type"] for e in events].count("renewal.succeeded") == 1
    assert len(store.query_prefix(*keys.order(a, "renewal-"), limit=100)) == 1
