"""Billing documents on DynamoDB Local: gapless numbers under concurrent issuing, once per purpose, and the whole
flow (transfers, orders, the sequencer, the documents function's work, the monthly run) on the real store."""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import pytest

from account_credit.accounts import service as accounts
from account_credit.accounts.schemas import AccountCreate
from account_credit.bank import service as bank
from account_credit.billing import issuing
from account_credit.billing import service as billing
from account_credit.billing.document import Document, Kind, Line, Party
from account_credit.billing.tax import Category, Treatment
from account_credit.deposits.schemas import IncomingTransfer
from account_credit.platform.store import keys
from account_credit.platform.store.dynamo import DynamoStore
from tests.integration.helpers import containers, sequence
from tests.unit._billing_support import vat_seller
from tests.unit._support import customer_of


@pytest.fixture(autouse=True)
def _seller(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from vat_seller(monkeypatch)


def open_account(store: DynamoStore) -> str:
    req = AccountCreate.model_validate(
        {"currency": "EUR", "company": {"name": "Žltá ťava s.r.o.", "country": "SK"}, "billing_emails": ["a@b.sk"]}
    )
    return accounts.open_account(store, req).account_id


def draft(account_id: str, i: int) -> Document:
    party = Party(name="Predajca s.r.o.", country="SK", vat_id="SK2020273893")
    return Document(
        number="",
        kind=Kind.TAX_DOCUMENT,
        account_id=account_id,
        currency="EUR",
        language="sk",
        issue_date=date.today().isoformat(),
        seller=party,
        buyer=Party(name="Buyer", country="SK"),
        treatment=Treatment(Category.STANDARD, 2300),
        lines=(Line(description=f"Prepayment {i}", quantity=1, net=1_000 + i, vat=230),),
        prepaid=1_230 + i,
    )


def test_concurrent_issuing_numbers_without_gaps_and_once_per_purpose(table_name: str, dynamo_client: Any) -> None:
    stores = containers(table_name, dynamo_client, 12)
    account_ids = [open_account(stores[0]) for _ in range(3)]
    jobs: list[tuple[str, int, str]] = [(account_ids[i % 3], i, f"test#{uuid.uuid4().hex}") for i in range(12)]
    same = f"test#same-{uuid.uuid4().hex}"
    jobs += [(account_ids[0], 100 + i, same) for i in range(4)]  # four issuers of one purpose at once
    barrier = threading.Barrier(len(jobs))

    def run(i: int) -> tuple[str, bool]:
        account_id, n, purpose = jobs[i]
        barrier.wait()
        doc, fresh = issuing.issue(stores[i % len(stores)], draft(account_id, n), purpose)
        return doc.number, fresh

    with ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(run, range(len(jobs))))
    distinct = results[:12]
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n, _ in distinct)
    same_numbers = {n for n, _ in results[12:]}
    assert all(fresh for _, fresh in distinct)
    assert len(same_numbers) == 1 and sum(fresh for _, fresh in results[12:]) == 1, "one purpose, one document"
    every = sorted([*numbers, int(next(iter(same_numbers)).rsplit("-", 1)[1])])
    assert every == list(range(every[0], every[0] + 13)), "no number skipped or used twice"


def test_the_whole_month_on_dynamodb_local(
    table_name: str, dynamo_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from account_credit.catalog import service as catalog
    from account_credit.orders import service as orders
    from account_credit.orders.schemas import OrderCreate, ProductPut
    from tests.unit._support import OPERATOR

    store = containers(table_name, dynamo_client, 1)[0]
    code = f"ov-{uuid.uuid4().hex[:6]}"
    catalog.put_product(store, OPERATOR, code, ProductPut(name="OV SSL", term_months=12, prices={"EUR": 10_000}))
    acc = open_account(store)
    store.update_account(acc, {"credit_limit": 100_000})
    reference = store.get_account(acc).payment_reference  # type: ignore[union-attr]

    def placed() -> None:
        sequence(store)
        for e in billing.ledger(store, acc):
            billing.on_entry_placed(store, acc, e.entry_id)

    transfer = {"transfer_id": f"tr-{uuid.uuid4().hex}", "amount": 20_000, "currency": "EUR"}
    bank.record_transfer(
        store,
        IncomingTransfer.model_validate({**transfer, "reference": reference, "booked_date": "2026-11-02"}),
        actor="bank",
    )
    for i, credit in enumerate([False, True]):
        req = OrderCreate(
            order_id=f"o{i}", channel="api", lines=[{"product_code": code, "quantity": 1}], may_use_credit=credit
        )
        orders.pay_order(store, req.command(acc, customer_of(acc).actor))
    placed()
    month = datetime.now(UTC).strftime("%Y-%m")
    next_month = date.fromisoformat(f"{month}-28").replace(day=28)
    result = billing.run_month(
        store, acc, month, date(next_month.year + (next_month.month == 12), next_month.month % 12 + 1, 1)
    )
    again = billing.run_month(
        store, acc, month, date(next_month.year + (next_month.month == 12), next_month.month % 12 + 1, 2)
    )
    docs = [Document.from_dict(i) for i in store.query_prefix(*keys.documents_prefix(acc), limit=100)]
    by_kind: dict[str, list[Document]] = defaultdict(list)
    for d in docs:
        by_kind[str(d.kind)].append(d)
    (tax,) = by_kind["tax_document"]
    (statement,) = by_kind["statement"]
    (invoice,) = by_kind["credit_invoice"]
    assert (tax.totals.net, tax.totals.vat, tax.totals.gross) == (16_260, 3_740, 20_000)
    assert statement.totals.gross == 20_000 and statement.totals.payable == 0
    assert invoice.totals.gross == 2 * 12_300 - 20_000 and invoice.totals.payable == invoice.totals.gross
    assert sorted(result.issued) == sorted([statement.number, invoice.number]) and again.issued == []
    linked = {e.entry_id: e.documents for e in billing.ledger(store, acc)}
    assert all(linked[x] for x in statement.movements)
    assert store.get_item(*keys.open_invoice(acc, invoice.number)) is not None
