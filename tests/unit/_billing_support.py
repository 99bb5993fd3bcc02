"""A VAT-registered Slovak seller (23 %) for the billing tests of every tier."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from account_credit.platform import config

SELLER_ENV = {
    "SELLER_NAME": "Predajca s.r.o.",
    "SELLER_STREET": "Hlavná 1",
    "SELLER_CITY": "Bratislava",
    "SELLER_POSTAL_CODE": "81101",
    "SELLER_COUNTRY": "SK",
    "SELLER_VAT_ID": "SK2020273893",
    "SELLER_COMPANY_ID": "35763469",
    "SELLER_IBAN": "SK3112000000198742637541",
    "SELLER_BIC": "TATRSKBX",
    "VAT_REGISTERED": "true",
    "VAT_RATE": "23",
}


def vat_seller(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Body of an autouse fixture: the seller above for one test, the cached settings rebuilt around it."""
    for k, v in SELLER_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    config.seller.cache_clear()
    yield
    config.seller.cache_clear()
