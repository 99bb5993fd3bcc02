"""Deposit services over the in-memory store: card top-ups and provider events, bank transfers, suspense."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import _deposit_support as sup
import pytest
from _support import OPERATOR, customer_of

from account_credit.bank import references as payment_reference
from account_credit.bank import service as bank
from account_credit.bank import suspense
from account_credit.deposits import schemas as ds
from account_credit.deposits import service as svc
from account_credit.deposits.config import deposit_settings, secret
from account_credit.deposits.records import StaleDeposit
from account_credit.kernel.domain import Account, EntryType
from account_credit.kernel.errors import (
    ConcurrentUpdate,
    Conflict,
    CurrencyMismatchError,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidWebhookSignature,
    NotConfigured,
    NotFound,
    ServiceUnavailable,
)
from account_credit.kernel.money import Money
from account_credit.payment_methods import service as payment_methods
from account_credit.platform.config import settings
from account_credit.platform.events import EventType
from account_credit.platform.payments import sandbox
from account_credit.platform.store.memory import MemoryStore

Opener = Callable[..., Account]


@pytest.fixture(autouse=True)
def _configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    sup.configure(monkeypatch)
    yield
    sup.reset()  # cached settings and provider must not outlive this test's environment


def balance(store: MemoryStore, account_id: str) -> int:
    acc = store.get_account(account_id)
    assert acc is not None
    return acc.balance


def snapshot(store: MemoryStore) -> dict:
    with store.lock:
        return copy.deepcopy(store.items)


def card_deposit(store: MemoryStore, account: Account, amount: int = 5_000, key: str = "k1", **kw: Any) -> dict:
    result = svc.create_deposit(
        store,
        ds.DepositCreate(method="card", amount=amount, **kw).command(
            account.account_id, key, customer_of(account).actor
        ),
    )
    assert not result.replayed
    return result.body


def deliver(store: MemoryStore, event: dict[str, Any], **kw: Any) -> dict[str, Any]:
    payload, headers = sup.signed_card_event(event, **kw)
    return svc.receive_webhook(store, "sandbox", payload, headers)


def proforma(store: MemoryStore, account: Account, amount: int = 10_000, key: str = "p1") -> dict:
    return svc.create_deposit(
        store,
        ds.DepositCreate(method="bank_transfer", amount=amount).command(
            account.account_id, key, customer_of(account).actor
        ),
    ).body


def receive_transfer(store: MemoryStore, transfer: dict[str, Any]) -> dict[str, Any]:
    payload, headers = sup.signed_transfer(transfer)
    return svc.receive_webhook(store, "bank", payload, headers)


def flip_last(signature: str) -> str:
    return signature[:-1] + ("1" if signature.endswith("0") else "0")


# --------------------------------------------------------------------------- card top-up


def test_card_top_up_is_pending_with_what_the_client_pays_with_and_credits_nothing(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    assert (dep["method"], dep["state"], dep["amount"], dep["currency"]) == ("card", "pending", 5_000, "EUR")
    assert dep["checkout"]["client_secret"].startswith(dep["payment_id"] + "_secret_")
    assert dep["checkout"]["provider"] == "sandbox"
    assert balance(store, acc.account_id) == 0 and sup.entries(store, acc.account_id) == []
    assert svc.get_deposit(store, acc.account_id, dep["deposit_id"])["state"] == "pending"
    link = store.get_item(f"PAYMENT#sandbox#{dep['payment_id']}", "PAYMENT")
    assert link is not None and link["deposit_id"] == dep["deposit_id"]


def test_same_idempotency_key_returns_the_first_checkout_and_another_body_is_refused(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account("EUR")
    first = card_deposit(store, acc)
    again = svc.create_deposit(
        store, ds.DepositCreate(method="card", amount=5_000).command(acc.account_id, "k1", customer_of(acc).actor)
    )
    assert again.replayed and again.body == first
    with pytest.raises(IdempotencyKeyReused):
        svc.create_deposit(
            store, ds.DepositCreate(method="card", amount=5_001).command(acc.account_id, "k1", customer_of(acc).actor)
        )
    assert len(sup.items(store, f"ACCOUNT#{acc.account_id}", "DEPOSIT#")) == 1


@pytest.mark.parametrize(("amount", "currency"), [(999, "EUR"), (5_000_001, "EUR"), (999, "JPY")])
def test_amount_outside_the_deployment_bounds_is_refused(
    store: MemoryStore, open_account: Opener, amount: int, currency: str
) -> None:
    acc = open_account(currency)
    amount = 9 if currency == "JPY" else amount  # bounds are major units of the account's currency
    before = snapshot(store)
    with pytest.raises(InvalidInput) as err:
        svc.create_deposit(
            store, ds.DepositCreate(method="card", amount=amount).command(acc.account_id, "k", OPERATOR.actor)
        )
    assert err.value.field == "amount"
    assert snapshot(store) == before


def test_bounds_are_the_configured_major_units() -> None:
    low, high = deposit_settings().bounds("EUR")
    assert (low, high) == (Money(1_000, "EUR"), Money(5_000_000, "EUR"))
    assert deposit_settings().bounds("JPY") == (Money(10, "JPY"), Money(50_000, "JPY"))


def test_currency_other_than_the_accounts_is_refused(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("EUR")
    with pytest.raises(CurrencyMismatchError):
        svc.create_deposit(
            store,
            ds.DepositCreate(method="card", amount=5_000, currency="USD").command(acc.account_id, "k", OPERATOR.actor),
        )


def test_a_deposit_is_found_only_under_its_own_account(store: MemoryStore, open_account: Opener) -> None:
    """Who may see which account is the edge's (tests/unit/test_deposits_http.py); the service finds a deposit
    only under the account it belongs to, and a missing account is not found."""
    mine, theirs = open_account("EUR"), open_account("EUR", partner_id="partner-a")
    dep = card_deposit(store, theirs)
    assert svc.get_deposit(store, theirs.account_id, dep["deposit_id"])["deposit_id"] == dep["deposit_id"]
    with pytest.raises(NotFound):
        svc.get_deposit(store, mine.account_id, dep["deposit_id"])  # not this account's
    assert svc.list_deposits(store, mine.account_id, state=None, limit=10)["items"] == []
    with pytest.raises(NotFound) as info:
        svc.create_deposit(
            store, ds.DepositCreate(method="card", amount=5_000).command("acc_missing", "k", OPERATOR.actor)
        )
    assert info.value.detail == "account acc_missing not found"


def test_success_credits_once_in_one_transaction_with_its_entry_and_event(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    ev = sup.card_events(dep)["succeeded"]()
    commits = store.commits
    ack = deliver(store, ev)
    assert (ack["outcome"], ack["deposit_id"], ack["event_id"]) == ("credited", dep["deposit_id"], ev["id"])
    assert store.commits == commits + 1, "credit, entry, deposit, dedup record and event: one commit"
    assert balance(store, acc.account_id) == 5_000
    [entry] = sup.entries(store, acc.account_id)
    assert (entry["type"], entry["amount"], entry["balance_after"]) == (EntryType.DEPOSIT_CARD, 5_000, 5_000)
    assert entry["reference"]["deposit_id"] == dep["deposit_id"]
    [event] = sup.events(store, acc.account_id)
    assert event["type"] == EventType.DEPOSIT_RECEIVED and event["payload"]["amount"] == 5_000
    assert svc.get_deposit(store, acc.account_id, dep["deposit_id"])["state"] == "credited"
    assert deliver(store, ev)["outcome"] == "duplicate"
    other = sup.card_events(dep)["succeeded"]()  # the same payment, another event id
    assert deliver(store, other)["outcome"] == "already_credited"
    assert balance(store, acc.account_id) == 5_000 and len(sup.entries(store, acc.account_id)) == 1


def test_failed_payment_marks_the_deposit_failed_and_credits_nothing(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    assert deliver(store, sup.card_events(dep)["failed"](message="Insufficient funds."))["outcome"] == "failed"
    view = svc.get_deposit(store, acc.account_id, dep["deposit_id"])
    assert (view["state"], view["failure_message"]) == ("failed", "Insufficient funds.")
    assert balance(store, acc.account_id) == 0 and sup.events(store, acc.account_id) == []


def test_failure_after_success_leaves_the_ledger_alone(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    ev = sup.card_events(dep)
    deliver(store, ev["succeeded"]())
    assert deliver(store, ev["failed"]())["outcome"] == "ignored_late_failure"
    assert balance(store, acc.account_id) == 5_000
    assert svc.get_deposit(store, acc.account_id, dep["deposit_id"])["state"] == "credited"


def test_refund_takes_the_credit_back_below_zero_flags_the_account_and_is_never_credited_again(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    ev = sup.card_events(dep)
    success = ev["succeeded"]()
    deliver(store, success)
    svc_adjust_debit(store, acc, 4_000)  # spent most of it
    ack = deliver(store, ev["refunded"]())
    assert ack["outcome"] == "reversed"
    assert balance(store, acc.account_id) == -4_000, "a reversal may take the balance below zero"
    last = sup.entries(store, acc.account_id)[-1]
    assert (last["type"], last["amount"]) == (EntryType.DEPOSIT_REVERSAL, -5_000)
    listed = svc.list_deposits(store, acc.account_id, state=None, limit=10)
    assert listed["items"][0]["state"] == "reversed"
    assert [(f["reason"], f["amount"], f["source"]) for f in listed["flags"]] == [("deposit_reversed", 5_000, "refund")]
    assert [e["type"] for e in sup.events(store, acc.account_id)].count(EventType.DEPOSIT_REVERSED) == 1
    # Late or replayed deliveries change nothing.
    assert deliver(store, success)["outcome"] == "duplicate"
    assert deliver(store, ev["succeeded"]())["outcome"] == "already_reversed"
    assert deliver(store, ev["refunded"]())["outcome"] == "no_change"
    assert deliver(store, ev["disputed"]())["outcome"] == "no_change"
    assert balance(store, acc.account_id) == -4_000


def svc_adjust_debit(store: MemoryStore, acc: Account, amount: int) -> None:
    from _support import adjustment

    from account_credit.accounts import service as accounts

    accounts.adjust(store, adjustment("debit", amount).command(acc.account_id, f"debit-{amount}", OPERATOR.actor))


def test_dispute_takes_back_the_disputed_amount(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    ev = sup.card_events(dep)
    deliver(store, ev["succeeded"]())
    assert deliver(store, ev["disputed"](amount=Money(2_000, "EUR")))["outcome"] == "reversed"
    assert balance(store, acc.account_id) == 3_000
    view = svc.get_deposit(store, acc.account_id, dep["deposit_id"])
    assert (view["state"], view["reversed_amount"]) == ("partially_reversed", 2_000)


def test_refund_before_success_means_nothing_is_ever_credited(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    ev = sup.card_events(dep)
    assert deliver(store, ev["refunded"]())["outcome"] == "reversed_before_credit"
    assert deliver(store, ev["succeeded"]())["outcome"] == "already_reversed"
    assert balance(store, acc.account_id) == 0 and sup.entries(store, acc.account_id) == []


def test_partial_refund_before_success_is_credited_and_taken_back_together(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    ev = sup.card_events(dep)
    assert deliver(store, ev["refunded"](1_500))["outcome"] == "reversal_noted"
    assert balance(store, acc.account_id) == 0
    assert deliver(store, ev["succeeded"]())["outcome"] == "credited"
    assert [e["amount"] for e in sup.entries(store, acc.account_id)] == [5_000, -1_500]
    assert balance(store, acc.account_id) == 3_500


def test_unknown_event_types_are_acknowledged_and_ignored(store: MemoryStore, open_account: Opener) -> None:
    before = snapshot(store)
    ack = deliver(store, {"id": "evt_x", "type": "customer.created", "data": {"object": {"id": "cus_1"}}})
    assert (ack["outcome"], ack["type"]) == ("ignored", "customer.created")
    assert snapshot(store) == before


def test_payments_that_are_not_deposits_are_ignored(store: MemoryStore) -> None:
    ev = sandbox.payment_succeeded("pi_order_1", Money(100, "EUR"), {"purpose": "order"})
    assert deliver(store, ev)["outcome"] == "ignored"


def test_a_deposit_that_keeps_changing_answers_409_and_credits_nothing(
    store: MemoryStore, open_account: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every write meets a newer version of the deposit: read and decided again MAX_WRITE_ATTEMPTS times, then 409."""
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    tries = 0

    def stale(*_args: Any) -> dict[str, Any]:
        nonlocal tries
        tries += 1
        raise StaleDeposit("the deposit changed meanwhile")

    monkeypatch.setattr(svc, "_commit_event", stale)
    monkeypatch.setattr("account_credit.platform.retry.time.sleep", lambda _seconds: None)
    with pytest.raises(ConcurrentUpdate, match="kept changing") as info:
        deliver(store, sup.card_events(dep)["succeeded"]())
    assert info.value.status == 409
    assert tries == settings().max_write_attempts == 12
    assert balance(store, acc.account_id) == 0


def test_a_deposit_payment_without_its_deposit_is_not_acknowledged(store: MemoryStore) -> None:
    """The provider delivers again later (Stripe retries for days); nothing is stored meanwhile."""
    ev = sandbox.payment_succeeded("pi_unknown", Money(100, "EUR"), {"purpose": "deposit"})
    before = snapshot(store)
    with pytest.raises(ServiceUnavailable):
        deliver(store, ev)
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda p, h: (p, {}), id="missing-header"),
        pytest.param(lambda p, h: (p + b" ", h), id="body-changed"),
        pytest.param(lambda p, h: (p, {"Stripe-Signature": flip_last(h["Stripe-Signature"])}), id="wrong"),
        pytest.param(lambda p, h: (p, {"Stripe-Signature": "garbage"}), id="garbage"),
    ],
)
def test_bad_signatures_are_refused_and_nothing_is_stored(
    store: MemoryStore, open_account: Opener, tamper: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    payload, headers = sup.signed_card_event(sup.card_events(dep)["succeeded"]())
    before = snapshot(store)
    with pytest.raises(InvalidWebhookSignature):
        svc.receive_webhook(store, "sandbox", *tamper(payload, headers))
    assert snapshot(store) == before


@pytest.mark.parametrize("skew", [-301, 301, -3600, 86_400])
def test_timestamps_more_than_300s_in_the_past_or_future_are_refused(
    store: MemoryStore, open_account: Opener, skew: int
) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    before = snapshot(store)
    with pytest.raises(InvalidWebhookSignature, match=r"tolerance|future"):
        deliver(store, sup.card_events(dep)["succeeded"](), timestamp=sup.now() + skew)
    assert snapshot(store) == before


@pytest.mark.parametrize("skew", [-290, 0, 290])
def test_timestamps_within_300s_are_accepted(store: MemoryStore, open_account: Opener, skew: int) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    assert deliver(store, sup.card_events(dep)["succeeded"](), timestamp=sup.now() + skew)["outcome"] == "credited"


def test_a_secret_of_another_endpoint_does_not_verify(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    payload, _ = sup.signed_card_event(sup.card_events(dep)["succeeded"]())
    from account_credit.platform.payments import stripe_format

    with pytest.raises(InvalidWebhookSignature):
        svc.receive_webhook(
            store, "sandbox", payload, {"Stripe-Signature": stripe_format.sign(payload, sup.BANK_SECRET)}
        )


def test_webhooks_of_a_provider_this_deployment_does_not_use_are_404(store: MemoryStore) -> None:
    with pytest.raises(NotFound):
        svc.receive_webhook(store, "stripe", b"{}", {})
    with pytest.raises(NotFound):
        svc.receive_webhook(store, "paypal", b"{}", {})


def test_no_secret_configured_refuses_everything(
    store: MemoryStore, open_account: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    payload, headers = sup.signed_card_event(sup.card_events(dep)["succeeded"]())
    monkeypatch.delenv("SANDBOX_WEBHOOK_SECRET")
    sup.reset()
    with pytest.raises(InvalidWebhookSignature, match="no webhook secret"):
        svc.receive_webhook(store, "sandbox", payload, headers)


def test_a_card_saved_at_top_up_is_stored_once(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("EUR")
    dep = card_deposit(store, acc, save_card=True)
    ev = sup.card_events(dep)["succeeded"]()
    ev["data"]["object"]["metadata"]["save_card"] = "true"
    deliver(store, ev)
    [card] = payment_methods.list_methods(store, acc.account_id)
    assert card.card is not None
    assert (card.card.provider, card.card.brand, len(card.card.last4)) == ("sandbox", "visa", 4)
    assert payment_methods.preferences(store, acc.account_id).alternate == card.payment_method_id, "the first card"
    assert card.card.token == ev["data"]["object"]["payment_method"]
    # Without save_card on the deposit nothing is stored, whatever the metadata says.
    other = card_deposit(store, acc, key="k2")
    ev2 = sup.card_events(other)["succeeded"]()
    ev2["data"]["object"]["metadata"]["save_card"] = "true"
    deliver(store, ev2)
    assert len(payment_methods.list_methods(store, acc.account_id)) == 1


def test_a_card_lost_to_a_crash_after_the_credit_is_saved_by_the_next_delivery(
    store: MemoryStore, open_account: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card is saved after the credit commits: a container that dies in between must not lose it for good."""
    acc = open_account("EUR")
    dep = card_deposit(store, acc, save_card=True)
    ev = sup.card_events(dep)["succeeded"]()
    ev["data"]["object"]["metadata"]["save_card"] = "true"
    keep = payment_methods.save_card

    def died(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("the container died here")

    monkeypatch.setattr(payment_methods, "save_card", died)
    with pytest.raises(RuntimeError, match="died"):
        deliver(store, ev)
    assert balance(store, acc.account_id) == 5_000, "the credit is committed"
    assert payment_methods.list_methods(store, acc.account_id) == []
    monkeypatch.setattr(payment_methods, "save_card", keep)
    assert deliver(store, ev)["outcome"] == "duplicate", "the provider delivers the same event again"
    [card] = payment_methods.list_methods(store, acc.account_id)
    assert card.card is not None and card.card.token == ev["data"]["object"]["payment_method"]
    assert deliver(store, ev)["outcome"] == "duplicate"
    assert len(payment_methods.list_methods(store, acc.account_id)) == 1
    assert balance(store, acc.account_id) == 5_000


def test_list_filters_by_state_newest_first(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("EUR")
    a = card_deposit(store, acc, key="a")
    b = card_deposit(store, acc, key="b")
    deliver(store, sup.card_events(a)["succeeded"]())
    listed = svc.list_deposits(store, acc.account_id, state=None, limit=10)
    assert [d["deposit_id"] for d in listed["items"]] == [b["deposit_id"], a["deposit_id"]]
    credited = svc.list_deposits(store, acc.account_id, state="credited", limit=10)
    assert [d["deposit_id"] for d in credited["items"]] == [a["deposit_id"]]
    assert len(svc.list_deposits(store, acc.account_id, state=None, limit=1)["items"]) == 1


# --------------------------------------------------------------------------- payment references


def test_every_account_gets_a_unique_reference_with_a_valid_check_digit(
    open_account: Opener, store: MemoryStore
) -> None:
    refs = {open_account("EUR").payment_reference for _ in range(40)}
    assert len(refs) == 40 and None not in refs
    for ref in refs:
        assert ref is not None and len(ref) == 10 and ref[0] != "0" and payment_reference.valid_reference(ref)
        owner = store.get_item(f"REF#{ref}", "REF")
        assert owner is not None and store.get_account(owner["account_id"]) is not None


def test_the_reference_is_on_the_account_view(open_account: Opener) -> None:
    from account_credit.accounts import service as accounts

    acc = open_account("EUR")
    assert accounts.view(acc)["payment_reference"] == acc.payment_reference


def test_any_single_digit_typo_or_adjacent_swap_is_detected() -> None:
    for _ in range(50):
        ref = payment_reference.new_reference()
        for i in range(10):
            for d in "0123456789":
                if d != ref[i]:
                    assert not payment_reference.valid_reference(ref[:i] + d + ref[i + 1 :])
        for i in range(9):
            if ref[i] != ref[i + 1]:
                assert not payment_reference.valid_reference(ref[:i] + ref[i + 1] + ref[i] + ref[i + 2 :])


@pytest.mark.parametrize(
    ("raw", "normal"), [(" 123 456 ", "123456"), ("0012345", "12345"), ("VS123", "VS123"), ("", None)]
)
def test_references_are_normalised(raw: str, normal: str | None) -> None:
    assert payment_reference.normalise_reference(raw) == normal


def test_a_legacy_account_without_reference_gets_one_on_its_first_proforma(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account("EUR")
    store.update_account(acc.account_id, {"payment_reference": None})
    legacy = store.get_account(acc.account_id)
    assert legacy is not None and legacy.payment_reference is None
    pf = proforma(store, legacy)
    ref = pf["proforma"]["payment_reference"]
    assert payment_reference.valid_reference(ref)
    refreshed = store.get_account(acc.account_id)
    assert refreshed is not None and refreshed.payment_reference == ref


# --------------------------------------------------------------------------- proforma


def test_bank_transfer_top_up_issues_a_proforma_with_the_sellers_bank_details(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account("EUR")
    dep = proforma(store, acc)
    pf = dep["proforma"]
    assert (dep["method"], dep["state"], dep["checkout"]) == ("bank_transfer", "pending", None)
    assert pf["number"].startswith("PF-") and pf["number"].endswith("-000001")
    assert (pf["amount"], pf["currency"], pf["status"], pf["paid_amount"]) == (10_000, "EUR", "unpaid", 0)
    assert pf["payment_reference"] == acc.payment_reference == dep["payment_reference"]
    assert pf["seller"] == {
        "name": "Seller s.r.o.",
        "address": "Hlavna 1, Bratislava",
        "iban": "SK3112000000198742637541",
        "bic": "TESTSKBX",
        "bank_name": "Test Bank",
    }
    assert pf["buyer"]["company"]["name"] == acc.company.name
    [event] = [e for e in sup.events(store, acc.account_id) if e["type"] == "proforma.issued"]
    assert event["type"] == EventType.PROFORMA_ISSUED and event["payload"]["number"] == pf["number"]
    assert balance(store, acc.account_id) == 0
    assert svc.get_deposit(store, acc.account_id, dep["deposit_id"])["proforma"] == pf


def test_proforma_numbers_are_consecutive_and_a_replay_takes_no_number(
    store: MemoryStore, open_account: Opener
) -> None:
    a, b = open_account("EUR"), open_account("USD")
    numbers = [proforma(store, a, key="1")["proforma"]["number"], proforma(store, b, key="1")["proforma"]["number"]]
    numbers.append(proforma(store, a, key="1")["proforma"]["number"])  # replay
    numbers.append(proforma(store, a, key="2")["proforma"]["number"])
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == [1, 2, 1, 3]


def test_refused_proformas_take_no_number(
    store: MemoryStore, open_account: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    acc = open_account("EUR")
    with pytest.raises(InvalidInput):
        proforma(store, acc, amount=1)
    monkeypatch.setenv("SELLER_IBAN", "")
    sup.reset()
    with pytest.raises(NotConfigured):
        proforma(store, acc)
    sup.configure(monkeypatch)
    assert proforma(store, acc)["proforma"]["number"].endswith("-000001")


# --------------------------------------------------------------------------- incoming transfers


def test_matched_transfer_is_credited_once_and_paid_against_the_proforma(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account("EUR")
    dep = proforma(store, acc)
    ack = receive_transfer(store, sup.transfer(acc.payment_reference, 4_000))
    assert (ack["outcome"], ack["deposit_id"], ack["account_id"]) == ("credited", dep["deposit_id"], acc.account_id)
    assert receive_transfer(store, sup.transfer(acc.payment_reference, 4_000))["outcome"] == "duplicate"
    [entry] = sup.entries(store, acc.account_id)
    assert (entry["type"], entry["amount"]) == (EntryType.DEPOSIT_BANK_TRANSFER, 4_000)
    assert entry["reference"]["proforma_number"] == dep["proforma"]["number"]
    view = svc.get_deposit(store, acc.account_id, dep["deposit_id"])
    assert (view["state"], view["proforma"]["status"], view["proforma"]["paid_amount"]) == (
        "partly_paid",
        "partly_paid",
        4_000,
    )
    assert view["transfers"][0]["payer_name"] == "Payer s.r.o."
    receive_transfer(store, sup.transfer(acc.payment_reference, 7_000, transfer_id="tr_2"))
    view = svc.get_deposit(store, acc.account_id, dep["deposit_id"])
    assert (view["state"], view["proforma"]["status"], view["credited_amount"]) == ("credited", "overpaid", 11_000)
    assert balance(store, acc.account_id) == 11_000
    received = [e for e in sup.events(store, acc.account_id) if e["type"] == EventType.DEPOSIT_RECEIVED]
    assert sorted(e["payload"]["amount"] for e in received) == [4_000, 7_000]


def test_a_transfer_without_an_open_proforma_is_credited_as_its_own_deposit(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account("EUR")
    ack = receive_transfer(store, sup.transfer(f"  {acc.payment_reference} ", 2_500))
    dep = svc.get_deposit(store, acc.account_id, ack["deposit_id"])
    assert (dep["method"], dep["state"], dep["amount"], dep["proforma"]) == ("bank_transfer", "credited", 2_500, None)
    assert balance(store, acc.account_id) == 2_500


def test_a_transfer_pays_the_proforma_whose_amount_it_matches(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("EUR")
    small = proforma(store, acc, 2_000, key="a")
    big = proforma(store, acc, 9_000, key="b")
    assert receive_transfer(store, sup.transfer(acc.payment_reference, 9_000))["deposit_id"] == big["deposit_id"]
    assert (
        receive_transfer(store, sup.transfer(acc.payment_reference, 500, transfer_id="t2"))["deposit_id"]
        == (small["deposit_id"])
    )


@pytest.mark.parametrize(
    ("reference", "currency", "reason"),
    [
        (None, "EUR", "no_reference"),
        ("12345", "EUR", "invalid_reference"),
        ("typo", "EUR", "invalid_reference"),
        ("unknown", "EUR", "unknown_reference"),
        ("own", "USD", "currency_mismatch"),
    ],
)
def test_unmatched_transfers_are_kept_in_suspense(
    store: MemoryStore, open_account: Opener, reference: str | None, currency: str, reason: str
) -> None:
    acc = open_account("EUR")
    ref = acc.payment_reference
    assert ref is not None
    if reference == "typo":
        reference = ref[:3] + ref[4] + ref[3] + ref[5:] if ref[3] != ref[4] else ref[:9] + str((int(ref[9]) + 1) % 10)
    elif reference == "unknown":
        reference = next(
            r for r in iter(payment_reference.new_reference, None) if store.get_item(f"REF#{r}", "REF") is None
        )
    elif reference == "own":
        reference = ref
    ack = receive_transfer(store, sup.transfer(reference, 3_000, currency))
    assert (ack["outcome"], ack["reason"], ack["account_id"]) == ("suspense", reason, None)
    assert balance(store, acc.account_id) == 0
    [item] = suspense.list_suspense(store, state="open", limit=10)["items"]
    assert (item["transfer_id"], item["reason"], item["transfer"]["amount"]) == ("tr_1", reason, 3_000)
    assert receive_transfer(store, sup.transfer(reference, 3_000, currency))["outcome"] == "duplicate"
    assert len(suspense.list_suspense(store, state=None, limit=10)["items"]) == 1


def test_operator_assigns_a_suspense_transfer_once(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("EUR")
    dep = proforma(store, acc, 3_000)
    receive_transfer(store, sup.transfer(None, 3_000))
    req = ds.AssignTransfer(account_id=acc.account_id)
    first = suspense.assign(store, req.command("tr_1", "a1", OPERATOR.actor))
    assert not first.replayed and first.body["deposit_id"] == dep["deposit_id"] and first.body["status"] == "credited"
    again = suspense.assign(store, req.command("tr_1", "a1", OPERATOR.actor))
    assert again.replayed and again.body == first.body
    with pytest.raises(Conflict):
        suspense.assign(store, req.command("tr_1", "a2", OPERATOR.actor))
    assert balance(store, acc.account_id) == 3_000
    assert svc.get_deposit(store, acc.account_id, dep["deposit_id"])["proforma"]["status"] == "paid"
    [item] = suspense.list_suspense(store, state="assigned", limit=10)["items"]
    assert (item["account_id"], item["resolved_by"]) == (acc.account_id, OPERATOR.actor)
    assert suspense.list_suspense(store, state="open", limit=10)["items"] == []
    # The bank delivering the same transfer again changes nothing.
    assert receive_transfer(store, sup.transfer(acc.payment_reference, 3_000))["outcome"] == "duplicate"
    assert balance(store, acc.account_id) == 3_000


def test_assigning_to_an_account_in_another_currency_or_a_missing_one_is_refused(
    store: MemoryStore, open_account: Opener
) -> None:
    usd = open_account("USD")
    receive_transfer(store, sup.transfer(None, 3_000, "EUR"))
    before = snapshot(store)
    with pytest.raises(CurrencyMismatchError):
        suspense.assign(store, ds.AssignTransfer(account_id=usd.account_id).command("tr_1", "k", OPERATOR.actor))
    with pytest.raises(NotFound):
        suspense.assign(store, ds.AssignTransfer(account_id="acc_missing").command("tr_1", "k", OPERATOR.actor))
    with pytest.raises(NotFound):
        suspense.assign(store, ds.AssignTransfer(account_id=usd.account_id).command("tr_missing", "k", OPERATOR.actor))
    assert snapshot(store) == before


def test_operator_marks_a_suspense_transfer_returned(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("EUR")
    receive_transfer(store, sup.transfer(None, 3_000))
    item = suspense.mark_returned(store, ds.ReturnTransfer(reason="sent back to payer").command("tr_1", OPERATOR.actor))
    assert (item["state"], item["return_reason"]) == ("returned", "sent back to payer")
    assert (
        suspense.mark_returned(store, ds.ReturnTransfer(reason="again").command("tr_1", OPERATOR.actor))["state"]
        == "returned"
    )
    with pytest.raises(Conflict):
        suspense.assign(store, ds.AssignTransfer(account_id=acc.account_id).command("tr_1", "k", OPERATOR.actor))
    assert store.get_item("BANKTRANSFER#tr_1", "BANKTRANSFER")["status"] == "returned"  # type: ignore[index]
    assert receive_transfer(store, sup.transfer(None, 3_000))["outcome"] == "duplicate"
    assert balance(store, acc.account_id) == 0


def test_operator_records_a_transfer_on_the_same_path_as_the_bank(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("EUR")
    t = ds.IncomingTransfer.model_validate(sup.transfer(acc.payment_reference, 1_234))
    assert bank.record_transfer(store, t, actor=OPERATOR.actor)["outcome"] == "credited"
    assert bank.record_transfer(store, t, actor=OPERATOR.actor)["outcome"] == "duplicate"
    assert receive_transfer(store, sup.transfer(acc.payment_reference, 1_234))["outcome"] == "duplicate"
    assert balance(store, acc.account_id) == 1_234


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda p, h: (p, {}), id="missing"),
        pytest.param(lambda p, h: (p, {"Bank-Signature": flip_last(h["Bank-Signature"])}), id="wrong"),
        pytest.param(lambda p, h: (p.replace(b"3000", b"9000"), h), id="amount-changed"),
    ],
)
def test_bank_webhook_signatures_are_checked(
    store: MemoryStore, open_account: Opener, tamper: Callable[..., Any]
) -> None:
    acc = open_account("EUR")
    payload, headers = sup.signed_transfer(sup.transfer(acc.payment_reference, 3000))
    before = snapshot(store)
    with pytest.raises(InvalidWebhookSignature):
        svc.receive_webhook(store, "bank", *tamper(payload, headers))
    assert snapshot(store) == before


def test_bank_webhook_signed_with_the_card_secret_or_too_old_is_refused(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account("EUR")
    t = sup.transfer(acc.payment_reference, 3000)
    with pytest.raises(InvalidWebhookSignature):
        svc.receive_webhook(store, "bank", *sup.signed_transfer(t, secret=sup.SANDBOX_SECRET))
    with pytest.raises(InvalidWebhookSignature):
        svc.receive_webhook(store, "bank", *sup.signed_transfer(t, timestamp=sup.now() + 400))
    assert balance(store, acc.account_id) == 0


def test_a_signed_but_malformed_transfer_is_422(store: MemoryStore) -> None:
    with pytest.raises(InvalidInput) as err:
        svc.receive_webhook(store, "bank", *sup.signed_transfer({**sup.transfer("1", 100), "amount": -5}))
    assert err.value.field == "amount"


# --------------------------------------------------------------------------- configuration


def test_secrets_come_from_secrets_manager_when_no_variable_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import boto3
    from moto import mock_aws

    with mock_aws():
        arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="stack/payment-secrets",
            SecretString=json.dumps({"stripe_api_key": "sk_test_x", "bank_webhook_secret": "from-sm"}),
        )["ARN"]
        monkeypatch.delenv("BANK_WEBHOOK_SECRET")
        monkeypatch.setenv("PAYMENT_SECRETS_ARN", arn)
        sup.reset()
        assert secret("bank_webhook_secret") == "from-sm"
        assert secret("stripe_api_key") == "sk_test_x"
        assert secret("stripe_webhook_secret") == ""
        monkeypatch.setenv("BANK_WEBHOOK_SECRET", "env-wins")
        assert secret("bank_webhook_secret") == "env-wins"


def test_a_rotated_webhook_secret_applies_without_a_restart(
    store: MemoryStore, open_account: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from account_credit.platform.payments import stripe_format

    acc = open_account("EUR")
    dep = card_deposit(store, acc)
    svc.receive_webhook(store, "sandbox", *sup.signed_card_event(sup.card_events(dep)["failed"]()))  # provider warm
    monkeypatch.setenv("SANDBOX_WEBHOOK_SECRET", "whsec_rotated")
    payload = json.dumps(sup.card_events(dep)["succeeded"]()).encode()
    with pytest.raises(InvalidWebhookSignature):
        svc.receive_webhook(
            store, "sandbox", payload, {"Stripe-Signature": stripe_format.sign(payload, sup.SANDBOX_SECRET)}
        )
    ack = svc.receive_webhook(
        store, "sandbox", payload, {"Stripe-Signature": stripe_format.sign(payload, "whsec_rotated")}
    )
    assert ack["outcome"] == "credited"
