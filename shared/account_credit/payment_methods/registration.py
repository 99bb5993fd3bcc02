"""The payment-methods API's use cases: add (a card, a gift card, pay on invoice), list with the account's
preferences, set the default and alternate, update a card's expiry and billing address, delete a method, and
create gift cards. The router authorizes the caller first; these take the account id.

Cards are stored through ``payment_methods.save_card`` (a card top-up saves cards the same way), so the
account's first card becomes its alternate method and orders charge it when the balance falls short.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from account_credit.kernel.errors import InvalidInput
from account_credit.kernel.ids import utc_now
from account_credit.orders.schemas import CardRegistration, CardUpdate, GiftCardCreate, PreferencesPut
from account_credit.payment_methods import gift_cards
from account_credit.payment_methods import service as methods
from account_credit.platform.payments import provider
from account_credit.platform.payments.port import PaymentProvider, SavedCard
from account_credit.platform.store import Store


def _view(store: Store, method: methods.PaymentMethod, prefs: methods.Preferences) -> dict[str, Any]:
    out = method.as_dict(prefs.role_of(method.payment_method_id))
    if method.gift_card_code is not None:
        item = gift_cards.get(store, method.gift_card_code)
        out["remaining"] = int(item["remaining"]) if item is not None else 0
    return out


def add(store: Store, account_id: str, currency: str, req: CardRegistration) -> tuple[dict[str, Any], bool]:
    """Add the method; returns its view and whether it is new (the same card, gift card or invoice: kept once)."""
    if req.type == "invoice":
        method, created = methods.add_invoice(store, account_id)
    elif req.type == "gift_card":
        assert req.code is not None
        method, created = gift_cards.add_to_account(store, account_id, currency, req.code)
    else:
        assert req.token and req.brand and req.last4 and req.exp_month and req.exp_year
        today = utc_now()
        if (req.exp_year, req.exp_month) < (today.year, today.month):
            raise InvalidInput(f"the card expired in {req.exp_month:02d}/{req.exp_year}", field="exp_year")
        card = SavedCard(
            # Only the configured provider: a sandbox token cannot be registered where real cards are charged.
            provider=provider().name,
            token=req.token,
            brand=req.brand,
            last4=req.last4,
            exp_month=req.exp_month,
            exp_year=req.exp_year,
        )
        known = {m.payment_method_id for m in methods.list_methods(store, account_id)}
        address = req.billing_address.address() if req.billing_address else None
        method = methods.save_card(store, account_id, card, address)
        created = method.payment_method_id not in known
    return _view(store, method, methods.preferences(store, account_id)), created


def list_view(store: Store, account_id: str) -> dict[str, Any]:
    """Every method of the account, the balance first, each with its role, and the preferences."""
    prefs = methods.preferences(store, account_id)
    stored = [methods.balance_method(account_id), *methods.list_methods(store, account_id)]
    return {"items": [_view(store, m, prefs) for m in stored], "preferences": prefs.as_dict()}


def put_preferences(store: Store, account_id: str, req: PreferencesPut) -> dict[str, Any]:
    return methods.set_preferences(store, account_id, req.default, req.alternate).as_dict()


def update_card(
    store: Store,
    account_id: str,
    payment_method_id: str,
    req: CardUpdate,
    providers: Callable[[str], PaymentProvider] = provider,
) -> dict[str, Any]:
    address = req.billing_address.address() if req.billing_address else None
    updated = methods.update_card(store, account_id, payment_method_id, req.exp_month, req.exp_year, address, providers)
    return _view(store, updated, methods.preferences(store, account_id))


def delete(store: Store, account_id: str, payment_method_id: str) -> None:
    methods.delete_method(store, account_id, payment_method_id)


def create_gift_card(store: Store, req: GiftCardCreate, actor: str) -> dict[str, Any]:
    return gift_cards.create(store, req.code, req.amount, req.currency, actor)
