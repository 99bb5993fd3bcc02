"""Card top-ups through a Stripe Checkout Session on DynamoDB Local, with the real ``stripe`` SDK talking to the
fake Stripe of the unit tests (tests/unit/_stripe_support.py).

A Checkout deposit's payment link is keyed by the session id (cs_...). The credit
(``checkout.session.completed`` or ``checkout.session.async_payment_succeeded``) also links the session's
PaymentIntent id, in the same transaction, so that a later ``charge.refunded`` / ``charge.dispute.created``
naming the intent finds the deposit. Races run as Lambda runs them: one OS process per concurrent delivery
(a container serves one request at a time), each with its own store and account cache.
"""

from __future__ import annotations

import multiprocessing
import queue
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from account_credit.accounts import service as accounts
from account_credit.accounts.schemas import AccountCreate
from account_credit.deposits import config as deposit_config
from account_credit.deposits import schemas as ds
from account_credit.deposits import service as svc
from account_credit.kernel.auth import Principal, Role
from account_credit.kernel.errors import ServiceUnavailable
from account_credit.payment_methods import service as payment_methods
from account_credit.platform import payments
from account_credit.platform.store import keys
from account_credit.platform.store.dynamo import DynamoStore
from tests.integration.helpers import containers
from tests.integration.test_ledger_dynamodb import all_entries, assert_ledger_consistent
from tests.unit import _deposit_support as sup
from tests.unit import _stripe_support as stripe_fake

pytestmark = pytest.mark.integration

OPERATOR = Principal(subject="op", role=Role.OPERATOR)
PROCESSES = 4
AMOUNT = 5_000


@pytest.fixture
def fake() -> Iterator[stripe_fake.FakeStripe]:
    with stripe_fake.serving() as state:
        yield state


@pytest.fixture(autouse=True)
def _stripe(fake: stripe_fake.FakeStripe, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """PAYMENT_PROVIDER=stripe, the adapter talking to the fake Stripe (worker processes inherit the environment
    and point their own adapter at the same fake)."""
    sup.configure(monkeypatch, PAYMENT_PROVIDER="stripe")
    monkeypatch.setattr(payments, "provider", lambda name=None: stripe_fake.adapter(fake))
    yield
    deposit_config.deposit_settings.cache_clear()  # the provider is restored by monkeypatch


# --------------------------------------------------------------------------- helpers


def open_account(store: DynamoStore) -> str:
    acc = accounts.open_account(
        store, AccountCreate(currency="EUR", company={"name": "Acme"}, billing_emails=["b@acme.test"])
    )
    return acc.account_id


def checkout_deposit(store: DynamoStore, account_id: str, key: str, save_card: bool = True) -> dict[str, Any]:
    req = ds.DepositCreate(method="card", amount=AMOUNT, save_card=save_card)
    return svc.create_deposit(store, req.command(account_id, key, OPERATOR.actor)).body


def session_of(dep: dict[str, Any], intent_id: str) -> dict[str, Any]:
    meta = {"purpose": "deposit", "account_id": dep["account_id"], "save_card": "true"}
    return {
        **stripe_fake.SESSION,
        "id": dep["payment_id"],
        "amount_total": AMOUNT,
        "payment_intent": intent_id,
        "metadata": meta,
    }


def intent_of(dep: dict[str, Any], intent_id: str) -> dict[str, Any]:
    meta = {"purpose": "deposit", "account_id": dep["account_id"], "save_card": "true", "via": "checkout"}
    return {**stripe_fake.SUCCEEDED, "id": intent_id, "amount": AMOUNT, "amount_received": AMOUNT, "metadata": meta}


def refund_of(dep: dict[str, Any], intent_id: str) -> dict[str, Any]:
    # A charge carries its PaymentIntent's metadata (Stripe copies it), so also purpose=deposit.
    meta = {"purpose": "deposit", "account_id": dep["account_id"], "save_card": "true", "via": "checkout"}
    return {
        "id": f"ch_{intent_id}",
        "object": "charge",
        "amount": AMOUNT,
        "amount_refunded": AMOUNT,
        "currency": "eur",
        "payment_intent": intent_id,
        "refunded": True,
        "metadata": meta,
    }


def signed(event_type: str, obj: dict[str, Any], event_id: str) -> tuple[bytes, dict[str, str]]:
    payload = stripe_fake.event(event_type, obj, event_id)
    return payload, {"Stripe-Signature": stripe_fake.stripe_signature(payload)}


def deliver(store: DynamoStore, delivery: tuple[bytes, dict[str, str]]) -> dict[str, Any]:
    return svc.receive_webhook(store, "stripe", *delivery)


def link(store: DynamoStore, payment_id: str) -> dict[str, Any] | None:
    return store.get_item(*keys.payment_link("stripe", payment_id))


def assert_linked(store: DynamoStore, dep: dict[str, Any], *payment_ids: str) -> None:
    for pid in payment_ids:
        item = link(store, pid)
        assert item is not None, f"no payment link for {pid}"
        assert (item["account_id"], item["deposit_id"]) == (dep["account_id"], dep["deposit_id"]), pid


# --------------------------------------------------------------------------- worker processes


def _deliver_in_process(
    results: Any,
    barrier: Any,
    index: int,
    endpoint: str,
    table: str,
    base: str,
    delivery: tuple[bytes, dict],
    redeliveries: int,
) -> None:
    """One warm container: its own client, store and account cache, the stripe adapter pointed at the fake; it
    delivers one webhook when every process is ready, and again at once after a 503 up to ``redeliveries`` times
    (Stripe's redelivery, compressed). Answers ``(index, outcome or error class, detail)``."""
    try:
        import boto3
        from botocore.config import Config

        from account_credit.kernel.errors import DomainError
        from account_credit.platform.store.cache import AccountCache

        client = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            config=Config(retries={"total_max_attempts": 1}, read_timeout=20),
        )
        store = DynamoStore(table, dynamo_client=client, cache=AccountCache())
        writes = [0]

        def count(model: Any, **_: Any) -> None:
            writes[0] += model.name == "TransactWriteItems"

        client.meta.events.register("before-call.dynamodb.*", count)
        payments.provider = lambda name=None: stripe_fake.adapter(base)  # type: ignore[assignment]
        client.describe_table(TableName=table)  # connected and warm before the start
        barrier.wait(timeout=60)
        for attempt in range(redeliveries + 1):
            try:
                outcome = str(svc.receive_webhook(store, "stripe", *delivery)["outcome"])
                results.put((index, outcome, f"{writes[0]} transaction(s) sent, {attempt} redelivery(ies)"))
                return
            except ServiceUnavailable as exc:  # 503: Stripe delivers again later
                if attempt == redeliveries:
                    results.put((index, type(exc).__name__, str(exc)))
            except DomainError as exc:  # any other problem the edge would answer
                results.put((index, type(exc).__name__, f"{exc} ({writes[0]} transaction(s) sent)"))
                return
    except Exception:  # noqa: BLE001 - reported to the test, which fails
        results.put((index, "raised", traceback.format_exc()))


def in_processes(
    endpoint: str,
    table: str,
    fake: stripe_fake.FakeStripe,
    deliveries: list[tuple[bytes, dict[str, str]]],
    redeliveries: int = 0,
) -> list[tuple[str, str]]:
    """Every delivery at the same moment, each from its own process (spawned: nothing inherited but the
    environment and sys.path). Returns ``(outcome or error class, detail)`` in delivery order."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    barrier = ctx.Barrier(len(deliveries))
    procs = [
        ctx.Process(
            target=_deliver_in_process,
            args=(results, barrier, i, endpoint, table, fake.base, d, redeliveries),
            daemon=True,
            name=f"webhook-container-{i}",
        )
        for i, d in enumerate(deliveries)
    ]
    for p in procs:
        p.start()
    answers: dict[int, tuple[str, str]] = {}
    try:
        while len(answers) < len(procs):
            index, outcome, detail = results.get(timeout=120)
            answers[index] = (outcome, detail)
    except queue.Empty:
        pytest.fail(f"worker processes did not answer: {sorted(answers)} of {len(procs)}")
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.terminate()
                p.join(5)
    raised = [detail for outcome, detail in answers.values() if outcome == "raised"]
    assert not raised, raised[0]
    return [answers[i] for i in range(len(procs))]


# --------------------------------------------------------------------------- tests


def test_a_checkout_top_up_is_credited_once_and_a_refund_of_its_intent_takes_it_back(
    table_name: str, dynamo_client: Any, fake: stripe_fake.FakeStripe
) -> None:
    store, other = containers(table_name, dynamo_client, 2)
    account_id = open_account(store)
    key = f"top-up-{uuid.uuid4().hex}"
    dep = checkout_deposit(store, account_id, key)
    session_id, intent_id = dep["payment_id"], f"pi_{uuid.uuid4().hex[:16]}"
    assert session_id.startswith("cs_test_fake_") and dep["state"] == "pending"
    assert dep["checkout"]["checkout_url"] == f"https://checkout.stripe.com/c/pay/{session_id}"
    assert checkout_deposit(other, account_id, key) == dep, "a replay (another container) opens no second session"
    assert_linked(store, dep, session_id)
    assert link(store, intent_id) is None

    # The intent's own event (via=checkout) is acknowledged and does nothing, whenever it comes.
    assert deliver(store, signed("payment_intent.succeeded", intent_of(dep, intent_id), "evt_pi"))["outcome"] == (
        "ignored"
    )
    assert store.get_account(account_id).balance == 0  # type: ignore[union-attr]

    completed = signed("checkout.session.completed", session_of(dep, intent_id), f"evt_cs_{uuid.uuid4().hex}")
    ack = deliver(store, completed)
    assert (ack["outcome"], ack["deposit_id"], ack["account_id"]) == ("credited", dep["deposit_id"], account_id)
    assert deliver(other, completed)["outcome"] == "duplicate", "a redelivery to another container"
    assert store.get_account(account_id).balance == AMOUNT  # type: ignore[union-attr]
    assert_linked(store, dep, session_id, intent_id)
    [card] = payment_methods.list_methods(store, account_id)
    assert card.card is not None and (card.card.token, card.card.last4) == ("pm_from_checkout", "4242")
    lookups = [r for r in fake.requests if r["path"] == f"/v1/payment_intents/{intent_id}"]
    assert lookups, "the saved card was read from the session's PaymentIntent"

    refund = signed("charge.refunded", refund_of(dep, intent_id), f"evt_re_{uuid.uuid4().hex}")
    ack = deliver(other, refund)
    assert (ack["outcome"], ack["deposit_id"]) == ("reversed", dep["deposit_id"])
    assert deliver(store, refund)["outcome"] == "duplicate"

    assert store.get_account(account_id).balance == 0  # type: ignore[union-attr]
    assert svc.get_deposit(store, account_id, dep["deposit_id"])["state"] == "reversed"
    entries = all_entries(store, account_id)
    assert sorted((e.type, e.amount) for e in entries) == [("deposit_card", AMOUNT), ("deposit_reversal", -AMOUNT)]
    assert_ledger_consistent(store, account_id)


def test_one_completion_delivered_by_four_processes_at_once_credits_once(
    ddb_endpoint: str, table_name: str, dynamo_client: Any, fake: stripe_fake.FakeStripe
) -> None:
    store = containers(table_name, dynamo_client, 1)[0]
    account_id = open_account(store)
    dep = checkout_deposit(store, account_id, f"top-up-{uuid.uuid4().hex}")
    intent_id = f"pi_{uuid.uuid4().hex[:16]}"
    completed = signed("checkout.session.completed", session_of(dep, intent_id), f"evt_cs_{uuid.uuid4().hex}")

    answers = in_processes(ddb_endpoint, table_name, fake, [completed] * PROCESSES)

    assert Counter(outcome for outcome, _ in answers) == {"credited": 1, "duplicate": PROCESSES - 1}, answers
    assert_credited_once(store, dep, intent_id)


def test_completed_and_async_succeeded_for_one_session_at_once_credit_once(
    ddb_endpoint: str, table_name: str, dynamo_client: Any, fake: stripe_fake.FakeStripe
) -> None:
    """Two event ids for the same session (each delivered twice), at once: the credit's idempotency record (keyed
    on the session id) and the intent's payment link (written only while absent) let exactly one credit through."""
    store = containers(table_name, dynamo_client, 1)[0]
    account_id = open_account(store)
    dep = checkout_deposit(store, account_id, f"top-up-{uuid.uuid4().hex}")
    intent_id = f"pi_{uuid.uuid4().hex[:16]}"
    session = session_of(dep, intent_id)
    completed = signed("checkout.session.completed", session, f"evt_cs_{uuid.uuid4().hex}")
    async_ok = signed("checkout.session.async_payment_succeeded", session, f"evt_async_{uuid.uuid4().hex}")

    answers = in_processes(ddb_endpoint, table_name, fake, [completed, async_ok] * (PROCESSES // 2))

    outcomes = Counter(outcome for outcome, _ in answers)
    assert outcomes["credited"] == 1, answers
    assert set(outcomes) <= {"credited", "duplicate", "already_credited"}, answers
    # A later redelivery of either event moves nothing. (The event that lost the race to the credit's idempotency
    # record was answered "duplicate" without being recorded itself: its redelivery is decided again.)
    for delivery in (completed, async_ok):
        assert deliver(store, delivery)["outcome"] in {"duplicate", "already_credited"}
    assert_credited_once(store, dep, intent_id)


def assert_credited_once(store: DynamoStore, dep: dict[str, Any], intent_id: str) -> None:
    account_id = dep["account_id"]
    entries = all_entries(store, account_id)
    assert [(e.type, e.amount) for e in entries] == [("deposit_card", AMOUNT)]
    assert store.get_account(account_id).balance == AMOUNT  # type: ignore[union-attr]
    assert_ledger_consistent(store, account_id)
    assert svc.get_deposit(store, account_id, dep["deposit_id"])["state"] == "credited"
    assert_linked(store, dep, dep["payment_id"], intent_id)
    events = store.query_prefix(f"ACCOUNT#{account_id}", "EVENT#")
    assert [e["type"] for e in events] == ["deposit.received"]
    # The refund naming the intent now finds the deposit.
    refund = signed("charge.refunded", refund_of(dep, intent_id), f"evt_re_{uuid.uuid4().hex}")
    assert deliver(store, refund)["outcome"] == "reversed"
    assert store.get_account(account_id).balance == 0  # type: ignore[union-attr]
    assert_ledger_consistent(store, account_id)


def test_a_refund_before_the_completion_is_redelivered_until_the_intent_is_linked(
    table_name: str, dynamo_client: Any
) -> None:
    """Stripe does not order its events: a refund naming the intent before the session's completion is ours
    (purpose=deposit) but not linked yet, so it is refused for redelivery (503), not acknowledged and lost."""
    store = containers(table_name, dynamo_client, 1)[0]
    account_id = open_account(store)
    dep = checkout_deposit(store, account_id, f"top-up-{uuid.uuid4().hex}")
    intent_id = f"pi_{uuid.uuid4().hex[:16]}"
    refund = signed("charge.refunded", refund_of(dep, intent_id), f"evt_re_{uuid.uuid4().hex}")
    with pytest.raises(ServiceUnavailable):
        deliver(store, refund)
    completed = signed("checkout.session.completed", session_of(dep, intent_id), f"evt_cs_{uuid.uuid4().hex}")
    assert deliver(store, completed)["outcome"] == "credited"
    assert deliver(store, refund)["outcome"] == "reversed"
    assert store.get_account(account_id).balance == 0  # type: ignore[union-attr]
    assert_ledger_consistent(store, account_id)


def test_completions_and_a_refund_of_the_intent_racing_end_reversed(
    ddb_endpoint: str, table_name: str, dynamo_client: Any, fake: stripe_fake.FakeStripe
) -> None:
    """The intent's link is committed with the credit: a refund that finds it finds the deposit credited. A refund
    that comes too early is refused (503) and redelivered at once, racing the completion's commit, until it takes
    the credit back: exactly once."""
    store = containers(table_name, dynamo_client, 1)[0]
    account_id = open_account(store)
    dep = checkout_deposit(store, account_id, f"top-up-{uuid.uuid4().hex}")
    intent_id = f"pi_{uuid.uuid4().hex[:16]}"
    completed = signed("checkout.session.completed", session_of(dep, intent_id), f"evt_cs_{uuid.uuid4().hex}")
    refund = signed("charge.refunded", refund_of(dep, intent_id), f"evt_re_{uuid.uuid4().hex}")

    answers = in_processes(ddb_endpoint, table_name, fake, [completed, refund] * (PROCESSES // 2), redeliveries=500)

    completions, refunds = Counter(o for o, _ in answers[0::2]), Counter(o for o, _ in answers[1::2])
    assert completions == {"credited": 1, "duplicate": 1}, answers
    assert refunds == {"reversed": 1, "duplicate": 1}, answers
    assert deliver(store, refund)["outcome"] == "duplicate"
    entries = all_entries(store, account_id)
    assert sorted((e.type, e.amount) for e in entries) == [("deposit_card", AMOUNT), ("deposit_reversal", -AMOUNT)]
    assert store.get_account(account_id).balance == 0  # type: ignore[union-attr]
    assert svc.get_deposit(store, account_id, dep["deposit_id"])["state"] == "reversed"
    assert_ledger_consistent(store, account_id)
