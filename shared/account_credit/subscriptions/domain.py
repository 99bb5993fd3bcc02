"""A subscription: certificate inventory for a term, renewed (or not) at the term's end. Pure: no store here.

The item (``keys.subscription(account_id, subscription_id)``, kind ``subscription``) other capabilities read:

* ``subscription_id`` (``sub_...``, derived from the create request's Idempotency-Key), ``account_id``,
  ``currency``, ``state`` (``active`` / ``suspended`` / ``expired``), ``term_months``, ``start_date`` (ISO date the
  first term starts), ``term`` (the current term's number, from 1), ``term_start`` / ``term_end`` (ISO dates,
  ``term_end`` exclusive = the renewal date), ``auto_renew``, ``payment_method_id`` (None: the account's default),
  ``items`` (``[{product_code, quantity}]``: the inventory usable now), ``renewal_items`` (the next term's
  quantities), ``inventory_billing`` (``immediate`` / ``next_invoice``: how inventory added mid-term is charged),
  ``orders`` (the ids of the orders that paid it, oldest first), ``created_at``, ``updated_at``, ``version``
  (incremented by every change; every update expects the version it read).
* Term ``k`` spans ``[add_months(start_date, (k-1) x m), add_months(start_date, k x m))``: counted from the first
  start every time, so month ends never drift (31 Jan, 28 Feb, 31 Mar...).
* While ``state == "active"`` and ``auto_renew``: ``gsi1pk = keys.RENEWAL_INDEX_PK`` and ``gsi1sk =
  keys.renewal_index_sk(term_end, account_id, subscription_id)``; otherwise the item has no gsi1 keys (the sparse
  index lists exactly the subscriptions the renewal schedule must look at, by renewal date).

For the renewal schedule: ``Subscription.from_item(item)``, ``Subscription.term_bounds(k)``,
``Subscription.renewed(order_id)`` (the next term: ``term + 1``, ``items = renewal_items``, its bounds, the order
appended) and ``Subscription.expired()``; then ``subscriptions.service.save_update(store_or_uow, old, new)`` writes
the change as one ``RecordUpdate`` expecting ``old.version`` (``update_of`` below builds it), so a renewal and a
customer's change never overwrite each other.

State rules (``effective_state``, ``suspend``, ``reactivate``; table-tested):

* ``suspended`` past its ``term_end`` reads as ``expired``; so does ``active`` without auto-renewal. An active,
  auto-renewing one past its ``term_end`` stays ``active`` until the renewal schedule renews or expires it.
* suspend: ``active`` -> ``suspended`` (no renewal, inventory unusable); already suspended: no change; expired:
  refused (409).
* reactivate: ``suspended`` -> ``active`` while ``today < term_end``, without a charge; already active: no change;
  expired (``today >= term_end``): refused (409, the term is over: create a new subscription).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from account_credit.kernel.errors import Conflict
from account_credit.kernel.proration import add_months
from account_credit.platform.store import RecordUpdate, keys

State = Literal["active", "suspended", "expired"]
InventoryBilling = Literal["immediate", "next_invoice"]
INDEX_ATTRS = ("gsi1pk", "gsi1sk")


class SubscriptionExpired(Conflict):
    """The subscription's term is over: it cannot be suspended, reactivated or given inventory."""

    slug = "subscription-expired"
    title = "The subscription has expired"


class SubscriptionSuspended(Conflict):
    slug = "subscription-suspended"
    title = "The subscription is suspended"


class StaleSubscription(Conflict):
    """The subscription changed since it was read (its version): read it again and retry."""


@dataclass(frozen=True)
class Line:
    product_code: str
    quantity: int

    def as_dict(self) -> dict[str, Any]:
        return {"product_code": self.product_code, "quantity": self.quantity}


def lines_of(raw: Iterable[dict[str, Any]]) -> tuple[Line, ...]:
    return tuple(Line(str(x["product_code"]), int(x["quantity"])) for x in raw)


def merged(*groups: Iterable[Line]) -> tuple[Line, ...]:
    """Quantities summed per product, in the order products first appear."""
    out: dict[str, int] = {}
    for group in groups:
        for line in group:
            out[line.product_code] = out.get(line.product_code, 0) + line.quantity
    return tuple(Line(code, qty) for code, qty in out.items())


def term_bounds(start_date: date, months: int, k: int) -> tuple[date, date]:
    """Term ``k`` (from 1) of a subscription that started on ``start_date``: [start, end)."""
    if k < 1:
        raise ValueError("terms are numbered from 1")
    return add_months(start_date, (k - 1) * months), add_months(start_date, k * months)


def effective_state(state: str, auto_renew: bool, term_end: date, today: date) -> State:
    if state == "expired":
        return "expired"
    if today >= term_end and (state == "suspended" or not auto_renew):
        return "expired"
    return "active" if state == "active" else "suspended"


def suspend_rule(state: State) -> State | None:
    """The state after a suspension, None for no change; SubscriptionExpired if there is nothing to suspend."""
    if state == "active":
        return "suspended"
    if state == "suspended":
        return None
    raise SubscriptionExpired("the subscription has expired: there is nothing to suspend", field="state")


def reactivate_rule(state: State) -> State | None:
    """The state after a reactivation (no charge: the term is paid), None for no change."""
    if state == "suspended":
        return "active"
    if state == "active":
        return None
    raise SubscriptionExpired(
        "the subscription's term ended while it was suspended: it cannot be reactivated; create a new one",
        field="state",
    )


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    account_id: str
    currency: str
    state: State
    term_months: int
    start_date: date
    term: int
    auto_renew: bool
    payment_method_id: str | None
    items: tuple[Line, ...]
    renewal_items: tuple[Line, ...]
    inventory_billing: InventoryBilling = "immediate"
    orders: tuple[str, ...] = ()
    created_at: str = ""
    updated_at: str = ""
    version: int = 1

    # -- terms

    def term_bounds(self, k: int) -> tuple[date, date]:
        return term_bounds(self.start_date, self.term_months, k)

    @property
    def term_start(self) -> date:
        return self.term_bounds(self.term)[0]

    @property
    def term_end(self) -> date:
        return self.term_bounds(self.term)[1]

    def state_on(self, today: date) -> State:
        return effective_state(self.state, self.auto_renew, self.term_end, today)

    def usable(self, today: date) -> bool:
        """Whether its inventory may be used now (active, within a paid term)."""
        return self.state_on(today) == "active" and self.term_start <= today < self.term_end

    # -- changes (each returns the new state; ``update_of`` turns old and new into the write)

    def suspended(self, today: date) -> Subscription:
        new = suspend_rule(self.state_on(today))
        return self if new is None else replace(self, state=new)

    def reactivated(self, today: date) -> Subscription:
        new = reactivate_rule(self.state_on(today))
        return self if new is None else replace(self, state=new)

    def expired(self) -> Subscription:
        return replace(self, state="expired")

    def renewed(self, order_id: str) -> Subscription:
        """The next term, paid by ``order_id``: its inventory is the renewal inventory."""
        return replace(self, term=self.term + 1, items=self.renewal_items, orders=(*self.orders, order_id))

    def with_inventory(self, lines: Iterable[Line], order_id: str | None) -> Subscription:
        lines = tuple(lines)
        orders = (*self.orders, order_id) if order_id else self.orders
        return replace(self, items=merged(self.items, lines), orders=orders)

    def without(self, lines: Iterable[Line]) -> Subscription:
        """The inventory less refunded certificates (never below zero per product; products at zero are dropped).
        The renewal inventory the customer set for the next term stays as it is."""
        less = {x.product_code: x.quantity for x in merged(lines)}
        items = tuple(
            Line(x.product_code, x.quantity - min(x.quantity, less.get(x.product_code, 0)))
            for x in self.items
            if x.quantity > less.get(x.product_code, 0)
        )
        return replace(self, items=items)

    # -- the item

    def index_keys(self) -> dict[str, str] | None:
        if self.state != "active" or not self.auto_renew:
            return None
        return {
            "gsi1pk": keys.RENEWAL_INDEX_PK,
            "gsi1sk": keys.renewal_index_sk(self.term_end.isoformat(), self.account_id, self.subscription_id),
        }

    def attrs(self) -> dict[str, Any]:
        """The item's attributes (without pk/sk) for this state, renewal index keys included when it has them."""
        start, end = self.term_bounds(self.term)
        return {
            "kind": "subscription",
            "subscription_id": self.subscription_id,
            "account_id": self.account_id,
            "currency": self.currency,
            "state": self.state,
            "term_months": self.term_months,
            "start_date": self.start_date.isoformat(),
            "term": self.term,
            "term_start": start.isoformat(),
            "term_end": end.isoformat(),
            "auto_renew": self.auto_renew,
            "payment_method_id": self.payment_method_id,
            "items": [x.as_dict() for x in self.items],
            "renewal_items": [x.as_dict() for x in self.renewal_items],
            "inventory_billing": self.inventory_billing,
            "orders": list(self.orders),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "version": self.version,
            **(self.index_keys() or {}),
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Subscription:
        items = lines_of(item.get("items") or [])
        return cls(
            subscription_id=str(item["subscription_id"]),
            account_id=str(item["account_id"]),
            currency=str(item["currency"]),
            state=item["state"],
            term_months=int(item["term_months"]),
            start_date=date.fromisoformat(str(item["start_date"])),
            term=int(item["term"]),
            auto_renew=bool(item["auto_renew"]),
            payment_method_id=item.get("payment_method_id"),
            items=items,
            renewal_items=lines_of(item["renewal_items"]) if item.get("renewal_items") is not None else items,
            inventory_billing=item.get("inventory_billing") or "immediate",
            orders=tuple(str(o) for o in item.get("orders") or ()),
            created_at=str(item.get("created_at", "")),
            updated_at=str(item.get("updated_at", "")),
            version=int(item.get("version", 1)),
        )


def update_of(old: Subscription, new: Subscription, now: str) -> RecordUpdate:
    """The write that turns ``old`` into ``new``: every changed attribute, ``version + 1``, the renewal index keys
    set or removed, conditioned on ``old.version`` (else ``StaleSubscription``)."""
    before = old.attrs()
    after = replace(new, version=old.version + 1, updated_at=now).attrs()
    changes = {k: v for k, v in after.items() if before.get(k) != v or k in ("version", "updated_at")}
    remove = tuple(k for k in INDEX_ATTRS if k in before and k not in after)
    return RecordUpdate(
        *keys.subscription(old.account_id, old.subscription_id),
        changes=changes,
        expect={"version": old.version},
        on_mismatch=lambda _old: StaleSubscription(
            f"subscription {old.subscription_id} changed meanwhile; read it again", field="version"
        ),
        remove=remove,
    )
