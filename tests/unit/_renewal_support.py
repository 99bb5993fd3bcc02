"""Helpers of the renewal tests: a subscription item as the subscriptions capability writes it (docs/SUBSCRIPTIONS.md),
written straight to the store, and the renewal orders and events of an account."""

from __future__ import annotations

from datetime import date
from typing import Any

from account_credit.kernel.proration import add_months
from account_credit.platform.store import Record, keys
from account_credit.platform.store.memory import MemoryStore


def subscription(
    store: MemoryStore,
    account_id: str,
    sid: str,
    *,
    start: date,
    term: int = 1,
    months: int = 12,
    items: tuple[tuple[str, int], ...] = (("ssl-ov-1y", 1),),
    auto_renew: bool = True,
    state: str = "active",
    payment_method_id: str | None = None,
    currency: str = "USD",
) -> dict[str, Any]:
    """An active subscription in ``term`` (its item, renewal index keys included while it renews)."""
    term_start, term_end = add_months(start, (term - 1) * months), add_months(start, term * months)
    lines = [{"product_code": code, "quantity": qty} for code, qty in items]
    attrs: dict[str, Any] = {
        "kind": "subscription",
        "subscription_id": sid,
        "account_id": account_id,
        "currency": currency,
        "state": state,
        "term_months": months,
        "start_date": start.isoformat(),
        "term": term,
        "term_start": term_start.isoformat(),
        "term_end": term_end.isoformat(),
        "auto_renew": auto_renew,
        "payment_method_id": payment_method_id,
        "items": lines,
        "renewal_items": lines,
        "orders": [],
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "version": 1,
    }
    if state == "active" and auto_renew:
        attrs["gsi1pk"] = keys.RENEWAL_INDEX_PK
        attrs["gsi1sk"] = keys.renewal_index_sk(term_end.isoformat(), account_id, sid)
    store.put_record(Record(*keys.subscription(account_id, sid), attrs=attrs))
    return attrs


def read(store: MemoryStore, account_id: str, sid: str) -> dict[str, Any]:
    item = store.get_item(*keys.subscription(account_id, sid))
    assert item is not None
    return item


def renewal_orders(store: MemoryStore, account_id: str) -> list[dict[str, Any]]:
    return list(store.query_prefix(*keys.order(account_id, "renewal-"), limit=10_000))


def set_subscription(store: MemoryStore, account_id: str, sid: str, **changes: Any) -> None:
    """A customer's change (auto-renew, state), as the subscriptions capability writes it: version + 1."""
    with store.lock:
        item = store.items[keys.subscription(account_id, sid)]
        item.update(changes)
        item["version"] = int(item["version"]) + 1
        if item["state"] == "active" and item["auto_renew"]:
            item["gsi1pk"] = keys.RENEWAL_INDEX_PK
            item["gsi1sk"] = keys.renewal_index_sk(str(item["term_end"]), account_id, sid)
        else:
            item.pop("gsi1pk", None)
            item.pop("gsi1sk", None)
