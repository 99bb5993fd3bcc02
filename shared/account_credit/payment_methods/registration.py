"""Register a card the provider already holds, and list payment methods, for the HTTP API.

The card is stored through ``payment_methods.save_card`` (the first kind of payment
method; a card top-up saves cards the same way), so the account's first card becomes its
default card and orders charge it when the balance falls short.
"""

from __future__ import annotations

from account_credit.kernel.auth import Principal, visible
from account_credit.kernel.errors import InvalidInput
from account_credit.kernel.ids import utc_now
from account_credit.orders.schemas import CardRegistration
from account_credit.payment_methods.service import PaymentMethod, list_methods, save_card
from account_credit.platform.payments import provider
from account_credit.platform.payments.port import SavedCard
from account_credit.platform.store import Store


def register_card(
    store: Store, principal: Principal, account_id: str, req: CardRegistration
) -> tuple[PaymentMethod, bool]:
    """Save the card at the configured provider; returns it and whether it is new (same token: kept once)."""
    visible(principal, store.known_account(account_id), account_id)
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
    known = {m.payment_method_id for m in list_methods(store, account_id)}
    method = save_card(store, account_id, card)
    return method, method.payment_method_id not in known


def list_for(store: Store, principal: Principal, account_id: str) -> list[PaymentMethod]:
    visible(principal, store.known_account(account_id), account_id)
    return list_methods(store, account_id)
