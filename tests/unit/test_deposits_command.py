"""The deposits and bank commands fingerprint exactly what their routes hashed before commands existed, so stored
idempotency records replay; the commands carry the actor the routes took from the principal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import _deposit_support as sup
import pytest
from _support import OPERATOR, customer_of

from account_credit.bank import service as bank
from account_credit.bank import suspense
from account_credit.bank.commands import AssignSuspense, ReturnSuspense
from account_credit.deposits import schemas as ds
from account_credit.deposits import service as deposits
from account_credit.deposits.commands import CreateDeposit
from account_credit.kernel.domain import Account
from account_credit.kernel.errors import InvalidInput
from account_credit.platform.store.memory import MemoryStore

Opener = Callable[..., Account]


@pytest.fixture(autouse=True)
def _configured(monkeypatch: pytest.MonkeyPatch) -> None:
    sup.configure(monkeypatch)


@pytest.mark.parametrize(
    "body",
    [
        {"method": "card", "amount": 5_000},
        {"method": "card", "amount": 5_000, "save_card": True, "currency": "EUR"},
        {"method": "bank_transfer", "amount": 2_500},
        {"method": "bank_transfer", "amount": 2_500.0, "currency": "EUR"},
    ],
)
def test_the_request_and_the_command_are_the_same_deposit(body: dict[str, Any]) -> None:
    request = ds.DepositCreate.model_validate(body)
    command = request.command("acc_1", "key-1", "customer:c1")
    assert command == CreateDeposit(
        "acc_1", request.method, request.amount, "key-1", "customer:c1", request.currency, request.save_card
    )
    assert command.fingerprint() == request.model_dump(mode="json")


def test_a_deposit_command_refuses_save_card_for_a_bank_transfer() -> None:
    with pytest.raises(InvalidInput):
        CreateDeposit("acc_1", "bank_transfer", 2_500, "k", "job:x", save_card=True)


def test_a_replay_of_the_routes_deposit_by_the_command_answers_the_first(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account("EUR")
    actor = customer_of(acc).actor
    request = ds.DepositCreate(method="bank_transfer", amount=2_500)
    first = deposits.create_deposit(store, request.command(acc.account_id, "k1", actor))
    assert first.body["proforma"]["number"].startswith("PF-")
    again = deposits.create_deposit(store, CreateDeposit(acc.account_id, "bank_transfer", 2_500, "k1", "job:other"))
    assert again.replayed and again.body == first.body
    stored = deposits.get(store, acc.account_id, first.body["deposit_id"])
    assert stored is not None and stored.actor == actor


def test_the_request_and_the_command_are_the_same_assignment() -> None:
    request = ds.AssignTransfer(account_id="acc_1")
    command = request.command("tr_1", "as-1", OPERATOR.actor)
    assert command == AssignSuspense("tr_1", "acc_1", "as-1", OPERATOR.actor)
    assert command.fingerprint() == {"transfer_id": "tr_1", **request.model_dump()}
    assert ds.ReturnTransfer(reason="not ours").command("tr_1", OPERATOR.actor) == ReturnSuspense(
        "tr_1", "not ours", OPERATOR.actor
    )


def test_a_job_records_assigns_and_returns_with_its_own_actor(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("EUR")
    for tid in ("tr_1", "tr_2"):
        t = ds.IncomingTransfer.model_validate(sup.transfer(None, 3_000, transfer_id=tid))
        assert bank.record_transfer(store, t, actor="job:statement-import")["outcome"] == "suspense"
    done = suspense.assign(store, AssignSuspense("tr_1", acc.account_id, "as-1", "job:matcher"))
    assert done.body["outcome"] == "credited"
    back = suspense.mark_returned(store, ReturnSuspense("tr_2", "not ours", "job:matcher"))
    assert (back["state"], back["resolved_by"]) == ("returned", "job:matcher")
    items = {i["transfer_id"]: i for i in suspense.list_suspense(store, state=None, limit=10)["items"]}
    assert items["tr_1"]["resolved_by"] == "job:matcher" and items["tr_1"]["account_id"] == acc.account_id
