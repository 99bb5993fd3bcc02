"""The deposit and webhook Lambdas in-process: v2 events in, JSON / problem+json out, and the OpenAPI document."""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import _deposit_support as sup
import pytest
from _support import Api, HttpResult, api_event, customer_claims, load_function, partner_claims

from account_credit import openapi
from account_credit.platform.store.memory import MemoryStore
from tools import template

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

PROBLEM = "application/problem+json"


@dataclass
class Apps:
    accounts: Api
    deposit: Api
    webhooks: Api


@pytest.fixture
def apps(monkeypatch: pytest.MonkeyPatch) -> Iterator[Apps]:
    from account_credit.platform.http import resolver

    sup.configure(monkeypatch)
    monkeypatch.setenv("STORE", "memory")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "AccountCreditUnitTests")
    resolver.store.cache_clear()
    yield Apps(Api(load_function("accounts")), Api(load_function("deposit")), Api(load_function("webhooks")))
    resolver.store.cache_clear()
    sup.reset()


def webhook(api: Api, provider: str, payload: bytes, headers: dict[str, str], *, b64: bool = False) -> HttpResult:
    event = api_event("POST", f"/webhooks/{provider}", claims=None, headers=headers)
    event["pathParameters"] = {"provider": provider}
    if b64:
        event["body"], event["isBase64Encoded"] = base64.b64encode(payload).decode(), True
    else:
        event["body"] = payload.decode()
    return api.invoke(event)


def problem(res: HttpResult, status: int, slug: str) -> dict[str, Any]:
    assert res.status == status, res.raw_body
    assert res.content_type == PROBLEM
    assert res.json["type"] == f"/problems/{slug}" and res.json["status"] == status
    return dict(res.json)


def open_account(apps: Apps, **extra: Any) -> dict[str, Any]:
    res = apps.accounts.request(
        "POST",
        "/accounts",
        body={"currency": "EUR", "company": {"name": "Certs"}, "billing_emails": ["b@c.de"], **extra},
    )
    assert res.status == 201
    return dict(res.json)


def stored() -> dict[Any, Any]:
    """Everything the handlers' in-memory store holds (to prove that a refused request wrote nothing)."""
    from account_credit.platform.http import resolver

    store = resolver.store()
    assert isinstance(store, MemoryStore)
    with store.lock:
        return copy.deepcopy(store.items)


def test_card_top_up_and_signed_webhook_through_the_handlers(apps: Apps) -> None:
    acc = open_account(apps)
    aid = acc["account_id"]
    assert acc["payment_reference"] and len(acc["payment_reference"]) == 10
    cust = customer_claims(aid)
    res = apps.deposit.request(
        "POST",
        f"/accounts/{aid}/deposits",
        body={"method": "card", "amount": 2_500},
        headers={"Idempotency-Key": "d1"},
        claims=cust,
    )
    assert res.status == 201 and res.json["checkout"]["client_secret"]
    dep = res.json
    replay = apps.deposit.request(
        "POST",
        f"/accounts/{aid}/deposits",
        body={"method": "card", "amount": 2_500},
        headers={"Idempotency-Key": "d1"},
        claims=cust,
    )
    assert replay.headers.get("idempotent-replayed") == "true" and replay.json == dep
    payload, headers = sup.signed_card_event(sup.card_events(dep)["succeeded"]())
    # API Gateway may hand the body over base64-encoded: the signature is over the decoded bytes.
    ack = webhook(apps.webhooks, "sandbox", payload, headers, b64=True)
    assert ack.status == 200 and ack.json["outcome"] == "credited"
    assert webhook(apps.webhooks, "sandbox", payload, headers).json["outcome"] == "duplicate"
    got = apps.deposit.request("GET", f"/accounts/{aid}/deposits/{dep['deposit_id']}", claims=cust)
    assert got.status == 200 and got.json["state"] == "credited" and "checkout" not in got.json
    listed = apps.deposit.request("GET", f"/accounts/{aid}/deposits", claims=cust, query={"state": "credited"})
    assert [d["deposit_id"] for d in listed.json["items"]] == [dep["deposit_id"]]
    assert apps.accounts.request("GET", f"/accounts/{aid}", claims=cust).json["balance"] == 2_500


@pytest.mark.parametrize(
    ("payload", "headers"),
    [
        (b"not json at all", {}),
        (b"not json at all", {"Stripe-Signature": "t=1,v1=abc"}),
        (b'{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{}}}', {"Stripe-Signature": "t=1"}),
    ],
)
def test_refused_signature_is_a_400_problem_even_for_a_body_that_is_not_json(
    apps: Apps, payload: bytes, headers: dict[str, str]
) -> None:
    body = problem(webhook(apps.webhooks, "sandbox", payload, headers), 400, "invalid-signature")
    assert body["instance"] == "/webhooks/sandbox"


def test_unknown_provider_is_a_404_problem(apps: Apps) -> None:
    problem(webhook(apps.webhooks, "paypal", b"{}", {}), 404, "not-found")


def test_signed_bank_transfer_through_the_handler(apps: Apps) -> None:
    acc = open_account(apps)
    payload, headers = sup.signed_transfer(sup.transfer(acc["payment_reference"], 4_200))
    ack = webhook(apps.webhooks, "bank", payload, headers)
    assert ack.status == 200 and ack.json["outcome"] == "credited" and ack.json["transfer_id"] == "tr_1"
    bad = sup.signed_transfer({**sup.transfer(acc["payment_reference"], 1), "currency": "EURO"})
    problem(webhook(apps.webhooks, "bank", *bad), 422, "validation-error")


def test_deposit_routes_answer_problems(apps: Apps) -> None:
    acc = open_account(apps)
    aid = acc["account_id"]
    no_key = apps.deposit.request("POST", f"/accounts/{aid}/deposits", body={"method": "card", "amount": 2_500})
    assert no_key.status in (400, 422) and no_key.content_type == PROBLEM
    bad = apps.deposit.request(
        "POST", f"/accounts/{aid}/deposits", body={"method": "cash", "amount": 2_500}, headers={"Idempotency-Key": "x"}
    )
    assert problem(bad, 422, "validation-error")["field"] == "method"
    low = apps.deposit.request(
        "POST", f"/accounts/{aid}/deposits", body={"method": "card", "amount": 1}, headers={"Idempotency-Key": "x"}
    )
    assert problem(low, 422, "validation-error")["field"] == "amount"
    save = apps.deposit.request(
        "POST",
        f"/accounts/{aid}/deposits",
        body={"method": "bank_transfer", "amount": 2_500, "save_card": True},
        headers={"Idempotency-Key": "x"},
    )
    problem(save, 422, "validation-error")
    problem(apps.deposit.request("GET", f"/accounts/{aid}/deposits/dep_missing"), 404, "not-found")
    other = customer_claims("acc_other")
    problem(apps.deposit.request("GET", f"/accounts/{aid}/deposits", claims=other), 404, "not-found")


def test_deposits_of_an_account_the_caller_cannot_see_are_404_and_nothing_is_written(apps: Apps) -> None:
    """Authorization is at the edge: the service takes a CreateDeposit command, the router decides who sends it."""
    mine = open_account(apps)["account_id"]
    theirs = open_account(apps, partner_id="partner-a")["account_id"]
    path = f"/accounts/{theirs}/deposits"
    card = {"method": "card", "amount": 5_000}
    made = apps.deposit.request(
        "POST", path, body=card, claims=customer_claims(theirs), headers={"Idempotency-Key": "d"}
    )
    assert made.status == 201, made.raw_body
    dep = made.json["deposit_id"]
    before = stored()
    for claims in (customer_claims(mine), partner_claims("partner-b")):
        for body in (card, {"method": "bank_transfer", "amount": 5_000}):
            created = apps.deposit.request("POST", path, body=body, claims=claims, headers={"Idempotency-Key": "x"})
            assert problem(created, 404, "not-found")["detail"] == f"account {theirs} not found"
        problem(apps.deposit.request("GET", path, claims=claims), 404, "not-found")
        problem(apps.deposit.request("GET", f"{path}/{dep}", claims=claims), 404, "not-found")
    assert stored() == before
    # the customer of the account and its partner see it; under another account the deposit is not found
    for claims in (customer_claims(theirs), partner_claims("partner-a")):
        assert apps.deposit.request("GET", f"{path}/{dep}", claims=claims).json["deposit_id"] == dep
        assert [d["deposit_id"] for d in apps.deposit.request("GET", path, claims=claims).json["items"]] == [dep]
    problem(apps.deposit.request("GET", f"/accounts/{mine}/deposits/{dep}"), 404, "not-found")


@pytest.mark.parametrize("caller", ["customer", "partner"])
def test_only_an_operator_records_assigns_or_returns_transfers(apps: Apps, caller: str) -> None:
    """The operator role is checked at the edge (403), before anything is read or written."""
    acc = open_account(apps, partner_id="partner-a")
    aid = acc["account_id"]
    claims = customer_claims(aid) if caller == "customer" else partner_claims("partner-a")
    assert apps.deposit.request("POST", "/bank-transfers", body=sup.transfer(None, 100)).status == 201
    before = stored()
    refused = {
        "list unmatched bank transfers": apps.deposit.request("GET", "/bank-transfers/suspense", claims=claims),
        "record bank transfers": apps.deposit.request(
            "POST",
            "/bank-transfers",
            body=sup.transfer(acc["payment_reference"], 1_234, transfer_id="tr_2"),
            claims=claims,
        ),
        "assign bank transfers": apps.deposit.request(
            "POST",
            "/bank-transfers/suspense/tr_1/assign",
            body={"account_id": aid},
            headers={"Idempotency-Key": "as1"},
            claims=claims,
        ),
        "return bank transfers": apps.deposit.request(
            "POST", "/bank-transfers/suspense/tr_1/return", body={"reason": "not ours"}, claims=claims
        ),
    }
    for what, res in refused.items():
        assert problem(res, 403, "forbidden")["detail"] == f"only an operator may {what}"
    assert stored() == before
    assert apps.accounts.request("GET", f"/accounts/{aid}").json["balance"] == 0
    # the same requests by an operator go through (the refused idempotency key was not consumed)
    assigned = apps.deposit.request(
        "POST", "/bank-transfers/suspense/tr_1/assign", body={"account_id": aid}, headers={"Idempotency-Key": "as1"}
    )
    assert assigned.status == 201 and assigned.json["outcome"] == "credited", assigned.raw_body
    recorded = apps.deposit.request(
        "POST", "/bank-transfers", body=sup.transfer(acc["payment_reference"], 1_234, transfer_id="tr_2")
    )
    assert recorded.status == 201 and recorded.json["outcome"] == "credited", recorded.raw_body
    assert apps.accounts.request("GET", f"/accounts/{aid}").json["balance"] == 1_334


def test_bank_transfer_routes_are_for_operators(apps: Apps) -> None:
    acc = open_account(apps)
    cust = customer_claims(acc["account_id"])
    problem(apps.deposit.request("GET", "/bank-transfers/suspense", claims=cust), 403, "forbidden")
    problem(
        apps.deposit.request("POST", "/bank-transfers", body=sup.transfer(None, 100), claims=cust), 403, "forbidden"
    )
    recorded = apps.deposit.request("POST", "/bank-transfers", body=sup.transfer(None, 100))
    assert recorded.status == 201 and recorded.json["outcome"] == "suspense"
    assert apps.deposit.request("POST", "/bank-transfers", body=sup.transfer(None, 100)).status == 200
    listed = apps.deposit.request("GET", "/bank-transfers/suspense")
    assert [i["transfer_id"] for i in listed.json["items"]] == ["tr_1"]
    assigned = apps.deposit.request(
        "POST",
        "/bank-transfers/suspense/tr_1/assign",
        body={"account_id": acc["account_id"]},
        headers={"Idempotency-Key": "as1"},
    )
    assert assigned.status == 201 and assigned.json["account_id"] == acc["account_id"]
    again = apps.deposit.request(
        "POST",
        "/bank-transfers/suspense/tr_1/assign",
        body={"account_id": acc["account_id"]},
        headers={"Idempotency-Key": "as2"},
    )
    problem(again, 409, "conflict")
    gone = apps.deposit.request("POST", "/bank-transfers/suspense/tr_1/return", body={"reason": "not ours"})
    problem(gone, 409, "conflict")


def test_openapi_documents_every_route_of_the_template() -> None:
    doc = openapi.document()
    # The portal's files (PortalFunction: GET /portal, /portal/{proxy+}) are the web app, not the API.
    for route in (r for r in template.routes() if r.function != "PortalFunction"):
        assert route.method.lower() in doc["paths"].get(route.path, {}), f"{route.method} {route.path} undocumented"
    hook = doc["paths"]["/webhooks/{provider}"]["post"]
    assert hook["security"] == [] and "requestBody" in hook
    assert hook["responses"]["400"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
    for schema in ("DepositCreate", "DepositCreated", "DepositView", "Proforma", "IncomingTransfer", "SuspenseList"):
        assert schema in doc["components"]["schemas"], schema
