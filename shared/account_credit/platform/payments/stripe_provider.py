"""Stripe adapter: the official ``stripe`` SDK behind the provider port.

* ``create_checkout``: a Stripe Checkout Session (``mode=payment``, one ``price_data`` line in the
  account's currency); the portal sends the browser to the returned ``checkout_url`` (Stripe's
  hosted page), and Stripe sends it back to ``PORTAL_URL`` (setting ``portal_url``, the portal's
  address): ``<PORTAL_URL>/#/a/<account_id>/top-up?checkout=done&session=<cs_id>`` after
  paying, ``...?checkout=cancelled`` when the customer gives up. ``payment_id`` is the session id
  (``cs_...``); the PaymentIntent exists only once the customer pays. Metadata ``purpose=deposit``,
  ``account_id``, ``save_card`` on the session and its intent (the intent also ``via=checkout``).
  With ``save_card`` a Customer is created for the card and the intent is set up for
  ``off_session`` use, so the card can be charged later without the customer. Without
  ``PORTAL_URL`` card top-ups are refused (PaymentProviderError).
* Webhook events to enable on the Stripe endpoint: ``checkout.session.completed``,
  ``checkout.session.async_payment_succeeded``, ``checkout.session.async_payment_failed``,
  ``checkout.session.expired``, ``payment_intent.succeeded``, ``payment_intent.payment_failed``,
  ``charge.refunded``, ``charge.dispute.created`` (mapping: ``stripe_format``). A session's
  success also links its PaymentIntent id to the deposit, which refunds and disputes name.
* ``charge_saved_card``: an off-session, confirmed PaymentIntent for the saved payment
  method (its Customer is read from the payment method); card errors become a declined
  ``Charge``.
* ``update_card``: ``PaymentMethod.modify`` (POST /v1/payment_methods/<id>) with the card's new
  ``exp_month``/``exp_year`` and ``billing_details.address``; a card error (e.g. an expiry in the
  past) is refused as invalid input.
* ``parse_webhook``: the shared Stripe-format verification (SDK signature check, 300 s
  tolerance in both directions) and normalisation.

Every API call carries an idempotency key derived from ours, so a retried request never
creates a second session, customer or intent. Amounts are the account's ISO 4217 minor units, which is what
Stripe expects except for the currencies it documents as special cases (ISK, HUF, TWD,
UGX) and the three-decimal ones: card top-ups in those are refused (bank transfer works).
``api_base`` exists for tests, which point the SDK at a local fake server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from account_credit.kernel.errors import ConcurrentUpdate, InvalidInput, PaymentProviderError
from account_credit.kernel.money import Money
from account_credit.platform.config import settings
from account_credit.platform.payments import stripe_format
from account_credit.platform.payments.port import BillingAddress, Charge, Checkout, Refund, SavedCard, WebhookEvent
from account_credit.platform.secrets import secret

SIGNATURE_HEADER = "Stripe-Signature"
# Currencies whose Stripe amount is not simply the ISO 4217 minor-unit count.
UNSUPPORTED_CURRENCIES = frozenset({"ISK", "HUF", "TWD", "UGX", "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


@dataclass
class StripeProvider:
    # None: read from the configuration at each use (Secrets Manager values are cached five minutes),
    # so rotated keys and webhook secrets are picked up without a cold start.
    api_key: str | None = None
    webhook_secret: str | None = None
    api_base: str | None = None
    # None: the PORTAL_URL setting (platform/config.py), where Checkout sends the browser back.
    portal_url: str | None = None
    max_network_retries: int = 2
    name: str = "stripe"

    @classmethod
    def from_env(cls) -> StripeProvider:
        return cls()

    def _client(self) -> Any:
        import stripe

        api_key = self.api_key if self.api_key is not None else secret("stripe_api_key")
        if not api_key:
            raise PaymentProviderError("the Stripe API key is not configured")
        return stripe.StripeClient(
            api_key,
            base_addresses={"api": self.api_base} if self.api_base else None,
            max_network_retries=self.max_network_retries,
        )

    def create_checkout(
        self, *, amount: Money, account_id: str, deposit_id: str, idempotency_key: str, save_card: bool
    ) -> Checkout:
        import stripe

        if amount.currency in UNSUPPORTED_CURRENCIES:
            raise InvalidInput(
                f"card top-ups in {amount.currency} are not supported; use a bank transfer", field="currency"
            )
        portal = self.portal_url if self.portal_url is not None else settings().portal_url
        if not portal:
            raise PaymentProviderError(
                "card top-ups need the portal's address for Stripe Checkout to return to: PORTAL_URL is not set "
                "(on AWS: deploy with the PortalOrigin parameter)"
            )
        client = self._client()
        # Same request, same parameters: a retry with our key after a failed commit gets the same session back
        # from Stripe. So nothing that differs between attempts is sent: not the deposit id (new on each attempt;
        # the payment link item maps the session to its deposit), and the return URLs name only the account.
        # Stripe itself puts the session id into the success URL ({CHECKOUT_SESSION_ID}, sent literally).
        metadata = {"purpose": "deposit", "account_id": account_id, "save_card": "true" if save_card else "false"}
        page = f"{portal}/#/a/{account_id}/top-up"
        intent_data: dict[str, Any] = {
            "description": "Account credit top-up",
            # via=checkout: the intent's own events are ignored, the session's do the work (stripe_format).
            "metadata": {**metadata, "via": "checkout"},
        }
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": amount.currency.lower(),
                        "unit_amount": amount.amount,
                        "product_data": {"name": "Account credit top-up"},
                    },
                    "quantity": 1,
                }
            ],
            "payment_intent_data": intent_data,
            "metadata": metadata,
            "success_url": f"{page}?checkout=done&session={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{page}?checkout=cancelled",
        }
        try:
            if save_card:
                customer = client.v1.customers.create(
                    params={"metadata": {"account_id": account_id}},
                    options={"idempotency_key": f"{idempotency_key}:customer"},
                )
                params["customer"] = customer.id
                intent_data["setup_future_usage"] = "off_session"
            session = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.IdempotencyError:
            raise ConcurrentUpdate(
                "the same top-up is being created by another request; retry with the same key"
            ) from None
        except stripe.StripeError as exc:
            raise PaymentProviderError(f"Stripe refused or failed the checkout: {exc.user_message or exc}") from None
        if not session.url:
            raise PaymentProviderError(f"Stripe answered checkout session {session.id} without a URL")
        return Checkout(provider=self.name, payment_id=session.id, checkout_url=session.url)

    def charge_saved_card(
        self, *, amount: Money, card: SavedCard, account_id: str, reference: str, idempotency_key: str
    ) -> Charge:
        import stripe

        client = self._client()
        try:
            method = client.v1.payment_methods.retrieve(card.token)
            intent = client.v1.payment_intents.create(
                params={
                    "amount": amount.amount,
                    "currency": amount.currency.lower(),
                    "customer": method.customer,
                    "payment_method": card.token,
                    "off_session": True,
                    "confirm": True,
                    "metadata": {"purpose": "order", "account_id": account_id, "reference": reference},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as exc:
            err = exc.error
            intent_obj = getattr(err, "payment_intent", None) if err is not None else None
            return Charge(
                status="declined",
                payment_id=getattr(intent_obj, "id", None) if intent_obj is not None else None,
                decline_code=(getattr(err, "decline_code", None) or exc.code) if err is not None else exc.code,
                message=exc.user_message or "The card was declined.",
            )
        except stripe.StripeError as exc:
            raise PaymentProviderError(f"Stripe failed the charge: {exc.user_message or exc}") from None
        if intent.status == "succeeded":
            return Charge(status="succeeded", payment_id=intent.id)
        return Charge(
            status="declined",
            payment_id=intent.id,
            decline_code=intent.status,
            message="The payment needs the customer (authentication required).",
        )

    def update_card(
        self, *, card: SavedCard, exp_month: int, exp_year: int, billing_address: BillingAddress | None
    ) -> SavedCard:
        import stripe

        params: dict[str, Any] = {"card": {"exp_month": exp_month, "exp_year": exp_year}}
        if billing_address is not None:
            params["billing_details"] = {
                "address": {k: v for k, v in billing_address.as_dict().items() if v is not None}
            }
        try:
            method = self._client().v1.payment_methods.update(card.token, params=params)
        except stripe.CardError as exc:
            raise InvalidInput(
                f"the provider refused the card change: {exc.user_message or exc}", field="exp_year"
            ) from None
        except stripe.StripeError as exc:
            raise PaymentProviderError(f"Stripe failed the card update: {exc.user_message or exc}") from None
        data = method.to_dict()
        held = data.get("card") if isinstance(data.get("card"), dict) else {}
        return SavedCard(
            provider=self.name,
            token=card.token,
            brand=str(held.get("brand") or card.brand),
            last4=str(held.get("last4") or card.last4),
            exp_month=int(held.get("exp_month") or exp_month),
            exp_year=int(held.get("exp_year") or exp_year),
        )

    def refund(self, *, payment_id: str, amount: Money, reference: str, idempotency_key: str) -> Refund:
        """Refund (part of) a PaymentIntent; Stripe's idempotency key makes a retry the same refund."""
        import stripe

        try:
            refund = self._client().v1.refunds.create(
                params={"payment_intent": payment_id, "amount": amount.amount, "metadata": {"reference": reference}},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            return Refund(status="failed", message=exc.user_message or str(exc))
        except stripe.StripeError as exc:
            raise PaymentProviderError(f"Stripe failed the refund: {exc.user_message or exc}") from None
        if refund.status in {"succeeded", "pending"}:
            return Refund(status="succeeded", refund_id=refund.id)
        return Refund(status="failed", refund_id=refund.id, message=f"refund {refund.status}")

    def _card(self, payment_method_id: str) -> SavedCard | None:
        import stripe

        try:
            method = self._client().v1.payment_methods.retrieve(payment_method_id)
        except (stripe.StripeError, PaymentProviderError):
            return None  # the credit must not depend on saving the card
        return self._saved(method.to_dict())  # StripeObjects are not dicts

    def _intent_card(self, payment_intent_id: str) -> SavedCard | None:
        """The card a (Checkout Session's) PaymentIntent was paid with: the intent, its payment method expanded."""
        import stripe

        try:
            intent = self._client().v1.payment_intents.retrieve(
                payment_intent_id, params={"expand": ["payment_method"]}
            )
        except (stripe.StripeError, PaymentProviderError):
            return None  # the credit must not depend on saving the card
        method = intent.to_dict().get("payment_method")
        if isinstance(method, str):
            return self._card(method)
        return self._saved(method) if isinstance(method, dict) else None

    def _saved(self, data: dict[str, Any]) -> SavedCard | None:
        card = data.get("card")
        if not isinstance(card, dict):
            return None
        return SavedCard(
            provider=self.name,
            token=str(data["id"]),
            brand=str(card.get("brand", "")),
            last4=str(card.get("last4", "")),
            exp_month=int(card.get("exp_month", 0)),
            exp_year=int(card.get("exp_year", 0)),
        )

    def payment_metadata(self, payment_id: str) -> Mapping[str, str]:
        """The PaymentIntent's metadata: a refund's or dispute's charge does not carry it."""
        import stripe

        try:
            intent = self._client().v1.payment_intents.retrieve(payment_id)
        except stripe.StripeError as exc:
            raise PaymentProviderError(
                f"Stripe could not read payment {payment_id}: {exc.user_message or exc}"
            ) from None
        metadata = intent.to_dict().get("metadata")
        return {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        webhook_secret = self.webhook_secret if self.webhook_secret is not None else secret("stripe_webhook_secret")
        body = stripe_format.verify(payload, stripe_format.header(headers, SIGNATURE_HEADER), webhook_secret)
        return stripe_format.normalise(self.name, body, card_lookup=self._card, intent_card_lookup=self._intent_card)
