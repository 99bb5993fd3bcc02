"""The Stripe adapter's card update (PaymentMethod.modify) against the local fake Stripe of the deposit tests."""

from __future__ import annotations

from typing import Any

import pytest
from test_deposits_stripe import FakeStripe, adapter, fake

from account_credit.kernel.errors import InvalidInput, PaymentProviderError
from account_credit.platform.payments.port import BillingAddress, SavedCard

__all__ = ["fake"]  # the fixture

CARD = SavedCard(provider="stripe", token="pm_card_1", brand="visa", last4="4242", exp_month=1, exp_year=2027)


@pytest.fixture
def stripe_fake(fake: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> FakeStripe:
    """The fake Stripe, also answering POST /v1/payment_methods/<id> (modify) with the card as changed."""
    answer = fake.answer

    def modify(method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path.startswith("/v1/payment_methods/") and fake.fail_with is None:
            card = {"brand": "visa", "last4": "4242", "exp_month": int(form["card[exp_month]"])}
            card["exp_year"] = int(form["card[exp_year]"])
            return 200, {"id": path.rsplit("/", 1)[1], "object": "payment_method", "type": "card", "card": card}
        return answer(method, path, form)

    monkeypatch.setattr(fake, "answer", modify)
    return fake


def test_a_card_update_modifies_the_payment_method_at_stripe(stripe_fake: FakeStripe) -> None:
    address = BillingAddress(line1="1 Main St", city="Bratislava", postal_code="81101", country="SK")
    held = adapter(stripe_fake).update_card(card=CARD, exp_month=9, exp_year=2031, billing_address=address)
    assert (held.token, held.exp_month, held.exp_year, held.last4) == ("pm_card_1", 9, 2031, "4242")
    [request] = stripe_fake.requests
    assert (request["method"], request["path"]) == ("POST", "/v1/payment_methods/pm_card_1")
    assert request["form"] == {
        "card[exp_month]": "9",
        "card[exp_year]": "2031",
        "billing_details[address][line1]": "1 Main St",
        "billing_details[address][city]": "Bratislava",
        "billing_details[address][postal_code]": "81101",
        "billing_details[address][country]": "SK",
    }


def test_without_an_address_only_the_expiry_is_sent(stripe_fake: FakeStripe) -> None:
    adapter(stripe_fake).update_card(card=CARD, exp_month=2, exp_year=2030, billing_address=None)
    assert stripe_fake.requests[0]["form"] == {"card[exp_month]": "2", "card[exp_year]": "2030"}


def test_a_refused_update_is_invalid_input_and_a_failure_a_provider_error(stripe_fake: FakeStripe) -> None:
    stripe_fake.fail_with = (402, {"error": {"type": "card_error", "code": "invalid_expiry_year", "message": "bad"}})
    with pytest.raises(InvalidInput):
        adapter(stripe_fake).update_card(card=CARD, exp_month=2, exp_year=2030, billing_address=None)
    stripe_fake.fail_with = (500, {"error": {"type": "api_error", "message": "boom"}})
    with pytest.raises(PaymentProviderError):
        adapter(stripe_fake).update_card(card=CARD, exp_month=2, exp_year=2030, billing_address=None)
