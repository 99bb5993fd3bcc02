"""GET /accounts (the directory: search by company name, VAT id, payment reference) and the audited partner change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from _support import OPERATOR, Api, customer_claims, operator_claims, partner_claims

from account_credit.accounts import directory, schemas
from account_credit.accounts import service as svc
from account_credit.kernel.domain import Account
from account_credit.kernel.errors import Conflict, InvalidInput
from account_credit.platform.store import keys
from account_credit.platform.store.memory import MemoryStore

Opener = Callable[..., Account]


def search(store: MemoryStore, **kw: Any) -> directory.DirectoryPage:
    args: dict[str, Any] = {"partner_id": None, "q": None, "currency": None, "cursor": None, "limit": 50}
    return svc.search_accounts(store, **{**args, **kw})


def names(page: directory.DirectoryPage) -> list[str]:
    return [a["company_name"] for a in page.items]


@pytest.fixture
def accounts(store: MemoryStore, open_account: Opener) -> dict[str, Account]:
    made = {
        "zulu": open_account(name="Zulu Security GmbH", partner_id="partner-a"),
        "acme": open_account(name="Acme Certificates Ltd", partner_id="partner-a", currency="EUR"),
        "beta": open_account(name="beta certs s.r.o.", partner_id="partner-b"),
        "solo": open_account(name="Solo Trust"),
    }
    tax = schemas.TaxDetails(country="DE", vat_id="de 136 695 976")
    made["zulu"] = svc.update_details(store, made["zulu"].account_id, schemas.AccountPatch(tax=tax))
    return made


def test_operators_see_every_account_by_company_name(store: MemoryStore, accounts: dict[str, Account]) -> None:
    page = search(store)
    assert names(page) == ["Acme Certificates Ltd", "beta certs s.r.o.", "Solo Trust", "Zulu Security GmbH"]
    assert page.next_cursor is None
    acme = accounts["acme"]
    assert page.items[0] == {
        "account_id": acme.account_id,
        "company_name": "Acme Certificates Ltd",
        "vat_id": None,
        "payment_reference": acme.payment_reference,
        "currency": "EUR",
        "partner_id": "partner-a",
    }


def test_a_partner_scope_lists_only_that_partners_customers(store: MemoryStore, accounts: dict[str, Account]) -> None:
    assert names(search(store, partner_id="partner-a")) == ["Acme Certificates Ltd", "Zulu Security GmbH"]
    assert names(search(store, partner_id="partner-b")) == ["beta certs s.r.o."]
    assert names(search(store, partner_id="nobody")) == []


def test_q_matches_name_part_vat_id_or_payment_reference(store: MemoryStore, accounts: dict[str, Account]) -> None:
    assert names(search(store, q="CERT")) == ["Acme Certificates Ltd", "beta certs s.r.o."]
    assert names(search(store, q="DE-136.695.976")) == ["Zulu Security GmbH"]  # compacted, exact
    assert names(search(store, q="136695")) == []  # a VAT id is matched whole
    ref = accounts["solo"].payment_reference
    assert ref is not None and names(search(store, q=ref)) == ["Solo Trust"]
    assert names(search(store, q="cert", currency="EUR")) == ["Acme Certificates Ltd"]
    assert names(search(store, q="cert", partner_id="partner-b")) == ["beta certs s.r.o."]


def test_pages_follow_the_cursor(store: MemoryStore, accounts: dict[str, Account]) -> None:
    first = search(store, limit=3)
    assert len(first.items) == 3 and first.next_cursor
    rest = search(store, limit=3, cursor=first.next_cursor)
    assert names(first) + names(rest) == names(search(store)) and rest.next_cursor is None
    filtered = search(store, q="e", limit=1)
    seen = names(filtered)
    while filtered.next_cursor:
        filtered = search(store, q="e", limit=1, cursor=filtered.next_cursor)
        seen += names(filtered)
    assert seen == ["Acme Certificates Ltd", "beta certs s.r.o.", "Zulu Security GmbH"]


def test_a_cursor_of_another_scope_or_made_up_is_invalid(store: MemoryStore, accounts: dict[str, Account]) -> None:
    everyone = search(store, limit=1).next_cursor
    for cursor, scope in ((everyone, "partner-a"), ("garbage!", None), ("e30", None)):
        with pytest.raises(InvalidInput) as info:
            search(store, partner_id=scope, cursor=cursor)
        assert info.value.field == "cursor"


def test_renaming_an_account_moves_it_in_the_directory(store: MemoryStore, accounts: dict[str, Account]) -> None:
    patch = schemas.AccountPatch(company={"name": "Aardvark PKI"})
    svc.update_details(store, accounts["solo"].account_id, patch)
    assert names(search(store))[0] == "Aardvark PKI"
    assert names(search(store, q="solo")) == []


def test_changing_the_partner_is_one_audited_write(store: MemoryStore, accounts: dict[str, Account]) -> None:
    acme = accounts["acme"].account_id
    before = store.get_item(*keys.account(acme))
    assert before is not None
    moved = svc.change_partner(
        store, acme, schemas.PartnerChange(partner_id="partner-b", reason="customer moved"), OPERATOR.actor
    )
    assert moved.partner_id == "partner-b"
    after = store.get_item(*keys.account(acme))
    assert after is not None and after["version"] == before["version"] + 1 and after["balance"] == before["balance"]
    assert names(search(store, partner_id="partner-a")) == ["Zulu Security GmbH"]
    assert names(search(store, partner_id="partner-b")) == ["Acme Certificates Ltd", "beta certs s.r.o."]
    events = [e for e in store.query_prefix(keys.account_pk(acme), "EVENT#") if e["type"] == "account.partner_changed"]
    assert [e["payload"] for e in events] == [
        {
            "old_partner_id": "partner-a",
            "new_partner_id": "partner-b",
            "reason": "customer moved",
            "actor": OPERATOR.actor,
            "at": after["updated_at"],
        }
    ]
    svc.change_partner(store, acme, schemas.PartnerChange(partner_id=None, reason="direct now"), OPERATOR.actor)
    assert names(search(store, partner_id="partner-b")) == ["beta certs s.r.o."]
    assert "Acme Certificates Ltd" in names(search(store))
    svc.change_partner(store, acme, schemas.PartnerChange(partner_id=None, reason="again"), OPERATOR.actor)
    events = [e for e in store.query_prefix(keys.account_pk(acme), "EVENT#") if e["type"] == "account.partner_changed"]
    assert len(events) == 2  # the same partner again: nothing written


def test_a_concurrent_change_of_the_account_is_a_conflict_and_writes_nothing(
    store: MemoryStore, accounts: dict[str, Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = accounts["acme"].account_id
    real = store.get_account

    def racing(account_id: str) -> Account | None:
        found = real(account_id)
        store.update_account(account_id, {"credit_limit": 1})  # another change lands in between
        return found

    monkeypatch.setattr(store, "get_account", racing)
    with pytest.raises(Conflict):
        directory.change_partner(store, acme, "partner-b", "moved", OPERATOR.actor)
    monkeypatch.undo()
    assert store.get_account(acme).partner_id == "partner-a"  # type: ignore[union-attr]
    assert names(search(store, partner_id="partner-b")) == ["beta certs s.r.o."]


def test_accounts_opened_before_the_directory_get_entries_from_the_backfill(
    store: MemoryStore, accounts: dict[str, Account]
) -> None:
    from account_credit.billing.service import register

    for account in accounts.values():
        register(store, account.account_id)
        for key in (keys.directory_entry(account.account_id), keys.partner_directory_entry(account.account_id)):
            del store.items[key]
    assert names(search(store)) == []
    assert directory.backfill(store) == 4
    assert directory.backfill(store) == 0
    assert len(search(store).items) == 4
    assert names(search(store, partner_id="partner-a")) == ["Acme Certificates Ltd", "Zulu Security GmbH"]


# --------------------------------------------------------------------------- over HTTP


def open_via(api: Api, name: str, claims: dict[str, Any]) -> str:
    body = {"currency": "USD", "company": {"name": name}, "billing_emails": ["b@x.test"], "partner_id": "partner-a"}
    r = api.request("POST", "/accounts", body=body, claims=claims)
    assert r.status == 201, r.raw_body
    return str(r.json["account_id"])


def test_who_may_search_and_whose_accounts_they_see(api: Api) -> None:
    mine = open_via(api, "Mine Ltd", partner_claims("partner-a"))
    open_via(api, "Theirs Ltd", partner_claims("partner-b"))
    every = api.request("GET", "/accounts", claims=operator_claims())
    assert every.status == 200 and [a["company_name"] for a in every.json["items"]] == ["Mine Ltd", "Theirs Ltd"]
    own = api.request("GET", "/accounts", claims=partner_claims("partner-a"))
    assert [a["account_id"] for a in own.json["items"]] == [mine]
    same = api.request("GET", "/accounts", query={"partner_id": "partner-a"}, claims=partner_claims("partner-a"))
    assert same.status == 200 and same.json == own.json
    other = api.request("GET", "/accounts", query={"partner_id": "partner-b"}, claims=partner_claims("partner-a"))
    assert other.status == 403
    assert api.request("GET", "/accounts", claims=customer_claims(mine)).status == 403
    assert api.request("GET", "/accounts", query={"cursor": "x"}).status == 422
    assert api.request("GET", "/accounts", query={"limit": "101"}).status == 422
    found = api.request("GET", "/accounts", query={"q": "theirs", "currency": "USD"})
    assert [a["company_name"] for a in found.json["items"]] == ["Theirs Ltd"]


def test_only_an_operator_changes_the_partner(api: Api) -> None:
    acc = open_via(api, "Mine Ltd", partner_claims("partner-a"))
    path = f"/accounts/{acc}/partner"
    body = {"partner_id": "partner-b", "reason": "the customer asked"}
    assert api.request("PUT", path, body=body, claims=partner_claims("partner-a")).status == 403
    assert api.request("PUT", path, body=body, claims=customer_claims(acc)).status == 403
    assert api.request("PUT", path, body=body, claims=partner_claims("partner-b")).status == 404
    assert api.request("PUT", path, body={"partner_id": "partner-b"}).status == 422
    assert api.request("PUT", path, body={"partner_id": "a b", "reason": "bad id"}).json["field"] == "partner_id"
    assert api.request("PUT", path, body={**body, "reason": "  "}).json["field"] == "reason"
    moved = api.request("PUT", path, body=body)
    assert moved.status == 200 and moved.json["partner_id"] == "partner-b"
    assert api.request("GET", f"/accounts/{acc}", claims=partner_claims("partner-b")).status == 200
    assert api.request("GET", f"/accounts/{acc}", claims=partner_claims("partner-a")).status == 404
    none = api.request("PUT", path, body={"partner_id": None, "reason": "direct customer now"})
    assert none.status == 200 and none.json["partner_id"] is None
