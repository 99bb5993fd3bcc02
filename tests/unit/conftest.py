"""Fixtures of the unit tier: fresh settings, the in-memory store, a clock, the accounts handler.

Everything is in-process and fast: no DynamoDB, no network. Plain helpers are in _support.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
from _support import Api, Clock, account_request, load_accounts_app, load_function
from hypothesis import HealthCheck
from hypothesis import settings as hyp_settings

from account_credit.accounts import service as svc
from account_credit.kernel.domain import Account
from account_credit.orders.config import order_settings
from account_credit.platform import config
from account_credit.platform.store.memory import MemoryStore

# Deadlines make property tests flaky on a busy machine; the example counts keep them fast.
hyp_settings.register_profile("unit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hyp_settings.load_profile("unit")

_POWERTOOLS_ENV = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "AccountCreditUnitTests",
    "POWERTOOLS_SERVICE_NAME": "accounts",
}


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``config.settings()`` is lru_cached: every test starts and ends with the documented default."""
    monkeypatch.delenv("DEFAULT_CREDIT_LIMIT", raising=False)
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def open_account(store: MemoryStore) -> Callable[..., Account]:
    def _open(currency: str = "USD", partner_id: str | None = None, **company: Any) -> Account:
        return svc.open_account(store, account_request(currency, partner_id, **company))

    return _open


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Controls ``created_at`` of ledger entries (the unit of work reads the time from store.base)."""
    import account_credit.platform.store.base as base

    c = Clock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    monkeypatch.setattr(base, "utc_now", c)
    return c


@pytest.fixture(scope="session")
def accounts_app() -> ModuleType:
    with pytest.MonkeyPatch.context() as mp:
        # The store is chosen from the environment: the in-memory fake, set before the app is imported.
        mp.setenv("STORE", "memory")
        for k, v in _POWERTOOLS_ENV.items():
            mp.setenv(k, v)
        return load_accounts_app()


@pytest.fixture
def api(accounts_app: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The real handler over a fresh in-memory store (``resolver.store()`` is lru_cached)."""
    from account_credit.platform.http import resolver

    monkeypatch.setenv("STORE", "memory")
    for k, v in _POWERTOOLS_ENV.items():
        monkeypatch.setenv(k, v)
    resolver.store.cache_clear()
    assert isinstance(resolver.store(), MemoryStore)
    yield Api(accounts_app)
    resolver.store.cache_clear()


@pytest.fixture
def apis(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Api]]:
    """The order, catalog and accounts handlers sharing one fresh in-memory store (STORE=memory)."""
    from account_credit.platform.http import resolver

    for k, v in {**_POWERTOOLS_ENV, "STORE": "memory", "POWERTOOLS_SERVICE_NAME": "orders"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.delenv("PAYMENT_PROVIDER", raising=False)
    resolver.store.cache_clear()
    order_settings.cache_clear()
    assert isinstance(resolver.store(), MemoryStore)
    yield {name: Api(load_function(name)) for name in ("order", "catalog", "accounts")}
    resolver.store.cache_clear()
    order_settings.cache_clear()
