"""Catalog service: operator writes, optimistic versions, and the per-function cache with its TTL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from _order_support import PRODUCT, add_product, order, set_up
from _support import OPERATOR, account_request, customer_of

from account_credit.accounts import service as accounts_svc
from account_credit.catalog import service as catalog
from account_credit.kernel.errors import ConcurrentUpdate, Conflict, Forbidden, InvalidInput
from account_credit.orders import service as orders
from account_credit.orders.config import order_settings
from account_credit.orders.schemas import OrderCreate, ProductPut
from account_credit.platform.store import keys
from account_credit.platform.store.memory import MemoryStore

CATALOG_PK, _ = keys.products_prefix()


class CountingStore(MemoryStore):
    """Counts catalog reads, and can write an item 'from another container' (no cache invalidation here)."""

    def __init__(self) -> None:
        super().__init__()
        self.catalog_reads = 0

    def query_prefix(self, pk: str, sk_prefix: str, **kw: Any) -> list[dict[str, Any]]:
        if pk == CATALOG_PK:
            self.catalog_reads += 1
        return super().query_prefix(pk, sk_prefix, **kw)

    def write_elsewhere(self, code: str, usd: int) -> None:
        with self.lock:
            item = self.items.get(keys.product(code))
            if item is None:
                pk, sk = keys.product(code)
                item = {"pk": pk, "sk": sk, "kind": "product", "code": code}
                item.update(name=code.upper(), term_months=12, active=True, version=0, updated_at="")
                self.items[(item["pk"], item["sk"])] = item
            item.update(prices={"USD": usd}, version=item["version"] + 1)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.delenv("CATALOG_CACHE_SECONDS", raising=False)
    order_settings.cache_clear()
    yield
    order_settings.cache_clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(catalog.time, "monotonic", c)
    return c


@pytest.fixture
def counting() -> CountingStore:
    return CountingStore()


def funded(store: MemoryStore) -> str:
    account = accounts_svc.open_account(store, account_request())
    return set_up(store, account, balance=1_000_000)


def price_of(store: MemoryStore, acc: str, order_id: str) -> int:
    return int(orders.pay_order(store, order(order_id).command(acc, customer_of(acc).actor)).body["total"])


def test_the_catalog_is_read_once_per_cache_period(counting: CountingStore, clock: Clock) -> None:
    add_product(counting)
    acc = funded(counting)
    counting.catalog_reads = 0
    for i in range(5):
        price_of(counting, acc, f"o-{i}")
    catalog.list_products(counting, OPERATOR)
    assert counting.catalog_reads == 1
    clock.now += 61
    price_of(counting, acc, "o-later")
    assert counting.catalog_reads == 2


def test_a_price_changed_elsewhere_applies_after_the_cache_time(counting: CountingStore, clock: Clock) -> None:
    add_product(counting)
    acc = funded(counting)
    assert price_of(counting, acc, "o-1") == 10_000
    counting.write_elsewhere(PRODUCT, 12_345)  # another function's write: our cache is not told
    clock.now += 59
    assert price_of(counting, acc, "o-2") == 10_000
    clock.now += 2
    assert price_of(counting, acc, "o-3") == 12_345


def test_a_product_added_elsewhere_is_orderable_at_once(counting: CountingStore, clock: Clock) -> None:
    add_product(counting)
    acc = funded(counting)
    price_of(counting, acc, "warm-up")
    counting.write_elsewhere("brand-new", 777)
    body = orders.pay_order(
        counting,
        OrderCreate(order_id="n-1", channel="api", lines=[{"product_code": "brand-new", "quantity": 1}]).command(
            acc, customer_of(acc).actor
        ),
    ).body
    assert body["total"] == 777


def test_the_cache_time_is_configurable(counting: CountingStore, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_CACHE_SECONDS", "5")
    order_settings.cache_clear()
    add_product(counting)
    acc = funded(counting)
    price_of(counting, acc, "o-1")
    counting.write_elsewhere(PRODUCT, 5)
    clock.now += 6
    assert price_of(counting, acc, "o-2") == 5


def test_a_write_here_refreshes_this_functions_cache(counting: CountingStore, clock: Clock) -> None:
    add_product(counting)
    acc = funded(counting)
    price_of(counting, acc, "o-1")
    add_product(counting, prices={"USD": 20_000})
    assert price_of(counting, acc, "o-2") == 20_000


class SlowCatalogStore(CountingStore):
    """A catalog Query that takes a while, or waits for ``release`` after reading: a read in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.delay = 0.0
        self.reading = threading.Event()
        self.release: threading.Event | None = None

    def query_prefix(self, pk: str, sk_prefix: str, **kw: Any) -> list[dict[str, Any]]:
        got = super().query_prefix(pk, sk_prefix, **kw)
        if pk == CATALOG_PK:
            self.reading.set()
            time.sleep(self.delay)
            if self.release is not None:
                assert self.release.wait(5)
        return got


def test_threads_whose_cache_expired_together_share_one_read() -> None:
    """32 concurrent orders on a cold or expired cache: one catalog Query, not one per thread."""
    store = SlowCatalogStore()
    add_product(store)
    store.catalog_reads = 0
    store.delay = 0.05
    start = threading.Barrier(32)

    def look(_: int) -> int:
        start.wait()
        return catalog.lookup(store, [PRODUCT])[PRODUCT].prices["USD"]

    with ThreadPoolExecutor(32) as pool:
        assert set(pool.map(look, range(32))) == {10_000}
    assert store.catalog_reads == 1


def test_a_product_missing_from_the_cache_waits_for_a_read_that_started_after_it() -> None:
    store = SlowCatalogStore()
    add_product(store)
    catalog.products(store)  # cached, without "brand-new"
    store.release = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(catalog.products, store, fresh=True)  # a refresh already reading
        assert store.reading.wait(5)
        store.write_elsewhere("brand-new", 777)  # lands after that read
        with ThreadPoolExecutor(1) as other:
            found = other.submit(catalog.lookup, store, ["brand-new"])  # waits for the read in flight, then reads
            time.sleep(0.05)
            store.release.set()
            assert "brand-new" not in in_flight.result(5)
            assert found.result(5)["brand-new"].prices == {"USD": 777}


def test_a_read_in_flight_during_a_write_here_does_not_put_the_old_price_back() -> None:
    store = SlowCatalogStore()
    add_product(store)
    store.release = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(catalog.products, store)  # reads the old price, then stalls
        assert store.reading.wait(5)
        add_product(store, prices={"USD": 20_000})  # this function's write drops its cache ...
        store.release.set()  # ... and only then does the old read come back
        assert in_flight.result(5)[PRODUCT].prices == {"USD": 10_000}
    assert catalog.products(store)[PRODUCT].prices == {"USD": 20_000}


def test_only_operators_change_the_catalog(store: MemoryStore) -> None:
    with pytest.raises(Forbidden):
        catalog.put_product(store, customer_of("acc_x"), "p", ProductPut(name="P", term_months=1, prices={"USD": 1}))
    with pytest.raises(InvalidInput) as info:
        catalog.put_product(store, OPERATOR, "p\n", ProductPut(name="P", term_months=1, prices={"USD": 1}))
    assert info.value.field == "code"
    assert catalog.list_products(store, OPERATOR) == []


def test_versions_protect_concurrent_product_edits(monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit based on a stale read is retried from a fresh read, never applied blindly."""
    store = MemoryStore()
    add_product(store)
    real_get = store.get_item
    stale = [real_get(*keys.product(PRODUCT))]
    add_product(store, prices={"USD": 1})  # version 2 now

    def get_item(pk: str, sk: str) -> Any:
        return stale.pop() if stale else real_get(pk, sk)

    monkeypatch.setattr(store, "get_item", get_item)
    product, created = catalog.put_product(
        store, OPERATOR, PRODUCT, ProductPut(name="OV", term_months=12, prices={"USD": 2})
    )
    assert (product.version, created) == (3, False)
    assert real_get(*keys.product(PRODUCT))["prices"] == {"USD": 2}


def test_an_edit_that_keeps_losing_answers_409_after_five_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write meets a newer version: read again up to EDIT_ATTEMPTS times, then 409 concurrent-update."""
    store = MemoryStore()
    add_product(store)
    reads = 0
    real_get = store.get_item

    def get_item(pk: str, sk: str) -> Any:
        nonlocal reads
        reads += 1
        return real_get(pk, sk)

    def update_record(update: Any) -> None:
        raise Conflict("product changed concurrently")

    monkeypatch.setattr(store, "get_item", get_item)
    monkeypatch.setattr(store, "update_record", update_record)
    with pytest.raises(ConcurrentUpdate, match="keeps changing") as info:
        catalog.put_product(store, OPERATOR, PRODUCT, ProductPut(name="OV", term_months=12, prices={"USD": 2}))
    assert info.value.status == 409
    assert reads == catalog.EDIT_ATTEMPTS == 5


def test_products_list_is_sorted_and_complete(store: MemoryStore) -> None:
    for code in ("zz-last", "aa-first", "mm-mid"):
        add_product(store, code)
    assert [p.code for p in catalog.list_products(store, customer_of("acc_any"))] == ["aa-first", "mm-mid", "zz-last"]
