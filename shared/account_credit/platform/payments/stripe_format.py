"""Stripe's webhook format, shared by every adapter that speaks it (stripe, sandbox) and the bank webhook.

One verification path: ``verify`` checks the ``t=<unix>,v1=<hex>`` signature header with the
official SDK (``stripe.WebhookSignature.verify_header``: HMAC-SHA256 of ``"<t>.<payload>"``
with the endpoint secret, constant-time compare, any of several ``v1`` signatures, timestamps
older than the tolerance refused) and adds the bound the SDK does not check: a timestamp more
than the tolerance in the **future** is refused too, so a captured request cannot be
pre-dated for later replay.

``normalise`` maps a Stripe-shaped event onto the port's ``WebhookEvent``:

==========================================  ===================  ==========================================
Stripe event                                normalised type      amount
==========================================  ===================  ==========================================
checkout.session.completed (``paid``)       payment.succeeded    ``amount_total``
checkout.session.async_payment_succeeded    payment.succeeded    ``amount_total``
checkout.session.async_payment_failed       payment.failed       ``amount_total``
checkout.session.expired                    payment.failed       ``amount_total``
payment_intent.succeeded                    payment.succeeded    ``amount_received`` (what was captured)
payment_intent.payment_failed               payment.failed       -
charge.refunded                             payment.refunded     ``amount_refunded`` (cumulative, all refunds)
charge.dispute.created                      payment.disputed     dispute ``amount``
anything else                               ignored              -
==========================================  ===================  ==========================================

``payment_id`` is what the deposit's payment link is keyed by: the Checkout Session id
(``cs_...``) for the session events, the PaymentIntent id otherwise. A session's success also
carries its PaymentIntent id as ``also_known_as``: the credit links that id to the deposit too,
so the charge's refund or dispute (which name the intent) find it. A ``checkout.session.completed``
whose payment is still pending (``payment_status`` ``unpaid``, an asynchronous method) is ignored:
the ``async_payment_*`` event decides. PaymentIntent events of an intent a Checkout Session
created (metadata ``via=checkout``) are ignored: the session's events do the work, and the
intent alone has no deposit link until the session succeeded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from account_credit.kernel.money import Money, UnknownCurrency
from account_credit.platform.payments.port import InvalidSignature, SavedCard, WebhookEvent

TOLERANCE_SECONDS = 300
SCHEME = "v1"

CardLookup = Callable[[str], SavedCard | None]


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A request header by case-insensitive name (API Gateway v2 lower-cases them, tests may not)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The signature header for ``payload``, per Stripe's documented scheme (used by the sandbox and tools)."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},{SCHEME}={mac}"


def _timestamp(sig_header: str) -> int:
    for part in sig_header.split(","):
        key, _, value = part.partition("=")
        if key.strip() == "t":
            return int(value)
    raise InvalidSignature("signature header has no timestamp")


def verify(
    payload: bytes, sig_header: str | None, secret: str, *, tolerance: int = TOLERANCE_SECONDS
) -> dict[str, Any]:
    """Verify signature and timestamp (both directions); return the JSON body. Raises InvalidSignature."""
    import stripe

    if not secret:
        raise InvalidSignature("no webhook secret is configured for this endpoint")
    if not sig_header:
        raise InvalidSignature("signature header missing")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSignature("payload is not UTF-8") from None
    try:
        stripe.WebhookSignature.verify_header(text, sig_header, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise InvalidSignature(str(exc).split(".")[0]) from None
    try:
        ts = _timestamp(sig_header)
    except ValueError:
        raise InvalidSignature("signature timestamp is not a number") from None
    if ts > time.time() + tolerance:
        raise InvalidSignature(f"timestamp {ts} is more than {tolerance}s in the future")
    try:
        body = json.loads(text)
    except ValueError:
        raise InvalidSignature("payload is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidSignature("payload is not a JSON object")
    return body


def _money(amount: Any, currency: Any) -> Money | None:
    if type(amount) is not int or not isinstance(currency, str):
        return None
    try:
        return Money(amount, currency.upper())
    except UnknownCurrency:
        return None


def _card_from_object(provider: str, pm: Mapping[str, Any]) -> SavedCard | None:
    card = pm.get("card")
    if not isinstance(card, Mapping) or not isinstance(pm.get("id"), str):
        return None
    return SavedCard(
        provider=provider,
        token=str(pm["id"]),
        brand=str(card.get("brand", "")),
        last4=str(card.get("last4", "")),
        exp_month=int(card.get("exp_month", 0)),
        exp_year=int(card.get("exp_year", 0)),
    )


SESSION_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)


def normalise(
    provider: str,
    event: Mapping[str, Any],
    card_lookup: CardLookup | None = None,
    intent_card_lookup: CardLookup | None = None,
) -> WebhookEvent:
    """The port's WebhookEvent for a verified Stripe-shaped event (see the module table).

    ``card_lookup`` reads a payment method by id, ``intent_card_lookup`` a PaymentIntent's payment method by the
    intent's id (a Checkout Session names only its intent); either may answer None."""
    event_id = event.get("id")
    raw_type = str(event.get("type", ""))
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(event_id, str) or not event_id or not isinstance(obj, Mapping):
        raise InvalidSignature("signed payload is not a provider event (id, type, data.object)")

    def ignored() -> WebhookEvent:
        return WebhookEvent(provider=provider, event_id=event_id, type="ignored", raw_type=raw_type)

    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    currency = obj.get("currency")
    if raw_type in SESSION_EVENTS:
        return _session_event(provider, event_id, raw_type, obj, meta, intent_card_lookup) or ignored()
    if raw_type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        if meta.get("via") == "checkout":
            return ignored()
        payment_id = obj.get("id")
        received = obj.get("amount_received") if raw_type.endswith("succeeded") else obj.get("amount")
        amount = _money(received if received else obj.get("amount"), currency)
        if not isinstance(payment_id, str) or amount is None:
            return ignored()
        if raw_type == "payment_intent.payment_failed":
            error = obj.get("last_payment_error")
            message = str(error.get("message", "")) if isinstance(error, Mapping) else ""
            return WebhookEvent(
                provider=provider,
                event_id=event_id,
                type="payment.failed",
                raw_type=raw_type,
                payment_id=payment_id,
                amount=amount,
                metadata=meta,
                failure_message=message or "payment failed",
            )
        card = None
        pm = obj.get("payment_method")
        if meta.get("save_card") == "true":
            if isinstance(pm, Mapping):
                card = _card_from_object(provider, pm)
            elif isinstance(pm, str) and card_lookup is not None:
                card = card_lookup(pm)
        return WebhookEvent(
            provider=provider,
            event_id=event_id,
            type="payment.succeeded",
            raw_type=raw_type,
            payment_id=payment_id,
            amount=amount,
            metadata=meta,
            card=card,
        )
    if raw_type in ("charge.refunded", "charge.dispute.created"):
        payment_id = obj.get("payment_intent")
        refund = raw_type == "charge.refunded"
        amount = _money(obj.get("amount_refunded") if refund else obj.get("amount"), currency)
        if not isinstance(payment_id, str) or amount is None:
            return ignored()
        return WebhookEvent(
            provider=provider,
            event_id=event_id,
            type="payment.refunded" if refund else "payment.disputed",
            raw_type=raw_type,
            payment_id=payment_id,
            amount=amount,
            metadata=meta,
        )
    return ignored()


def _session_event(
    provider: str,
    event_id: str,
    raw_type: str,
    obj: Mapping[str, Any],
    meta: dict[str, str],
    intent_card_lookup: CardLookup | None,
) -> WebhookEvent | None:
    """A Checkout Session event (see the module table); None: ignored."""
    session_id = obj.get("id")
    amount = _money(obj.get("amount_total"), obj.get("currency"))
    if not isinstance(session_id, str) or amount is None or obj.get("mode", "payment") != "payment":
        return None
    if raw_type in ("checkout.session.async_payment_failed", "checkout.session.expired"):
        expired = raw_type == "checkout.session.expired"
        return WebhookEvent(
            provider=provider,
            event_id=event_id,
            type="payment.failed",
            raw_type=raw_type,
            payment_id=session_id,
            amount=amount,
            metadata=meta,
            failure_message="the checkout expired unpaid" if expired else "the payment failed",
        )
    if obj.get("payment_status") != "paid" or amount.amount <= 0:
        return None  # still pending (an asynchronous method): async_payment_succeeded/failed decides
    intent = obj.get("payment_intent")
    intent_id = intent.get("id") if isinstance(intent, Mapping) else intent
    card = None
    if meta.get("save_card") == "true":
        pm = intent.get("payment_method") if isinstance(intent, Mapping) else None
        if isinstance(pm, Mapping):
            card = _card_from_object(provider, pm)
        elif isinstance(intent_id, str) and intent_card_lookup is not None:
            card = intent_card_lookup(intent_id)
    return WebhookEvent(
        provider=provider,
        event_id=event_id,
        type="payment.succeeded",
        raw_type=raw_type,
        payment_id=session_id,
        amount=amount,
        metadata=meta,
        card=card,
        also_known_as=intent_id if isinstance(intent_id, str) and intent_id else None,
    )
