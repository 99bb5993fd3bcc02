"""The Stripe adapter with the real ``stripe`` package: API calls answered by a local fake Stripe,
webhook signatures computed here by hand per Stripe's documented scheme and checked by the SDK."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import _deposit_support as sup
import pytest
from _stripe_support import (
    API_KEY,
    PORTAL,
    SECRET,
    SESSION,
    SUCCEEDED,
    FakeStripe,
    adapter,
    event,
    serving,
    stripe_signature,
)
from _support import customer_of

from account_credit.deposits import config as deposit_config
from account_credit.deposits import schemas as ds
from account_credit.deposits import service as svc
from account_credit.kernel.domain import Account
from account_credit.kernel.errors import ConcurrentUpdate, InvalidInput, PaymentProviderError, ServiceUnavailable
from account_credit.kernel.money import Money
from account_credit.payment_methods import service as payment_methods
from account_credit.platform import config, payments
from account_credit.platform.payments.port import InvalidSignature, SavedCard
from account_credit.platform.payments.stripe_provider import StripeProvider
from account_credit.platform.store.memory import MemoryStore


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    """The fake Stripe (tests/unit/_stripe_support.py), serving for one test."""
    with serving() as state:
        yield state


# --------------------------------------------------------------------------- API calls


def test_checkout_creates_a_stripe_checkout_session_with_our_idempotency_key(fake: FakeStripe) -> None:
    checkout = adapter(fake).create_checkout(
        amount=Money(12_345, "EUR"),
        account_id="acc_1",
        deposit_id="dep_1",
        idempotency_key="deposit-acc_1-k1",
        save_card=False,
    )
    assert checkout.provider == "stripe" and checkout.client_secret is None
    assert checkout.payment_id.startswith("cs_test_fake_")
    assert checkout.checkout_url == f"https://checkout.stripe.com/c/pay/{checkout.payment_id}"
    [req] = fake.requests
    assert (req["method"], req["path"]) == ("POST", "/v1/checkout/sessions")
    assert req["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert req["headers"]["Idempotency-Key"] == "deposit-acc_1-k1"
    form = req["form"]
    assert form["mode"] == "payment"
    line = {k.removeprefix("line_items[0]"): v for k, v in form.items() if k.startswith("line_items[0]")}
    assert line == {
        "[price_data][currency]": "eur",
        "[price_data][unit_amount]": "12345",
        "[price_data][product_data][name]": "Account credit top-up",
        "[quantity]": "1",
    }
    meta = {"purpose": "deposit", "account_id": "acc_1", "save_card": "false"}
    assert {k: form[f"metadata[{k}]"] for k in meta} == meta
    assert {k: form[f"payment_intent_data[metadata][{k}]"] for k in meta} == meta
    assert form["payment_intent_data[metadata][via]"] == "checkout"
    assert form["payment_intent_data[description]"] == "Account credit top-up"
    assert form["success_url"] == f"{PORTAL}/#/a/acc_1/top-up?checkout=done&session={{CHECKOUT_SESSION_ID}}"
    assert form["cancel_url"] == f"{PORTAL}/#/a/acc_1/top-up?checkout=cancelled"
    assert "customer" not in form and "payment_intent_data[setup_future_usage]" not in form
    assert not any("dep_1" in v for v in form.values()), "the deposit id differs between attempts"


def test_a_retry_with_the_same_key_gets_the_same_session(fake: FakeStripe) -> None:
    """After a failed commit the deposit id is new; Stripe must still see an identical idempotent request."""
    checkouts = [
        adapter(fake).create_checkout(
            amount=Money(5_000, "EUR"), account_id="acc_1", deposit_id=deposit_id, idempotency_key="k", save_card=True
        )
        for deposit_id in ("dep_first_try", "dep_second_try")
    ]
    assert checkouts[0] == checkouts[1]
    first, second = fake.requests[:2], fake.requests[2:]
    assert [(r["path"], r["form"], r["headers"]["Idempotency-Key"]) for r in first] == [
        (r["path"], r["form"], r["headers"]["Idempotency-Key"]) for r in second
    ]
    # Another amount under the same key is Stripe's idempotency error: ours is a concurrent update.
    with pytest.raises(ConcurrentUpdate):
        adapter(fake).create_checkout(
            amount=Money(6_000, "EUR"), account_id="acc_1", deposit_id="d", idempotency_key="k", save_card=True
        )


def test_checkout_that_saves_the_card_creates_a_customer_for_off_session_use(fake: FakeStripe) -> None:
    adapter(fake).create_checkout(
        amount=Money(5_000, "USD"), account_id="acc_1", deposit_id="dep_2", idempotency_key="k2", save_card=True
    )
    customer, session = fake.requests
    assert customer["path"] == "/v1/customers" and customer["headers"]["Idempotency-Key"] == "k2:customer"
    assert customer["form"]["metadata[account_id]"] == "acc_1"
    form = session["form"]
    assert form["customer"] == "cus_fake_1" and form["payment_intent_data[setup_future_usage]"] == "off_session"
    assert form["metadata[save_card]"] == form["payment_intent_data[metadata][save_card]"] == "true"


def test_without_the_portal_url_card_top_ups_are_refused_before_any_call(
    fake: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PORTAL_URL", raising=False)
    config.settings.cache_clear()
    with pytest.raises(PaymentProviderError, match="PORTAL_URL"):
        adapter(fake, portal_url=None).create_checkout(
            amount=Money(5_000, "EUR"), account_id="a", deposit_id="d", idempotency_key="k", save_card=False
        )
    assert fake.requests == []
    monkeypatch.setenv("PORTAL_URL", "https://portal.example.test/portal/")
    config.settings.cache_clear()
    adapter(fake, portal_url=None).create_checkout(
        amount=Money(5_000, "EUR"), account_id="a", deposit_id="d", idempotency_key="k", save_card=False
    )
    assert (
        fake.requests[0]["form"]["cancel_url"] == "https://portal.example.test/portal/#/a/a/top-up?checkout=cancelled"
    )


@pytest.mark.parametrize("raw", ["portal.example.test", "ftp://x/portal", "https://x/portal?a=1", "https://x/#/p"])
def test_a_malformed_portal_url_names_the_variable(raw: str) -> None:
    with pytest.raises(config.ConfigurationError, match="PORTAL_URL"):
        config.from_environment({"PORTAL_URL": raw})


def test_charging_a_saved_card_confirms_off_session(fake: FakeStripe) -> None:
    card = SavedCard(provider="stripe", token="pm_card_1", brand="visa", last4="4242", exp_month=1, exp_year=2030)
    charge = adapter(fake).charge_saved_card(
        amount=Money(990, "EUR"), card=card, account_id="acc_1", reference="ord_1", idempotency_key="order-ord_1"
    )
    assert charge.status == "succeeded" and charge.payment_id and charge.payment_id.startswith("pi_fake_")
    lookup, intent = fake.requests
    assert (lookup["method"], lookup["path"]) == ("GET", "/v1/payment_methods/pm_card_1")
    form = intent["form"]
    assert (form["customer"], form["payment_method"], form["off_session"], form["confirm"]) == (
        "cus_fake_1",
        "pm_card_1",
        "true",
        "true",
    )
    assert intent["headers"]["Idempotency-Key"] == "order-ord_1"


def test_a_refund_goes_to_stripe_with_our_idempotency_key(fake: FakeStripe) -> None:
    refund = adapter(fake).refund(
        payment_id="pi_fake_9", amount=Money(2_500, "EUR"), reference="order-7", idempotency_key="cancel-7"
    )
    assert (refund.status, refund.refund_id) == ("succeeded", "re_fake_1")
    [req] = fake.requests
    assert (req["method"], req["path"]) == ("POST", "/v1/refunds")
    assert req["headers"]["Idempotency-Key"] == "cancel-7"
    assert (req["form"]["payment_intent"], req["form"]["amount"]) == ("pi_fake_9", "2500")


def test_a_refund_stripe_refuses_is_a_failed_refund_not_an_error(fake: FakeStripe) -> None:
    refund = adapter(fake).refund(payment_id="bogus", amount=Money(1, "EUR"), reference="r", idempotency_key="k")
    assert refund.status == "failed" and "No such payment_intent" in refund.message


def test_a_card_error_is_a_declined_charge(fake: FakeStripe) -> None:
    card = SavedCard(provider="stripe", token="pm_card_2", brand="visa", last4="0002", exp_month=1, exp_year=2030)
    provider = adapter(fake)
    fake.fail_on = "/v1/payment_intents"  # the card is found, the charge is declined
    fake.fail_with = (
        402,
        {
            "error": {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.",
                "payment_intent": {
                    "id": "pi_declined_1",
                    "object": "payment_intent",
                    "status": "requires_payment_method",
                },
            }
        },
    )
    charge = provider.charge_saved_card(
        amount=Money(990, "EUR"), card=card, account_id="acc_1", reference="ord_2", idempotency_key="order-ord_2"
    )
    assert (charge.status, charge.decline_code, charge.payment_id) == (
        "declined",
        "insufficient_funds",
        "pi_declined_1",
    )
    assert "insufficient funds" in charge.message
    assert [r["path"] for r in fake.requests] == ["/v1/payment_methods/pm_card_2", "/v1/payment_intents"]


@pytest.mark.parametrize(
    ("status", "error", "raised"),
    [
        (500, {"type": "api_error", "message": "boom"}, PaymentProviderError),
        (401, {"type": "invalid_request_error", "message": "Invalid API Key"}, PaymentProviderError),
        (400, {"type": "idempotency_error", "message": "Keys for idempotent requests..."}, ConcurrentUpdate),
    ],
)
def test_provider_errors_become_domain_errors(fake: FakeStripe, status: int, error: dict, raised: type) -> None:
    fake.fail_with = (status, {"error": error})
    with pytest.raises(raised):
        adapter(fake).create_checkout(
            amount=Money(5_000, "EUR"), account_id="a", deposit_id="d", idempotency_key="k", save_card=False
        )


def test_unsupported_currencies_and_a_missing_key_are_refused_before_any_call(fake: FakeStripe) -> None:
    with pytest.raises(InvalidInput):
        adapter(fake).create_checkout(
            amount=Money(5_000, "HUF"), account_id="a", deposit_id="d", idempotency_key="k", save_card=False
        )
    with pytest.raises(PaymentProviderError):
        StripeProvider(api_key="", webhook_secret=SECRET, api_base=fake.base).create_checkout(
            amount=Money(5_000, "EUR"), account_id="a", deposit_id="d", idempotency_key="k", save_card=False
        )
    assert fake.requests == []


# --------------------------------------------------------------------------- webhooks


def test_a_correctly_signed_event_is_verified_by_the_sdk_and_normalised() -> None:
    payload = event("payment_intent.succeeded", SUCCEEDED)
    parsed = adapter().parse_webhook(payload, {"Stripe-Signature": stripe_signature(payload)})
    assert (parsed.provider, parsed.type, parsed.raw_type) == (
        "stripe",
        "payment.succeeded",
        "payment_intent.succeeded",
    )
    assert (parsed.event_id, parsed.payment_id) == ("evt_1NG8Du2eZvKYlo2CUI79vXWy", "pi_3NG8Du2eZvKYlo2C0")
    assert parsed.amount == Money(2000, "EUR") and parsed.metadata["deposit_id"] == "dep_1" and parsed.card is None


def test_header_names_are_case_insensitive_and_any_matching_v1_signature_counts() -> None:
    payload = event("payment_intent.succeeded", SUCCEEDED)
    ts = int(time.time())
    rotated = (
        stripe_signature(payload, "whsec_old_secret", ts) + "," + stripe_signature(payload, SECRET, ts).split(",")[1]
    )
    assert adapter().parse_webhook(payload, {"stripe-signature": rotated}).type == "payment.succeeded"


@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda p: None, id="missing"),
        pytest.param(lambda p: stripe_signature(p, "whsec_wrong"), id="wrong-secret"),
        pytest.param(lambda p: stripe_signature(p + b"\n"), id="other-body"),
        pytest.param(lambda p: stripe_signature(p, scheme="v0"), id="v0-only"),
        pytest.param(lambda p: stripe_signature(p, timestamp=int(time.time()) - 301), id="301s-old"),
        pytest.param(lambda p: stripe_signature(p, timestamp=int(time.time()) + 301), id="301s-ahead"),
        pytest.param(lambda p: "v1=" + stripe_signature(p).split("v1=")[1], id="no-timestamp"),
    ],
)
def test_bad_signatures_are_refused(make_header: Any) -> None:
    payload = event("payment_intent.succeeded", SUCCEEDED)
    header = make_header(payload)
    with pytest.raises(InvalidSignature):
        adapter().parse_webhook(payload, {"Stripe-Signature": header} if header else {})


def test_without_a_configured_secret_nothing_verifies() -> None:
    payload = event("payment_intent.succeeded", SUCCEEDED)
    with pytest.raises(InvalidSignature):
        StripeProvider(api_key=API_KEY, webhook_secret="").parse_webhook(
            payload, {"Stripe-Signature": stripe_signature(payload, "")}
        )


@pytest.mark.parametrize(
    ("event_type", "obj", "expected"),
    [
        (
            "payment_intent.payment_failed",
            {
                **SUCCEEDED,
                "status": "requires_payment_method",
                "amount_received": 0,
                "last_payment_error": {"message": "Your card was declined."},
            },
            ("payment.failed", "pi_3NG8Du2eZvKYlo2C0", 2000),
        ),
        (
            "charge.refunded",
            {
                "id": "ch_3NG8",
                "object": "charge",
                "amount": 2000,
                "amount_refunded": 500,
                "currency": "eur",
                "payment_intent": "pi_3NG8Du2eZvKYlo2C0",
                "refunded": False,
            },
            ("payment.refunded", "pi_3NG8Du2eZvKYlo2C0", 500),
        ),
        (
            "charge.dispute.created",
            {
                "id": "dp_1",
                "object": "dispute",
                "amount": 2000,
                "currency": "eur",
                "charge": "ch_3NG8",
                "payment_intent": "pi_3NG8Du2eZvKYlo2C0",
                "status": "needs_response",
            },
            ("payment.disputed", "pi_3NG8Du2eZvKYlo2C0", 2000),
        ),
        ("customer.created", {"id": "cus_1", "object": "customer"}, ("ignored", None, None)),
        ("charge.refunded", {"id": "ch_1", "object": "charge", "amount_refunded": 5}, ("ignored", None, None)),
    ],
)
def test_event_types_are_normalised(event_type: str, obj: dict[str, Any], expected: tuple) -> None:
    payload = event(event_type, obj)
    parsed = adapter().parse_webhook(payload, {"Stripe-Signature": stripe_signature(payload)})
    amount = parsed.amount.amount if parsed.amount else None
    assert (parsed.type, parsed.payment_id, amount) == expected
    if parsed.type == "payment.failed":
        assert parsed.failure_message == "Your card was declined."


def test_a_card_saved_at_top_up_is_read_from_stripe(fake: FakeStripe) -> None:
    obj = {**SUCCEEDED, "metadata": {**SUCCEEDED["metadata"], "save_card": "true"}}
    payload = event("payment_intent.succeeded", obj)
    parsed = adapter(fake).parse_webhook(payload, {"Stripe-Signature": stripe_signature(payload)})
    assert parsed.card == SavedCard(
        provider="stripe", token="pm_1NG8Du2eZvKYlo2C", brand="mastercard", last4="4444", exp_month=7, exp_year=2031
    )
    fake.fail_with = (500, {"error": {"type": "api_error", "message": "down"}})
    assert adapter(fake).parse_webhook(payload, {"Stripe-Signature": stripe_signature(payload)}).card is None


def test_from_env_reads_the_configured_secrets(monkeypatch: pytest.MonkeyPatch, fake: FakeStripe) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_from_env")
    monkeypatch.delenv("PAYMENT_SECRETS_ARN", raising=False)
    provider = StripeProvider.from_env()
    payload = event("payment_intent.succeeded", SUCCEEDED)
    assert provider.parse_webhook(payload, {"Stripe-Signature": stripe_signature(payload)}).type == "payment.succeeded"
    provider.api_base, provider.max_network_retries, provider.portal_url = fake.base, 0, PORTAL
    provider.create_checkout(
        amount=Money(100, "EUR"), account_id="a", deposit_id="d", idempotency_key="k", save_card=False
    )
    assert fake.requests[0]["headers"]["Authorization"] == "Bearer sk_test_from_env"


# --------------------------------------------------------------------------- Checkout Session events


def parsed_event(event_type: str, obj: dict[str, Any], provider: StripeProvider | None = None) -> Any:
    payload = event(event_type, obj)
    return (provider or adapter()).parse_webhook(payload, {"Stripe-Signature": stripe_signature(payload)})


@pytest.mark.parametrize(
    ("event_type", "obj", "expected"),
    [
        ("checkout.session.completed", SESSION, ("payment.succeeded", "cs_test_a1B2c3", 2000, "pi_3NG8Du2eZvKYlo2C0")),
        (
            "checkout.session.async_payment_succeeded",
            SESSION,
            ("payment.succeeded", "cs_test_a1B2c3", 2000, "pi_3NG8Du2eZvKYlo2C0"),
        ),
        (
            "checkout.session.async_payment_failed",
            {**SESSION, "payment_status": "unpaid"},
            ("payment.failed", "cs_test_a1B2c3", 2000, None),
        ),
        (
            "checkout.session.expired",
            {**SESSION, "payment_status": "unpaid", "status": "expired", "payment_intent": None},
            ("payment.failed", "cs_test_a1B2c3", 2000, None),
        ),
        # Paid later by an asynchronous method: the async_payment_* event decides.
        ("checkout.session.completed", {**SESSION, "payment_status": "unpaid"}, ("ignored", None, None, None)),
        ("checkout.session.completed", {**SESSION, "mode": "setup"}, ("ignored", None, None, None)),
        # The intent a session created: the session's events do the work (no 503 loop for an unlinked intent).
        (
            "payment_intent.succeeded",
            {**SUCCEEDED, "metadata": {**SUCCEEDED["metadata"], "via": "checkout"}},
            ("ignored", None, None, None),
        ),
        (
            "payment_intent.payment_failed",
            {**SUCCEEDED, "metadata": {**SUCCEEDED["metadata"], "via": "checkout"}},
            ("ignored", None, None, None),
        ),
    ],
)
def test_checkout_session_events_are_normalised(event_type: str, obj: dict[str, Any], expected: tuple) -> None:
    parsed = parsed_event(event_type, obj)
    amount = parsed.amount.amount if parsed.amount else None
    assert (parsed.type, parsed.payment_id, amount, parsed.also_known_as) == expected
    assert parsed.raw_type == event_type
    if parsed.type == "payment.failed":
        assert parsed.failure_message


def test_a_card_saved_at_a_checkout_is_read_from_the_sessions_payment_intent(fake: FakeStripe) -> None:
    obj = {**SESSION, "metadata": {**SESSION["metadata"], "save_card": "true"}}
    parsed = parsed_event("checkout.session.completed", obj, adapter(fake))
    assert parsed.card == SavedCard(
        provider="stripe", token="pm_from_checkout", brand="visa", last4="4242", exp_month=3, exp_year=2032
    )
    [lookup] = fake.requests
    assert (lookup["method"], lookup["path"]) == ("GET", "/v1/payment_intents/pi_3NG8Du2eZvKYlo2C0")
    assert lookup["form"]["expand[0]"] == "payment_method"
    fake.fail_with = (500, {"error": {"type": "api_error", "message": "down"}})
    assert parsed_event("checkout.session.completed", obj, adapter(fake)).card is None, "the credit does not wait"


# --------------------------------------------------------------------------- a top-up through Checkout, end to end


@pytest.fixture
def stripe_deposits(fake: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The deposit service with PAYMENT_PROVIDER=stripe, its adapter talking to the fake Stripe."""
    sup.configure(monkeypatch, PAYMENT_PROVIDER="stripe")
    monkeypatch.setattr(payments, "provider", lambda name=None: adapter(fake))
    yield
    deposit_config.deposit_settings.cache_clear()


def checkout_deposit(store: MemoryStore, account: Account, key: str, save_card: bool = False) -> dict[str, Any]:
    command = ds.DepositCreate(method="card", amount=5_000, save_card=save_card).command(
        account.account_id, key, customer_of(account).actor
    )
    return svc.create_deposit(store, command).body


def deliver(store: MemoryStore, event_type: str, obj: dict[str, Any], event_id: str) -> dict[str, Any]:
    payload = event(event_type, obj, event_id)
    return svc.receive_webhook(store, "stripe", payload, {"Stripe-Signature": stripe_signature(payload)})


@pytest.mark.usefixtures("stripe_deposits")
def test_a_checkout_top_up_is_credited_once_and_a_refund_of_its_intent_takes_it_back(
    store: MemoryStore, open_account: Callable[..., Account]
) -> None:
    acc = open_account("EUR")
    dep = checkout_deposit(store, acc, "k1", save_card=True)
    session_id = dep["payment_id"]
    assert session_id.startswith("cs_test_fake_") and dep["state"] == "pending"
    assert dep["checkout"] == {
        "provider": "stripe",
        "payment_id": session_id,
        "client_secret": None,
        "checkout_url": f"https://checkout.stripe.com/c/pay/{session_id}",
    }
    assert checkout_deposit(store, acc, "k1", save_card=True) == dep, "a replay opens no second session"
    meta = {"purpose": "deposit", "account_id": acc.account_id, "save_card": "true"}
    session = {**SESSION, "id": session_id, "amount_total": 5_000, "payment_intent": "pi_paid_1", "metadata": meta}
    intent = {
        **SUCCEEDED,
        "id": "pi_paid_1",
        "amount": 5_000,
        "amount_received": 5_000,
        "metadata": {**meta, "via": "checkout"},
    }

    # The intent's own event may come first: acknowledged, nothing done (no "not known yet" 503).
    assert deliver(store, "payment_intent.succeeded", intent, "evt_pi")["outcome"] == "ignored"
    ack = deliver(store, "checkout.session.completed", session, "evt_cs")
    assert (ack["outcome"], ack["deposit_id"]) == ("credited", dep["deposit_id"])
    assert deliver(store, "checkout.session.completed", session, "evt_cs")["outcome"] == "duplicate"
    assert store.get_account(acc.account_id).balance == 5_000
    [card] = payment_methods.list_methods(store, acc.account_id)
    assert card.card is not None and (card.card.token, card.card.last4) == ("pm_from_checkout", "4242")

    refund = {
        "id": "ch_paid_1",
        "object": "charge",
        "amount": 5_000,
        "amount_refunded": 5_000,
        "currency": "eur",
        "payment_intent": "pi_paid_1",
        "refunded": True,
    }
    ack = deliver(store, "charge.refunded", refund, "evt_refund")
    assert (ack["outcome"], ack["deposit_id"]) == ("reversed", dep["deposit_id"])
    assert deliver(store, "charge.refunded", refund, "evt_refund")["outcome"] == "duplicate"
    assert store.get_account(acc.account_id).balance == 0
    assert svc.get_deposit(store, acc.account_id, dep["deposit_id"])["state"] == "reversed"


def test_a_dispute_that_overtakes_its_checkouts_completion_is_delivered_again_not_lost(
    fake: FakeStripe, stripe_deposits: None, store: MemoryStore, open_account: Callable[..., Account]
) -> None:
    """A dispute's charge carries no metadata and names the PaymentIntent, linked only when the completion is
    applied: while the completion's deliveries keep failing, the dispute asks Stripe whose payment it is and, a
    top-up's, answers 503 so Stripe delivers it again."""
    acc = open_account("EUR")
    dep = checkout_deposit(store, acc, "k-dispute")
    meta = {"purpose": "deposit", "account_id": acc.account_id, "save_card": "false"}
    fake.intent_metadata["pi_disputed_1"] = {**meta, "via": "checkout"}
    dispute = {"id": "dp_1", "object": "dispute", "amount": 5_000, "currency": "eur", "payment_intent": "pi_disputed_1"}
    with pytest.raises(ServiceUnavailable, match="not known yet"):
        deliver(store, "charge.dispute.created", dispute, "evt_dispute")
    assert store.get_account(acc.account_id).balance == 0

    session = {**SESSION, "id": dep["payment_id"], "amount_total": 5_000, "payment_intent": "pi_disputed_1"}
    session["metadata"] = meta
    assert deliver(store, "checkout.session.completed", session, "evt_done")["outcome"] == "credited"
    ack = deliver(store, "charge.dispute.created", dispute, "evt_dispute")
    assert (ack["outcome"], ack["deposit_id"]) == ("reversed", dep["deposit_id"])
    assert store.get_account(acc.account_id).balance == 0

    # Someone else's payment (an order's) is acknowledged; a Stripe that cannot answer makes it a 503, not a loss.
    fake.intent_metadata["pi_order_1"] = {"purpose": "order", "account_id": acc.account_id}
    other = {**dispute, "id": "dp_2", "payment_intent": "pi_order_1"}
    assert deliver(store, "charge.dispute.created", other, "evt_other")["outcome"] == "ignored"
    fake.fail_with = (500, {"error": {"type": "api_error", "message": "down"}})
    with pytest.raises(ServiceUnavailable, match="could not tell"):
        deliver(store, "charge.dispute.created", {**dispute, "payment_intent": "pi_unknown"}, "evt_down")


@pytest.mark.usefixtures("stripe_deposits")
def test_an_expired_checkout_fails_its_deposit(store: MemoryStore, open_account: Callable[..., Account]) -> None:
    acc = open_account("EUR")
    dep = checkout_deposit(store, acc, "k2")
    expired = {
        **SESSION,
        "id": dep["payment_id"],
        "amount_total": 5_000,
        "payment_status": "unpaid",
        "status": "expired",
        "payment_intent": None,
    }
    assert deliver(store, "checkout.session.expired", expired, "evt_exp")["outcome"] == "failed"
    view = svc.get_deposit(store, acc.account_id, dep["deposit_id"])
    assert (view["state"], view["failure_message"]) == ("failed", "the checkout expired unpaid")
    assert store.get_account(acc.account_id).balance == 0
