"""Catalog: certificate products and their prices, and the in-memory catalog cache of a function.

Item: ``keys.product(code)`` (pk=CATALOG, sk=PRODUCT#<code>), kind=product: name, term_months, prices
({currency: minor units}), active, version, updated_at, updated_by. The whole catalog is
one Query (a partition of small items; up to ``MAX_PRODUCTS``).

Orders are priced from the catalog at order time and the prices are frozen on the order.
Every function keeps the catalog in memory for ``CATALOG_CACHE_SECONDS`` (default 60), so
a warm order reads nothing but pays with one write. A product missing from the cached
copy is looked up once more before the order is refused (so a new product is orderable
at once); a changed price reaches other warm containers within the cache time.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from account_credit.kernel.auth import Principal
from account_credit.kernel.errors import ConcurrentUpdate, Conflict, InvalidInput
from account_credit.kernel.ids import iso, utc_now
from account_credit.orders.config import order_settings
from account_credit.orders.schemas import PRODUCT_CODE_PATTERN, ProductPut
from account_credit.platform.retry import retry
from account_credit.platform.store import Record, RecordUpdate, Store, keys

MAX_PRODUCTS = 1000
# Edits of one product by operators at once: read again and retry this many times, then 409.
EDIT_ATTEMPTS = 5


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    term_months: int
    prices: dict[str, int]
    active: bool
    version: int
    updated_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "term_months": self.term_months,
            "prices": dict(self.prices),
            "active": self.active,
            "version": self.version,
            "updated_at": self.updated_at,
        }


def _from_item(item: dict[str, Any]) -> Product:
    return Product(
        code=item["code"],
        name=item["name"],
        term_months=int(item["term_months"]),
        prices={k: int(v) for k, v in item.get("prices", {}).items()},
        active=bool(item.get("active", True)),
        version=int(item.get("version", 1)),
        updated_at=item.get("updated_at", ""),
    )


# --------------------------------------------------------------------------- the cache


class _Cache:
    """The catalog as last read by this process, per store (a store = a table in one container).

    Reads are numbered in the order they start. Concurrent misses share one read (a herd
    of threads whose cache expired at once costs one Query, not one each), a caller that
    needs data newer than its miss waits for a read that started after it, and a read that
    started before this function's own write was dropped from the cache is not cached.
    """

    def __init__(self) -> None:
        self._data: weakref.WeakKeyDictionary[Store, tuple[float, int, dict[str, Product]]] = (
            weakref.WeakKeyDictionary()
        )
        self._readers: weakref.WeakKeyDictionary[Store, threading.Lock] = weakref.WeakKeyDictionary()
        self._dropped: weakref.WeakKeyDictionary[Store, int] = weakref.WeakKeyDictionary()
        self._started = 0  # reads started so far (any store)
        self._lock = threading.Lock()

    def get(self, store: Store, max_age: float) -> dict[str, Product] | None:
        with self._lock:
            found = self._data.get(store)
        if found is None or time.monotonic() - found[0] > max_age:
            return None
        return found[2]

    def newer_than(self, store: Store, read: int) -> dict[str, Product] | None:
        """The cached catalog if its read started after read number ``read``."""
        with self._lock:
            found = self._data.get(store)
        return found[2] if found is not None and found[1] > read else None

    def started(self) -> int:
        with self._lock:
            return self._started

    def begin(self) -> tuple[float, int]:
        """Number a read that starts now: (when, which)."""
        with self._lock:
            self._started += 1
            return time.monotonic(), self._started

    def reader(self, store: Store) -> threading.Lock:
        """Held while reading the catalog of ``store``: one read at a time per store."""
        with self._lock:
            lock = self._readers.get(store)
            if lock is None:
                lock = self._readers[store] = threading.Lock()
            return lock

    def put(self, store: Store, products: dict[str, Product], at: float, read: int) -> None:
        with self._lock:
            if read > self._dropped.get(store, 0):  # else it may predate a write made here
                self._data[store] = (at, read, products)

    def drop(self, store: Store) -> None:
        with self._lock:
            self._data.pop(store, None)
            self._dropped[store] = self._started


_CACHE = _Cache()


def _read(store: Store) -> dict[str, Product]:
    at, read = _CACHE.begin()
    products = {p.code: p for p in map(_from_item, store.query_prefix(*keys.products_prefix(), limit=MAX_PRODUCTS))}
    _CACHE.put(store, products, at, read)
    return products


def products(store: Store, *, fresh: bool = False) -> dict[str, Product]:
    """The catalog by code, from this function's cache unless older than CATALOG_CACHE_SECONDS.

    ``fresh``: from a read that started after this call (e.g. a product the cache lacks).
    """
    max_age = order_settings().catalog_cache_seconds
    if not fresh:
        cached = _CACHE.get(store, max_age)
        if cached is not None:
            return cached
    asked = _CACHE.started()
    with _CACHE.reader(store):
        # Another thread may have read while this one waited: use its read if it is new enough.
        cached = _CACHE.newer_than(store, asked) if fresh else _CACHE.get(store, max_age)
        if cached is not None:
            return cached
        return _read(store)


def lookup(store: Store, codes: list[str]) -> dict[str, Product]:
    """Products for ``codes``; reads the catalog again once if the cached copy lacks one of them."""
    catalog = products(store)
    if any(c not in catalog for c in codes):
        catalog = products(store, fresh=True)
    return catalog


# --------------------------------------------------------------------------- use cases


def list_products(store: Store, principal: Principal) -> list[Product]:
    """Everyone signed in may read the catalog (``principal`` proves that)."""
    del principal
    return sorted(products(store).values(), key=lambda p: p.code)


def _check_code(code: str) -> None:
    if not re.fullmatch(PRODUCT_CODE_PATTERN.strip("^$"), code):  # fullmatch: no trailing newline slips through
        raise InvalidInput(
            "a product code is 1-64 characters: lower-case letters, digits, '.', '_' or '-'", field="code"
        )


def put_product(store: Store, principal: Principal, code: str, req: ProductPut) -> tuple[Product, bool]:
    """Create or replace a product (operator). Returns the product and whether it was created.

    Optimistic: a new product is a must-not-exist put, a change is conditioned on the
    version that was read, so two operators editing at once never lose an update silently.
    """
    principal.require_operator("change the catalog")
    _check_code(code)
    pk, sk = keys.product(code)

    def attempt() -> tuple[Product, bool]:
        now = iso(utc_now())
        fields = {
            "name": req.name,
            "term_months": req.term_months,
            "prices": dict(req.prices),
            "active": req.active,
            "updated_at": now,
            "updated_by": principal.actor,
        }
        old = store.get_item(pk, sk)
        try:
            if old is None:
                store.put_record(
                    Record(
                        pk=pk,
                        sk=sk,
                        attrs={"kind": "product", "code": code, "version": 1, "created_at": now, **fields},
                        on_exists=lambda _old: Conflict("product was created concurrently"),
                    )
                )
                created, version = True, 1
            else:
                version = int(old.get("version", 1)) + 1
                store.update_record(
                    RecordUpdate(
                        pk=pk,
                        sk=sk,
                        changes={**fields, "version": version},
                        expect={"version": old.get("version", 1)},
                        on_mismatch=lambda _old: Conflict("product changed concurrently"),
                    )
                )
                created = False
        finally:
            _CACHE.drop(store)
        return Product(code, req.name, req.term_months, dict(req.prices), req.active, version, now), created

    # Someone else wrote it between our read and write (Conflict): read again.
    return retry(
        attempt,
        on=(Conflict,),
        attempts=EDIT_ATTEMPTS,
        exhausted=ConcurrentUpdate(f"product {code} keeps changing; retry"),
    )
