"""A caller without HTTP pays through the same command the router uses: a renewal-like plain function.

The router turns (request, principal) into ``PayOrder`` and calls ``orders.service.pay_order``; a schedule builds
``PayOrder`` itself. Both must move the same money, write the same order and answer replays the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from _order_support import PRICE, PRODUCT, add_product, balance_of, entries_of, set_up
from _support import customer_of

from account_credit.kernel.domain import Account
from account_credit.orders import service as orders
from account_credit.orders.commands import CancelOrder, OrderLine, PayOrder
from account_credit.orders.schemas import OrderCreate
from account_credit.platform.store.memory import MemoryStore

Opener = Callable[..., Account]


def renew(store: MemoryStore, account_id: str, product_code: str, term: str) -> dict:
    """What a renewal schedule does: no request, no principal, no HTTP - one command."""
    command = PayOrder(
        account_id=account_id,
        order_id=f"renewal-{term}",
        channel="renewal",
        lines=(OrderLine(product_code, 1),),
        may_use_credit=False,
        actor="schedule:renewals",
    )
    return orders.pay_order(store, command).body


def test_a_plain_function_pays_with_the_routers_command(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    product = PRODUCT
    acc = set_up(store, open_account(), balance=50_000)
    paid = renew(store, acc, product, "2027")
    assert paid["state"] == "paid" and paid["payment"]["method"] == "balance"
    assert paid["actor"] == "schedule:renewals" and paid["channel"] == "renewal"
    assert balance_of(store, acc) == 50_000 - PRICE
    entry = entries_of(store, acc)[-1]
    assert entry["amount"] == -PRICE and entry["actor"] == "schedule:renewals"
    # exactly once per term, whatever the retries: the order id is the idempotency key
    assert renew(store, acc, product, "2027") == paid
    assert balance_of(store, acc) == 50_000 - PRICE


def test_the_request_and_the_command_are_the_same_order(store: MemoryStore, open_account: Opener) -> None:
    """The router's conversion adds nothing: same fingerprint, so a replay by either answers the other."""
    add_product(store)
    product = PRODUCT
    acc = set_up(store, open_account(), balance=50_000)
    request = OrderCreate(order_id="o-1", channel="api", lines=[{"product_code": product, "quantity": 2}])
    command = PayOrder(acc, "o-1", "api", (OrderLine(product, 2),), False, customer_of(acc).actor)
    assert request.command(acc, customer_of(acc).actor) == command
    assert command.fingerprint() == request.fingerprint()
    first = orders.pay_order(store, request.command(acc, customer_of(acc).actor))
    again = orders.pay_order(store, command)
    assert again.replayed and again.body == first.body


def test_a_batch_job_cancels_with_the_same_command(store: MemoryStore, open_account: Opener) -> None:
    add_product(store)
    product = PRODUCT
    acc = set_up(store, open_account(), balance=50_000)
    renew(store, acc, product, "2028")
    done = orders.cancel_order(store, CancelOrder(acc, "renewal-2028", "undo-2028", "job:cleanup", "duplicate"))
    assert done.body["state"] == "cancelled"
    assert balance_of(store, acc) == 50_000
