"""Subscriptions: create (the first term paid, prorated when backdated), change, add inventory, suspend, reactivate.

Every charge goes through the one payment command, ``orders.service.pay_order`` (channel ``subscription``), under
an order id derived from the request, so a retry finds the same order and nothing is charged twice:

* create: the subscription id is derived from the account and the ``Idempotency-Key``; its first term is order
  ``sub-<id>-t1``. The charge comes first; the subscription (with ``subscription.created`` and the idempotency
  record) is written after it succeeded, in one transaction. A declined charge (402) leaves no subscription; a
  crash between the two is completed by the retry with the same key, which finds the paid order (its proration is
  read back from the order, so a retry on another day charges nothing again and writes the same subscription).
* inventory added mid-term: ``inventory_billing = immediate``: order ``sub-<id>-inv-<charge id>`` at once,
  prorated from today to the term's end; ``next_invoice``: a pending charge item (``keys.subscription_charge``)
  with the proration frozen on the day it was added, paid by ``settle_pending`` from the monthly billing run.
  The inventory is usable at once either way.
* state changes (``domain.py``'s rules) are one conditional write each (the version read), with their event.

Interfaces for the other capabilities: ``save_update(store_or_uow, old, new)`` (the renewal schedule advances a term
with it), ``settle_pending(store, account_id, today)`` (the monthly billing run), ``renewal_hold_id`` and
``_on_renewal_stopped`` (the renewal's hold is released when the subscription stops renewing). Charges try
``payment_methods.service.plan_for``: the subscription's method (or the account's default), then the alternate.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from typing import Any

from aws_lambda_powertools import Logger

from account_credit.catalog import service as catalog
from account_credit.holds import service as holds
from account_credit.kernel.errors import Conflict, InsufficientFunds, InvalidInput, NotFound
from account_credit.kernel.ids import iso, utc_now
from account_credit.kernel.proration import add_months, prorate
from account_credit.orders import service as orders
from account_credit.orders.commands import OrderLine, PayOrder, Proration
from account_credit.orders.records import Providers
from account_credit.payment_methods import service as payment_methods
from account_credit.platform import idempotency
from account_credit.platform.commit import commit
from account_credit.platform.config import settings as platform_settings
from account_credit.platform.events import DomainEvent, EventType
from account_credit.platform.payments import provider as default_provider
from account_credit.platform.retry import retry
from account_credit.platform.store import CommitResult, Record, RecordUpdate, Store, UnitOfWork, keys
from account_credit.platform.store.base import stored_response, write_alone
from account_credit.subscriptions import schemas
from account_credit.subscriptions.domain import (
    Line,
    StaleSubscription,
    Subscription,
    SubscriptionExpired,
    SubscriptionSuspended,
    merged,
    update_of,
)

logger = Logger(child=True)

CHANNEL = "subscription"
SCOPE_CREATE = "subscription-create"
SCOPE_INVENTORY = "subscription-inventory"
SETTLE_ACTOR = "schedule:billing-run"


# --------------------------------------------------------------------------- ids and hooks


def _digest(*parts: str, length: int = 24) -> str:
    raw = hashlib.sha256("\n".join(parts).encode()).digest()
    return base64.b32encode(raw).decode().lower().rstrip("=")[:length]


def subscription_id_for(account_id: str, idempotency_key: str) -> str:
    """The subscription a create request makes: the same key, the same subscription (and the same first order)."""
    return f"sub_{_digest(account_id, idempotency_key)}"


def first_order_id(subscription_id: str) -> str:
    return f"sub-{subscription_id}-t1"


def inventory_order_id(subscription_id: str, charge_id: str) -> str:
    return f"sub-{subscription_id}-inv-{charge_id}"


def renewal_hold_id(subscription_id: str, term: int) -> str:
    """The hold that reserves the renewal into ``term`` (the renewal schedule places it when the window opens)."""
    return f"renewal-{subscription_id}-{term}"


def _on_renewal_stopped(store: Store, sub: Subscription) -> None:
    """The subscription will not renew (suspended, auto-renewal off): the balance reserved for its renewal is free
    again. Called after a suspension and after auto-renewal was turned off."""
    holds.release(store, sub.account_id, renewal_hold_id(sub.subscription_id, sub.term + 1), reason="renewal stopped")


# --------------------------------------------------------------------------- reading


def _load(store: Store, account_id: str, subscription_id: str) -> Subscription:
    item = store.get_item(*keys.subscription(account_id, subscription_id))
    if item is None:
        raise NotFound(f"subscription {subscription_id} not found")
    return Subscription.from_item(item)


def _pending(store: Store, account_id: str) -> dict[str, list[dict[str, Any]]]:
    """The account's inventory charges waiting for the billing run (and those it made), per subscription."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in store.query_prefix(*keys.subscription_charges_prefix(account_id), limit=1000):
        out.setdefault(str(row["subscription_id"]), []).append(row)
    return out


def view_of(sub: Subscription, today: date, charges: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    state = sub.state_on(today)
    start, end = sub.term_bounds(sub.term)
    return schemas.SubscriptionView(
        subscription_id=sub.subscription_id,
        account_id=sub.account_id,
        currency=sub.currency,
        state=state,
        inventory_usable=sub.usable(today),
        term_months=sub.term_months,
        start_date=sub.start_date.isoformat(),
        term=sub.term,
        term_start=start.isoformat(),
        term_end=end.isoformat(),
        renewal_date=end.isoformat() if state == "active" and sub.auto_renew else None,
        auto_renew=sub.auto_renew,
        payment_method_id=sub.payment_method_id,
        inventory=[schemas.LineView(**x.as_dict()) for x in sub.items],
        renewal_inventory=[schemas.LineView(**x.as_dict()) for x in sub.renewal_items],
        inventory_billing=sub.inventory_billing,
        orders=list(sub.orders),
        pending_charges=[
            schemas.PendingChargeView(
                charge_id=str(c["charge_id"]),
                lines=[schemas.LineView(**x) for x in c["lines"]],
                added_on=str(c["added_on"]),
                state=c["state"],
                order_id=c.get("order_id"),
            )
            for c in charges
        ],
        created_at=sub.created_at,
        updated_at=sub.updated_at,
        version=sub.version,
    ).model_dump(mode="json")


def _today(today: date | None) -> date:
    return today or utc_now().date()


def get(store: Store, account_id: str, subscription_id: str, today: date | None = None) -> dict[str, Any]:
    sub = _load(store, account_id, subscription_id)
    return view_of(sub, _today(today), _pending(store, account_id).get(subscription_id, []))


def list_for(store: Store, account_id: str, today: date | None = None) -> dict[str, Any]:
    rows = store.query_prefix(*keys.subscriptions_prefix(account_id), limit=1000, newest_first=True)
    pending = _pending(store, account_id)
    day = _today(today)
    subs = [Subscription.from_item(r) for r in rows]
    return {"items": [view_of(s, day, pending.get(s.subscription_id, [])) for s in subs]}


# --------------------------------------------------------------------------- checks


def _lines(raw: Iterable[schemas.SubscriptionLine]) -> tuple[Line, ...]:
    return merged(Line(x.product_code, x.quantity) for x in raw)


def _check_products(store: Store, currency: str, months: int, lines: tuple[Line, ...], field: str) -> None:
    """Every line a product sold now, priced in ``currency``, with the subscription's term."""
    products = catalog.lookup(store, [x.product_code for x in lines])
    for i, line in enumerate(lines):
        where = f"{field}.{i}.product_code"
        product = products.get(line.product_code)
        if product is None:
            raise InvalidInput(f"there is no product {line.product_code!r} in the catalog", field=where)
        if not product.active:
            raise InvalidInput(f"product {line.product_code!r} is no longer sold", field=where)
        if product.term_months != months:
            raise InvalidInput(
                f"product {line.product_code!r} has a term of {product.term_months} months, the subscription {months}",
                field=where,
            )
        if currency not in product.prices:
            raise InvalidInput(f"product {line.product_code!r} has no price in {currency}", field=where)


def _check_method(store: Store, account_id: str, method: str | None) -> None:
    if method is None or method in ("balance", "credit"):
        return
    if store.get_item(*keys.payment_method(account_id, method)) is None:
        raise InvalidInput(f"there is no payment method {method} on this account", field="payment_method_id")


def _require_active(sub: Subscription, today: date) -> None:
    state = sub.state_on(today)
    if state == "suspended":
        raise SubscriptionSuspended(
            f"subscription {sub.subscription_id} is suspended: reactivate it first", field="state"
        )
    if today < sub.term_start:
        raise Conflict(
            f"subscription {sub.subscription_id} starts on {sub.term_start.isoformat()}: add inventory from then",
            field="state",
        )
    if state == "expired" or today >= sub.term_end:
        raise SubscriptionExpired(f"subscription {sub.subscription_id}'s term is over", field="state")


def _proration_of(order: dict[str, Any], months: int) -> Proration | None:
    """The proration an order was paid with, read back from its lines (a retry pays with exactly it)."""
    first = (order.get("lines") or [{}])[0]
    if not first.get("term_start"):
        return None
    end = date.fromisoformat(str(first["term_end"]))
    on = date.fromordinal(end.toordinal() - int(first["remaining_days"]))
    return Proration(date.fromisoformat(str(first["term_start"])), months, on)


def _command(
    account_id: str,
    order_id: str,
    lines: tuple[Line, ...],
    *,
    may_use_credit: bool,
    actor: str,
    methods: tuple[str, ...] | None,
    proration: Proration | None,
    subscription: tuple[str, int],
) -> PayOrder:
    return PayOrder(
        account_id=account_id,
        order_id=order_id,
        channel=CHANNEL,
        lines=tuple(OrderLine(x.product_code, x.quantity) for x in lines),
        may_use_credit=may_use_credit,
        actor=actor,
        # The subscription's method (or the account's default), then the alternate; the credit line last when the
        # caller opted in, as for any order.
        methods=(*methods, "credit") if methods is not None and may_use_credit and "credit" not in methods else methods,
        proration=proration,
        subscription=subscription,
    )


# --------------------------------------------------------------------------- writes


def save_update(store_or_uow: Store | UnitOfWork, old: Subscription, new: Subscription) -> RecordUpdate:
    """Write ``new`` over ``old`` (its changed attributes, version + 1, the renewal index keys set or removed),
    expecting ``old.version`` (else ``StaleSubscription``). Given a unit of work, the update joins it (written
    with whatever else it carries: a renewal's payment); given a store, it is written alone at once."""
    update = update_of(old, new, iso(utc_now()))
    if isinstance(store_or_uow, UnitOfWork):
        store_or_uow.update(update)
    else:
        store_or_uow.update_record(update)
    return update


def _event(sub: Subscription, kind: EventType, **payload: Any) -> DomainEvent:
    return DomainEvent(
        account_id=sub.account_id, type=kind, payload={"subscription_id": sub.subscription_id, **payload}
    )


def _stale_retry[T](attempt: Callable[[], T]) -> T:
    return retry(
        attempt,
        on=(StaleSubscription,),
        attempts=platform_settings().max_write_attempts,
        exhausted=StaleSubscription("the subscription keeps changing; retry"),
    )


def create(
    store: Store,
    account_id: str,
    req: schemas.SubscriptionCreate,
    idempotency_key: str,
    actor: str,
    *,
    today: date | None = None,
    providers: Providers = default_provider,
) -> CommitResult:
    """A subscription whose first term is paid (201), the first answer again for a repeated key, or the payment's
    refusal (402 declined: nothing written)."""
    day = _today(today)
    account = store.known_account(account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    claim = idempotency.claim(account_id, SCOPE_CREATE, idempotency_key, req.model_dump(mode="json"))
    answered = store.get_item(claim.pk, claim.sk)
    if answered is not None:
        return stored_response(answered, claim)
    sid = subscription_id_for(account_id, idempotency_key)
    order_id = first_order_id(sid)
    lines = _lines(req.lines)
    paid = store.get_item(*keys.order(account_id, order_id))
    if paid is not None:  # a retry after the charge: the same proration, the same start
        proration = _proration_of(paid, req.term_months)
        start = proration.start if proration is not None else (req.start_date or day)
    else:
        _check_products(store, account.currency, req.term_months, lines, "lines")
        _check_method(store, account_id, req.payment_method_id)
        start = req.start_date or day
        proration = _first_term(start, req.term_months, day)
    result = orders.pay_order(
        store,
        _command(
            account_id,
            order_id,
            lines,
            may_use_credit=req.may_use_credit,
            actor=actor,
            methods=payment_methods.plan_for(store, account_id, req.payment_method_id),
            proration=proration,
            subscription=(sid, 1),
        ),
        providers=providers,
    )
    now = iso(utc_now())
    sub = Subscription(
        subscription_id=sid,
        account_id=account_id,
        currency=account.currency,
        state="active",
        term_months=req.term_months,
        start_date=start,
        term=1,
        auto_renew=req.auto_renew,
        payment_method_id=req.payment_method_id,
        items=lines,
        renewal_items=lines,
        inventory_billing=req.inventory_billing,
        orders=(order_id,),
        created_at=now,
        updated_at=now,
        version=1,
    )
    uow = store.unit_of_work()
    uow.put(Record(*keys.subscription(account_id, sid), attrs=sub.attrs()))
    uow.emit(
        _event(
            sub,
            EventType.SUBSCRIPTION_CREATED,
            order_id=order_id,
            amount=int(result.body["total"]),
            currency=account.currency,
            term_start=sub.term_start.isoformat(),
            term_end=sub.term_end.isoformat(),
            prorated=proration is not None and proration.on > proration.start,
        )
    )
    return commit(uow, claim, lambda _p: view_of(sub, day))


def _first_term(start: date, months: int, today: date) -> Proration | None:
    """The first term's charge: from today when it has started (the whole price on its first day, prorated when
    backdated: InvalidInput past the term minus one day), in full now when it starts later (at most a term ahead)."""
    if start > today:
        if start >= add_months(today, months):
            raise InvalidInput(
                f"a subscription starts at most one term ({months} months) from today", field="start_date"
            )
        return None
    prorate(0, start, months, today)  # the backdating limit, before anything is charged
    return Proration(start, months, today)


def change(
    store: Store,
    account_id: str,
    subscription_id: str,
    req: schemas.SubscriptionChange,
    actor: str,
    today: date | None = None,
) -> dict[str, Any]:
    """Auto-renewal, the payment method, the renewal inventory or how added inventory is billed."""
    day = _today(today)
    fields = req.model_fields_set

    def attempt() -> tuple[Subscription, Subscription]:
        sub = _load(store, account_id, subscription_id)
        if sub.state_on(day) == "expired":
            raise SubscriptionExpired(f"subscription {subscription_id} has expired", field="state")
        new = sub
        if "auto_renew" in fields and req.auto_renew is not None:
            new = replace(new, auto_renew=req.auto_renew)
        if "payment_method_id" in fields:
            _check_method(store, account_id, req.payment_method_id)
            new = replace(new, payment_method_id=req.payment_method_id)
        if "renewal_items" in fields and req.renewal_items is not None:
            renewal = _lines(req.renewal_items)
            _check_products(store, sub.currency, sub.term_months, renewal, "renewal_items")
            new = replace(new, renewal_items=renewal)
        if "inventory_billing" in fields and req.inventory_billing is not None:
            new = replace(new, inventory_billing=req.inventory_billing)
        if new == sub:
            return sub, sub
        uow = store.unit_of_work()
        save_update(uow, sub, new)
        uow.emit(_event(new, EventType.SUBSCRIPTION_CHANGED, changed=sorted(fields), actor=actor))
        write_alone(uow)
        return sub, new

    old, new = _stale_retry(attempt)
    if old.index_keys() is not None and new.index_keys() is None:
        _on_renewal_stopped(store, new)
    return get(store, account_id, subscription_id, day)


def _transition(
    store: Store, account_id: str, subscription_id: str, actor: str, day: date, suspend: bool
) -> tuple[Subscription, Subscription]:
    def attempt() -> tuple[Subscription, Subscription]:
        sub = _load(store, account_id, subscription_id)
        new = sub.suspended(day) if suspend else sub.reactivated(day)
        if new == sub:
            return sub, sub
        kind = EventType.SUBSCRIPTION_SUSPENDED if suspend else EventType.SUBSCRIPTION_REACTIVATED
        uow = store.unit_of_work()
        save_update(uow, sub, new)
        uow.emit(_event(new, kind, actor=actor, term_end=new.term_end.isoformat()))
        write_alone(uow)
        return sub, new

    return _stale_retry(attempt)


def suspend(
    store: Store, account_id: str, subscription_id: str, actor: str, today: date | None = None
) -> dict[str, Any]:
    """Suspended: it does not renew and its inventory cannot be used (already suspended: no change)."""
    day = _today(today)
    old, new = _transition(store, account_id, subscription_id, actor, day, suspend=True)
    if old != new:
        _on_renewal_stopped(store, new)
    return get(store, account_id, subscription_id, day)


def reactivate(
    store: Store, account_id: str, subscription_id: str, actor: str, today: date | None = None
) -> dict[str, Any]:
    """Active again within its term, without a charge (409 once the term is over)."""
    day = _today(today)
    _transition(store, account_id, subscription_id, actor, day, suspend=False)
    return get(store, account_id, subscription_id, day)


# --------------------------------------------------------------------------- inventory


def add_inventory(
    store: Store,
    account_id: str,
    subscription_id: str,
    req: schemas.InventoryAdd,
    idempotency_key: str,
    actor: str,
    *,
    today: date | None = None,
    providers: Providers = default_provider,
) -> CommitResult:
    """Inventory usable at once, charged for the rest of the term: now, or by the next billing run."""
    day = _today(today)
    body = {"subscription_id": subscription_id, **req.model_dump(mode="json")}
    claim = idempotency.claim(account_id, SCOPE_INVENTORY, f"{subscription_id}:{idempotency_key}", body)
    answered = store.get_item(claim.pk, claim.sk)
    if answered is not None:
        return stored_response(answered, claim)
    sub = _load(store, account_id, subscription_id)
    lines = _lines(req.lines)
    charge_id = _digest(subscription_id, idempotency_key, length=16)
    order_id = inventory_order_id(subscription_id, charge_id)
    if sub.inventory_billing == "immediate":
        paid = store.get_item(*keys.order(account_id, order_id))
        if paid is None:
            _check_products(store, sub.currency, sub.term_months, lines, "lines")
            _require_active(sub, day)
            proration: Proration | None = Proration(sub.term_start, sub.term_months, day)
        else:  # a retry after the charge: exactly that charge again (replayed)
            proration = _proration_of(paid, sub.term_months)
        result = orders.pay_order(
            store,
            _command(
                account_id,
                order_id,
                lines,
                may_use_credit=req.may_use_credit,
                actor=actor,
                methods=payment_methods.plan_for(store, account_id, sub.payment_method_id),
                proration=proration,
                subscription=(subscription_id, sub.term),
            ),
            providers=providers,
        )
        amount: int | None = int(result.body["total"])
    else:
        _check_products(store, sub.currency, sub.term_months, lines, "lines")
        _require_active(sub, day)
        amount = None

    def attempt() -> CommitResult:
        current = _load(store, account_id, subscription_id)
        uow = store.unit_of_work()
        if amount is not None:  # decided before the charge: paid now
            new = current.with_inventory(lines, order_id)
            pending = None
        else:
            new = current.with_inventory(lines, None)
            pending = {
                "kind": "subscription_charge",
                "charge_id": charge_id,
                "subscription_id": subscription_id,
                "account_id": account_id,
                "lines": [x.as_dict() for x in lines],
                "term": current.term,
                "term_start": current.term_start.isoformat(),
                "term_months": current.term_months,
                "added_on": day.isoformat(),
                "payment_method_id": current.payment_method_id,
                "may_use_credit": req.may_use_credit,
                "actor": actor,
                "state": "pending",
                "order_id": None,
                "created_at": iso(utc_now()),
            }
            uow.put(Record(*keys.subscription_charge(account_id, subscription_id, charge_id), attrs=pending))
        save_update(uow, current, new)
        uow.emit(
            _event(
                new,
                EventType.SUBSCRIPTION_INVENTORY_ADDED,
                lines=[x.as_dict() for x in lines],
                billing="immediate" if pending is None else "next_invoice",
                order_id=order_id if pending is None else None,
                amount=amount,
                currency=current.currency,
            )
        )
        charges = list(_pending(store, account_id).get(subscription_id, []))
        if pending is not None:
            charges.append(pending)
        answer = {
            "subscription": view_of(replace(new, version=current.version + 1), day, charges),
            "billing": "immediate" if pending is None else "next_invoice",
            "order_id": order_id if pending is None else None,
            "charge_id": charge_id,
            "amount": amount,
        }
        return commit(uow, claim, lambda _p: answer)

    return _stale_retry(attempt)


def settle_pending(store: Store, account_id: str, today: date, *, providers: Providers = default_provider) -> list[str]:
    """Pay every pending inventory charge of the account once (the monthly billing run calls it): each an order
    ``sub-<id>-inv-<charge id>`` prorated from the day the inventory was added. A charge that cannot be paid now
    (declined, or its product withdrawn) stays pending for the next run. Returns the orders paid."""
    paid: list[str] = []
    for row in store.query_prefix(*keys.subscription_charges_prefix(account_id), limit=1000):
        if row.get("state") != "pending":
            continue
        sid, charge_id = str(row["subscription_id"]), str(row["charge_id"])
        order_id = inventory_order_id(sid, charge_id)
        months = int(row["term_months"])
        cmd = _command(
            account_id,
            order_id,
            tuple(Line(str(x["product_code"]), int(x["quantity"])) for x in row["lines"]),
            may_use_credit=bool(row.get("may_use_credit", False)),
            actor=SETTLE_ACTOR,
            methods=payment_methods.plan_for(store, account_id, row.get("payment_method_id")),
            proration=Proration(
                date.fromisoformat(str(row["term_start"])), months, date.fromisoformat(str(row["added_on"]))
            ),
            subscription=(sid, int(row["term"])),
        )
        try:
            orders.pay_order(store, cmd, providers=providers)
        except (InsufficientFunds, InvalidInput) as exc:
            logger.info("inventory charge %s of %s stays pending: %s", charge_id, sid, exc)
            continue
        _mark_charged(store, account_id, sid, charge_id, order_id, today)
        paid.append(order_id)
    return paid


class _AlreadyCharged(Conflict):
    """Another run marked the charge meanwhile."""


def _mark_charged(store: Store, account_id: str, sid: str, charge_id: str, order_id: str, today: date) -> None:
    def attempt() -> None:
        sub = _load(store, account_id, sid)
        uow = store.unit_of_work()
        uow.update(
            RecordUpdate(
                *keys.subscription_charge(account_id, sid, charge_id),
                changes={"state": "charged", "order_id": order_id, "charged_on": today.isoformat()},
                expect={"state": "pending"},
                on_mismatch=lambda _old: _AlreadyCharged("charged already"),
            )
        )
        if order_id not in sub.orders:
            save_update(uow, sub, replace(sub, orders=(*sub.orders, order_id)))
        write_alone(uow)

    try:
        _stale_retry(attempt)
    except _AlreadyCharged:
        return
