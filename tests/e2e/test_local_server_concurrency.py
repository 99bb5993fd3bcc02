"""Real HTTP against the local server under concurrency: every answer belongs to its own request.

Like Lambda, the server gives each in-flight request its own function instance (a worker process), so
requests of different tenants never see each other's identity, body or path, and hundreds of
simultaneous connections are all accepted.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tools import localauth

from .conftest import Api
from .test_accounts_http import open_account

pytestmark = pytest.mark.e2e

PRICE = 5_000
CREDIT = 2_000_000  # room for every order either customer can place here
REQUESTS = 300
CLIENTS = 32


@pytest.fixture(scope="module")
def product(api: Api, operator: str) -> str:
    code = f"conc-{uuid.uuid4().hex[:6]}"
    r = api.call(
        "PUT",
        f"/catalog/products/{code}",
        operator,
        json={"name": "DV SSL", "term_months": 12, "prices": {"EUR": PRICE}},
    )
    assert r.status_code == 201, r.text
    return code


def funded_account(api: Api, operator: str) -> tuple[str, str]:
    acc = open_account(api, operator)["account_id"]
    r = api.call(
        "POST",
        f"/accounts/{acc}/adjustments",
        operator,
        json={"type": "credit", "amount": CREDIT, "reason": "concurrency test"},
        headers={"Idempotency-Key": f"fund-{acc}"},
    )
    assert r.status_code == 201, r.text
    return acc, localauth.mint("customer", account_id=acc)


def all_entries(api: Api, token: str, acc: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        r = api.call("GET", f"/accounts/{acc}/transactions", token, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        entries += page["items"]
        if not page.get("next_cursor"):
            return entries
        params = {"limit": 100, "cursor": page["next_cursor"]}


def test_concurrent_requests_of_two_tenants_never_mix(api: Api, operator: str, product: str) -> None:
    m_acc, m_token = funded_account(api, operator)
    o_acc, o_token = funded_account(api, operator)
    run = uuid.uuid4().hex[:6]

    # (kind, method, path, token, body): a mix of writes and reads of both tenants, and a stranger.
    plan: list[tuple[str, str, str, str, dict[str, Any] | None]] = []
    for i in range(REQUESTS):
        kind = ("m_order", "o_order", "o_on_m", "m_missing", "o_get", "o_missing_on_o")[i % 6]
        oid = f"{kind}-{run}-{i}"
        line = {"order_id": oid, "channel": "portal", "lines": [{"product_code": product, "quantity": 1}]}
        if kind == "m_order":
            plan.append((kind, "POST", f"/accounts/{m_acc}/orders", m_token, line))
        elif kind == "o_order":
            plan.append((kind, "POST", f"/accounts/{o_acc}/orders", o_token, line))
        elif kind == "o_on_m":  # O's customer orders on M's account: never allowed
            plan.append((kind, "POST", f"/accounts/{m_acc}/orders", o_token, line))
        elif kind == "m_missing":  # a problem answer whose instance must be this very path
            plan.append((kind, "GET", f"/accounts/{m_acc}/orders/{oid}", m_token, None))
        elif kind == "o_get":
            plan.append((kind, "GET", f"/accounts/{o_acc}", o_token, None))
        else:
            plan.append((kind, "GET", f"/accounts/{o_acc}/orders/{oid}", o_token, None))
    random.Random(7).shuffle(plan)

    local = threading.local()

    def send(item: tuple[str, str, str, str, dict[str, Any] | None]) -> tuple[str, str, dict[str, Any] | None, Any]:
        kind, method, path, token, body = item
        if not hasattr(local, "http"):
            local.http = requests.Session()
        try:
            r = local.http.request(
                method, api.base + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
        except requests.RequestException as exc:
            return kind, path, body, exc
        return kind, path, body, r

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(send, plan))
    took = time.monotonic() - started

    errors = [f"{k} {p}: {r!r}" for k, p, _, r in results if not isinstance(r, requests.Response)]
    assert not errors, f"{len(errors)} connection errors: {errors[:5]}"
    statuses = Counter((k, r.status_code) for k, _, _, r in results)
    assert not [s for (_, s) in statuses if s >= 500], statuses

    paid: dict[str, set[str]] = {m_acc: set(), o_acc: set()}
    for kind, path, body, r in results:
        data = r.json()
        if kind in {"m_order", "o_order"}:
            acc = m_acc if kind == "m_order" else o_acc
            assert body is not None
            if r.status_code == 201:
                assert (data["order_id"], data["account_id"]) == (body["order_id"], acc), (path, data)
                paid[acc].add(body["order_id"])
            else:  # contention on one account may answer 409: a problem about this request
                assert r.status_code == 409, (path, r.status_code, data)
                assert data["instance"] == path, (path, data)
        elif kind == "o_on_m":
            assert r.status_code == 404, (path, r.status_code, data)
            assert data["instance"] == path, (path, data)
        elif kind in {"m_missing", "o_missing_on_o"}:
            assert r.status_code == 404, (path, r.status_code, data)
            assert data["instance"] == path and data["type"] == "/problems/not-found", (path, data)
        else:
            assert r.status_code == 200 and data["account_id"] == o_acc, (path, data)
    assert paid[m_acc] and paid[o_acc], statuses

    for acc, token in ((m_acc, m_token), (o_acc, o_token)):
        r = api.call("GET", f"/accounts/{acc}", token)
        assert r.json()["balance"] == CREDIT - PRICE * len(paid[acc]), (acc, r.json(), len(paid[acc]))
        entries = all_entries(api, token, acc)
        assert {e["account_id"] for e in entries} == {acc}
        orders = [e for e in entries if e["type"].startswith("order_")]
        assert sorted(e["reference"].get("order_id", "") for e in orders) == sorted(paid[acc]), acc
        others = [e for e in entries if not e["type"].startswith("order_")]
        assert [e["amount"] for e in others] == [CREDIT], others  # the funding credit, nothing else
    print(
        f"\n{REQUESTS} requests from {CLIENTS} clients in {took:.1f} s; "
        f"M paid {len(paid[m_acc])}, O paid {len(paid[o_acc])}; answers {dict(sorted(statuses.items()))}"
    )


def test_a_burst_of_simultaneous_connections_is_accepted(api: Api, operator: str) -> None:
    """300 clients connect at the same instant (a fresh connection each): none is refused or reset."""
    m_acc, m_token = funded_account(api, operator)
    o_acc, o_token = funded_account(api, operator)
    barrier = threading.Barrier(REQUESTS, timeout=60)
    results: list[Any] = [None] * REQUESTS

    def one(i: int) -> None:
        acc, token = (m_acc, m_token) if i % 2 else (o_acc, o_token)
        try:
            barrier.wait()
            r = requests.get(f"{api.base}/accounts/{acc}", headers={"Authorization": f"Bearer {token}"}, timeout=90)
            results[i] = (acc, r.status_code, r.json().get("account_id"))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(REQUESTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    took = time.monotonic() - started
    failed = [r for r in results if not isinstance(r, tuple)]
    assert not failed, f"{len(failed)} of {REQUESTS} failed, e.g. {failed[:3]}"
    assert all(status == 200 and got == acc for acc, status, got in results), Counter(r[1] for r in results)
    print(f"\n{REQUESTS} simultaneous connections answered in {took:.1f} s")
