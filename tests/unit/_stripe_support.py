"""The fake Stripe of the Stripe tests: a local HTTP server answering the few endpoints the adapter uses, like
api.stripe.com would, and Stripe's documented webhook signing by hand. Shared by tests/unit/test_deposits_stripe.py
and the DynamoDB Local tests of Checkout top-ups (tests/integration/test_deposits_checkout_dynamodb.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from account_credit.platform.payments.stripe_provider import StripeProvider

SECRET = "whsec_test_0123456789abcdef"
API_KEY = "sk_test_fake_0123456789"


@dataclass
class FakeStripe:
    """Answers the few endpoints the adapter uses, like api.stripe.com would, and records every request."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    # Idempotency-Key -> (path, form, answer): the same key replays the answer, other parameters are refused.
    keyed: dict[str, tuple[str, dict[str, str], tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    fail_with: tuple[int, dict[str, Any]] | None = None
    fail_on: str = "/v1/"  # path prefix the failure applies to
    base: str = ""
    intent_metadata: dict[str, dict[str, str]] = field(default_factory=dict)  # PaymentIntent id -> its metadata

    def keyed_answer(self, key: str | None, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if key is None or method != "POST":
            return self.answer(method, path, form)
        if key in self.keyed:
            old_path, old_form, answer = self.keyed[key]
            if (old_path, old_form) != (path, form):
                return 400, {"error": {"type": "idempotency_error", "message": "Keys for idempotent requests..."}}
            return answer
        answer = self.answer(method, path, form)
        if answer[0] < 500:
            self.keyed[key] = (path, form, answer)
        return answer

    def answer(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.fail_with is not None and path.startswith(self.fail_on):
            return self.fail_with
        if method == "POST" and path == "/v1/checkout/sessions":
            sid = "cs_test_fake_" + hashlib.sha256(json.dumps(form, sort_keys=True).encode()).hexdigest()[:12]
            return 200, {
                "id": sid,
                "object": "checkout.session",
                "mode": form["mode"],
                "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
                "currency": form["line_items[0][price_data][currency]"],
                "payment_status": "unpaid",
                "status": "open",
                "payment_intent": None,
                "url": f"https://checkout.stripe.com/c/pay/{sid}",
                "metadata": {},
            }
        if method == "GET" and path.startswith("/v1/payment_intents/"):
            pm = {
                "id": "pm_from_checkout",
                "object": "payment_method",
                "type": "card",
                "card": {"brand": "visa", "last4": "4242", "exp_month": 3, "exp_year": 2032},
            }
            expanded = form.get("expand[0]") == "payment_method"
            intent_id = path.rsplit("/", 1)[1]
            return 200, {
                "id": intent_id,
                "object": "payment_intent",
                "status": "succeeded",
                "payment_method": pm if expanded else pm["id"],
                "metadata": self.intent_metadata.get(intent_id, {}),
            }
        if method == "POST" and path == "/v1/customers":
            return 200, {"id": "cus_fake_1", "object": "customer", "metadata": {}}
        if method == "POST" and path == "/v1/payment_intents":
            pid = "pi_fake_" + hashlib.sha256(json.dumps(form, sort_keys=True).encode()).hexdigest()[:12]
            status = "succeeded" if form.get("confirm") == "true" else "requires_payment_method"
            return 200, {
                "id": pid,
                "object": "payment_intent",
                "amount": int(form["amount"]),
                "currency": form["currency"],
                "client_secret": f"{pid}_secret_fake",
                "status": status,
                "metadata": {},
            }
        if method == "POST" and path == "/v1/refunds":
            if not form.get("payment_intent", "").startswith("pi_"):
                return 400, {"error": {"type": "invalid_request_error", "message": "No such payment_intent"}}
            return 200, {"id": "re_fake_1", "object": "refund", "amount": int(form["amount"]), "status": "succeeded"}
        if method == "GET" and path.startswith("/v1/payment_methods/"):
            pm = path.rsplit("/", 1)[1]
            return 200, {
                "id": pm,
                "object": "payment_method",
                "type": "card",
                "customer": "cus_fake_1",
                "card": {"brand": "mastercard", "last4": "4444", "exp_month": 7, "exp_year": 2031},
            }
        return 404, {"error": {"type": "invalid_request_error", "message": f"no route {method} {path}"}}


@contextmanager
def serving() -> Iterator[FakeStripe]:
    """A fake Stripe listening on a free local port (``state.base``) until the block ends; it answers every
    process that reaches it (the integration tests' worker processes too)."""
    state = FakeStripe()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            path, _, query = self.path.partition("?")
            form = dict(parse_qsl(raw or query, keep_blank_values=True))
            state.requests.append({"method": self.command, "path": path, "headers": dict(self.headers), "form": form})
            status, body = state.keyed_answer(self.headers.get("Idempotency-Key"), self.command, path, form)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Request-Id", "req_fake")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


PORTAL = "https://api.example.test/portal"


def adapter(fake: FakeStripe | str | None = None, **kw: Any) -> StripeProvider:
    """The real adapter talking to the fake Stripe (given, or its address), with our test secrets."""
    base = fake.base if isinstance(fake, FakeStripe) else fake
    return StripeProvider(
        api_key=API_KEY,
        webhook_secret=SECRET,
        api_base=base,
        max_network_retries=0,
        **{"portal_url": PORTAL, **kw},
    )


# --------------------------------------------------------------------------- webhooks


def stripe_signature(payload: bytes, secret: str = SECRET, timestamp: int | None = None, scheme: str = "v1") -> str:
    """Stripe's documented scheme, by hand: HMAC-SHA256 over "<timestamp>.<payload>" with the endpoint secret."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},{scheme}={mac}"


def event(event_type: str, obj: dict[str, Any], event_id: str = "evt_1NG8Du2eZvKYlo2CUI79vXWy") -> bytes:
    body = {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1686089970,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
    return json.dumps(body, indent=2).encode()


SUCCEEDED = {
    "id": "pi_3NG8Du2eZvKYlo2C0",
    "object": "payment_intent",
    "amount": 2000,
    "amount_received": 2000,
    "currency": "eur",
    "status": "succeeded",
    "payment_method": "pm_1NG8Du2eZvKYlo2C",
    "latest_charge": "ch_3NG8Du2eZvKYlo2C",
    "metadata": {"purpose": "deposit", "account_id": "acc_1", "deposit_id": "dep_1", "save_card": "false"},
}


SESSION = {
    "id": "cs_test_a1B2c3",
    "object": "checkout.session",
    "mode": "payment",
    "amount_total": 2000,
    "currency": "eur",
    "payment_status": "paid",
    "status": "complete",
    "payment_intent": "pi_3NG8Du2eZvKYlo2C0",
    "metadata": {"purpose": "deposit", "account_id": "acc_1", "save_card": "false"},
}
