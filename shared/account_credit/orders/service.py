"""Orders: price from the catalog, pay (balance, card, credit or decline), read, cancel.

Item: pk=ACCOUNT#<account_id>, sk=ORDER#<order_id>, kind=order: the ``OrderView`` fields
(lines with the frozen prices, total, payment, state, cancellation).

Paying executes the decision of ``orders.decision.attempts`` without reading the balance:

* **balance** - ONE transaction: conditional balance update (floor 0) + ``order_balance``
  entry + order record + ``order.paid`` and ``balance.debited`` events + the idempotency
  record (scope ``order``, key = the caller's order id). If the balance does not cover the
  total, ``InsufficientFunds`` comes out of the commit and nothing was written.
* **card** - charge the default card through its provider with an idempotency key derived
  from the order id (a retry never charges twice), then ONE transaction: a record-only
  ``order_card`` entry (amount 0: the balance does not change) + order + event + claim.
* **credit** - like balance, floor ``-credit_limit`` and an ``order_credit`` entry.
* **decline** - only an ``order.declined`` event is written (``store.publish``) and a 402
  insufficient-funds problem with the shortfall is raised. A decline is NOT an idempotent
  answer: the same order id sent again after a top-up is evaluated afresh.

The settings that pick the methods come from ``store.known_account`` (a warm function's
cache). The balance and credit transactions are conditioned on the account's version, so
the payment's ``respond`` (run by ``platform.commit`` on each attempt's posting) checks the settings of
exactly that version and starts over if they changed; it builds the order record and its events from
that posting, so nothing is patched after the fact. A card is charged, and a decline given, only after
a consistent read.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from account_credit.kernel.errors import (
    ConcurrentUpdate,
    InvalidInput,
    NotFound,
)
from account_credit.orders import cancel
from account_credit.orders.cancel import RefundFailed
from account_credit.orders.commands import CancelOrder, PayOrder, RefundOrder
from account_credit.orders.payment import _Payment, _SettingsChanged
from account_credit.orders.pricing import Priced, price
from account_credit.orders.records import SCOPE, Providers, view_of
from account_credit.orders.refund import refund_order
from account_credit.orders.state import OrderNotCancellable
from account_credit.platform import idempotency
from account_credit.platform.payments import provider as default_provider
from account_credit.platform.store import (
    CommitResult,
    Store,
    keys,
)
from account_credit.platform.store.base import stored_response

logger = Logger(child=True)
SETTINGS_RESTARTS = 3

__all__ = [
    "OrderNotCancellable",
    "Priced",
    "RefundFailed",
    "cancel_order",
    "get_order",
    "pay_order",
    "price",
    "refund_order",
]


def pay_order(store: Store, cmd: PayOrder, *, providers: Providers = default_provider) -> CommitResult:
    """Pay an order (201 with the order), replay its first answer, or raise InsufficientFunds (402).

    The order id is the idempotency key. The caller is authorized already (the router checks that the principal
    may see the account; a schedule or a batch job acts for the account by construction).
    """
    account = store.known_account(cmd.account_id)
    if account is None:
        raise NotFound(f"account {cmd.account_id} not found")
    claim = idempotency.claim(cmd.account_id, SCOPE, cmd.order_id, cmd.fingerprint())
    try:
        priced = price(store, account, cmd)
    except InvalidInput:
        # The catalog may have changed since the order was paid: a repeat still gets its first answer.
        old = store.get_item(claim.pk, claim.sk)
        if old is not None:
            return stored_response(old, claim)
        raise
    for _ in range(SETTINGS_RESTARTS):
        try:
            return _Payment(store, account, cmd, priced, claim, providers).run()
        except _SettingsChanged as changed:
            logger.info("payment settings of %s changed during the order; deciding again", cmd.account_id)
            account = changed.account
    raise ConcurrentUpdate("the account's payment settings keep changing; retry with the same order id")


def cancel_order(store: Store, cmd: CancelOrder, *, providers: Providers = default_provider) -> CommitResult:
    """Cancel = refund everything: an order nothing was refunded of is cancelled (``orders/cancel.py``); a partly
    refunded one has the rest refunded (``orders/refund.py``, with the cancel's Idempotency-Key)."""
    item = store.get_item(*keys.order(cmd.account_id, cmd.order_id))
    if item is not None and item.get("state") in ("partly_refunded", "refunded"):
        rest = RefundOrder(
            cmd.account_id,
            cmd.order_id,
            cmd.idempotency_key,
            cmd.actor,
            everything=True,
            reason=cmd.reason,
            by_operator=cmd.by_operator,
        )
        return refund_order(store, rest, providers=providers)
    return cancel.cancel_order(store, cmd, providers=providers)


def get_order(store: Store, account_id: str, order_id: str) -> dict[str, Any]:
    item = store.get_item(*keys.order(account_id, order_id))
    if item is None:
        raise NotFound(f"order {order_id} not found")
    return view_of(item)
