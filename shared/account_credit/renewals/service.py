"""The daily renewal schedule, the renewal holds and the renewal-aware forecast (docs/SUBSCRIPTIONS.md, Renewals).

``run_day(store, today)`` reads the sparse renewal index (``gsi1pk = RENEWAL``, ``gsi1sk = <renewal date>#<account>
#<subscription>``: only active, auto-renewing subscriptions are in it) up to the furthest day it must look at, and
for each subscription does what ``rules.action`` says:

* **hold** (in the hold window): reserve the renewal's gross price on the balance, once per subscription and term
  (hold id ``renewal-<sid>-<term being paid for>``).
* **renew** (due, or within its grace period): ``orders.service.pay_order`` (the one payment command) with the
  order id ``renewal-<sid>-<term>``: the assigned (or default) method, then the alternate; the balance path uses
  the hold up. The deterministic order id makes the charge once per term: a rerun, an overlapping run or a run
  after a crash finds the order already paid (its stored answer) and charges nothing again. Then the subscription
  advances to the next term: one conditional write (expecting the term and version read) with its event
  (``renewal.succeeded`` or ``renewal.paid_with_alternate``), so an overlapping run's advance simply finds it done.
* **unpaid**: the attempt is recorded on the subscription (``renewal_attempts``, ``renewal_failed_since``) with a
  ``renewal.failed`` event, once per subscription, term and day (a ``RENEWALNOTE#failed#...`` marker written in the
  same transaction). After the last day of its grace period the subscription is suspended (``subscription.suspended``
  with ``reason = renewal_failed``, written with the state change) and its hold released.
* **forecast**: per account with a renewal in the forecast window, what those renewals cost against what the
  account can spend (available + what is already held for them); when short, ``renewal.forecast_short`` once per
  window (marker keyed by the window's first renewal date), days before the renewal could fail.

Everything is safe to run twice at once: every write is conditional or once-only, so a second run only finds the
work done.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from aws_lambda_powertools import Logger

from account_credit.bank.proformas import issue_proforma
from account_credit.holds import service as holds
from account_credit.kernel.domain import Account
from account_credit.kernel.errors import Conflict, DomainError, InsufficientFunds, InvalidInput, NotFound
from account_credit.kernel.ids import iso, utc_now
from account_credit.kernel.money import Money
from account_credit.kernel.proration import add_months
from account_credit.orders import service as orders
from account_credit.orders.commands import OrderLine, PayOrder
from account_credit.orders.pricing import price
from account_credit.orders.records import Providers
from account_credit.payment_methods import service as payment_methods
from account_credit.platform import idempotency
from account_credit.platform.events import DomainEvent, EventType, announce_once
from account_credit.platform.payments import provider as default_provider
from account_credit.platform.store import Record, RecordUpdate, Store, keys
from account_credit.platform.store.base import write_alone
from account_credit.renewals import rules
from account_credit.renewals.config import RenewalSettings, renewal_settings
from account_credit.subscriptions.domain import StaleSubscription, Subscription, update_of
from account_credit.subscriptions.service import renewal_hold_id

logger = Logger(child=True)

CHANNEL = "renewal"
ACTOR = "schedule:renewals"
TRANSFER_SCOPE = "renewal-transfer"  # the idempotency scope of a renewal's payment request (one per term)
ADVANCE_ATTEMPTS = 5  # re-reads when a customer's change moved the version between the read and the write
PAGE = 100


# --------------------------------------------------------------------------- ids


def renewal_order_id(subscription_id: str, term: int) -> str:
    """The order that pays ``term`` of the subscription: one per term, whatever runs."""
    return f"renewal-{subscription_id}-{term}"


hold_id = renewal_hold_id  # the hold reserving the price of a term: the one the subscriptions service releases


# --------------------------------------------------------------------------- the subscription, as renewals read it


@dataclass(frozen=True)
class Due:
    """What the schedule reads of a subscription item (docs/SUBSCRIPTIONS.md)."""

    account_id: str
    subscription_id: str
    currency: str
    state: str
    auto_renew: bool
    term: int
    term_months: int
    start_date: date
    term_end: date
    renewal_items: tuple[OrderLine, ...]
    payment_method_id: str | None
    version: int
    renewal_attempts: int = 0

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Due:
        items = item.get("renewal_items")
        if items is None:
            items = item.get("items") or []
        return cls(
            account_id=str(item["account_id"]),
            subscription_id=str(item["subscription_id"]),
            currency=str(item["currency"]),
            state=str(item["state"]),
            auto_renew=bool(item.get("auto_renew")),
            term=int(item["term"]),
            term_months=int(item["term_months"]),
            start_date=date.fromisoformat(str(item["start_date"])),
            term_end=date.fromisoformat(str(item["term_end"])),
            renewal_items=tuple(OrderLine(str(x["product_code"]), int(x["quantity"])) for x in items),
            payment_method_id=item.get("payment_method_id"),
            version=int(item.get("version", 1)),
            renewal_attempts=int(item.get("renewal_attempts") or 0),
        )

    @property
    def next_term(self) -> int:
        return self.term + 1

    @property
    def renews(self) -> bool:
        return self.state == "active" and self.auto_renew

    def bounds(self, k: int) -> tuple[date, date]:
        return add_months(self.start_date, (k - 1) * self.term_months), add_months(
            self.start_date, k * self.term_months
        )


def _read(store: Store, account_id: str, subscription_id: str) -> tuple[Due, dict[str, Any]] | None:
    item = store.get_item(*keys.subscription(account_id, subscription_id))
    return (Due.from_item(item), item) if item is not None else None


class _Moved(Conflict):
    """The subscription changed since it was read (another run, or the customer)."""


def _advance(sub: Due, item: dict[str, Any], order_id: str, now: str) -> RecordUpdate:
    """The next term, paid by ``order_id`` (``Subscription.renewed``: its inventory is the renewal inventory, the
    renewal index key moved), the failure notes cleared; expects the version read (StaleSubscription otherwise)."""
    del sub
    old = Subscription.from_item(item)
    upd = update_of(old, old.renewed(order_id), now)
    return replace(upd, changes={**upd.changes, "renewal_attempts": 0, "renewal_failed_since": None})


def _suspend(item: dict[str, Any], now: str) -> RecordUpdate:
    """Suspended after its grace period: out of the renewal index; expects the version read."""
    old = Subscription.from_item(item)
    return update_of(old, replace(old, state="suspended"), now)


# --------------------------------------------------------------------------- pricing


def renewal_price(store: Store, account: Account, sub: Due) -> int:
    """The gross price of the next term (catalog prices of the renewal inventory, VAT of the account)."""
    cmd = _command(sub, None, None)
    return price(store, account, cmd).total.amount


def _command(sub: Due, methods: tuple[str, ...] | None, capture: str | None) -> PayOrder:
    return PayOrder(
        account_id=sub.account_id,
        order_id=renewal_order_id(sub.subscription_id, sub.next_term),
        channel=CHANNEL,
        lines=sub.renewal_items,
        may_use_credit=False,
        actor=ACTOR,
        methods=methods,
        capture_hold=capture,
        subscription=(sub.subscription_id, sub.next_term),
    )


# --------------------------------------------------------------------------- the report


@dataclass
class RunReport:
    today: str
    looked_at: int = 0
    holds_placed: list[str] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)  # "<sid>#<term>" advanced by this run
    paid_with_alternate: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    suspended: list[str] = field(default_factory=list)
    forecast_alerts: list[str] = field(default_factory=list)
    awaiting_transfer: list[str] = field(default_factory=list)  # pay on invoice: payment requests issued
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today,
            "looked_at": self.looked_at,
            "holds_placed": self.holds_placed,
            "renewed": self.renewed,
            "paid_with_alternate": self.paid_with_alternate,
            "failed": self.failed,
            "suspended": self.suspended,
            "forecast_alerts": self.forecast_alerts,
            "awaiting_transfer": self.awaiting_transfer,
            "errors": self.errors,
        }


# --------------------------------------------------------------------------- the run


def _index(store: Store, until: date) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        page, cursor = store.index_page(keys.RENEWAL_INDEX_PK, until=f"{until.isoformat()}~", cursor=cursor, limit=PAGE)
        yield from page
        if cursor is None:
            return


def run_day(
    store: Store,
    today: date,
    *,
    account_id: str | None = None,
    providers: Providers = default_provider,
    cfg: RenewalSettings | None = None,
) -> RunReport:
    """Holds, renewals, retries, suspensions and forecast alerts due ``today`` (only ``account_id``'s if given)."""
    cfg = cfg or renewal_settings()
    report = RunReport(today=today.isoformat())
    horizon = max(rules.index_horizon(today, cfg.windows), rules.forecast_end(today, cfg.forecast_days))
    accounts: list[str] = []
    for row in _index(store, horizon):
        acc, sid = str(row["account_id"]), str(row["subscription_id"])
        if account_id is not None and acc != account_id:
            continue
        if acc not in accounts:
            accounts.append(acc)
        if date.fromisoformat(str(row["term_end"])) > rules.index_horizon(today, cfg.windows):
            continue  # only in the forecast window
        report.looked_at += 1
        try:
            _one(store, acc, sid, today, cfg, providers, report)
        except DomainError as exc:  # one subscription's trouble (an outage) never stops the others
            logger.warning("renewal of %s/%s not done today: %s", acc, sid, exc)
            report.errors.append(f"{sid}: {exc}")
    for acc in accounts:
        try:
            if alert_if_short(store, acc, today, cfg.forecast_days):
                report.forecast_alerts.append(acc)
        except DomainError as exc:
            report.errors.append(f"{acc}: forecast: {exc}")
    return report


def _one(
    store: Store, account_id: str, sid: str, today: date, cfg: RenewalSettings, providers: Providers, report: RunReport
) -> None:
    read = _read(store, account_id, sid)
    if read is None:
        return
    sub, _item = read
    if not sub.renews:
        return  # suspended or auto-renew off since the index was read
    step = rules.action(sub.term_end, today, cfg.windows)
    if step is rules.Action.WAIT:
        return
    if step is rules.Action.HOLD:
        if _place_hold(store, sub):
            report.holds_placed.append(hold_id(sid, sub.next_term))
        return
    _renew(store, sub, today, cfg, providers, report, last=step is rules.Action.RENEW_OR_SUSPEND)


def _place_hold(store: Store, sub: Due) -> bool:
    hid = hold_id(sub.subscription_id, sub.next_term)
    if holds.get(store, sub.account_id, hid) is not None:
        return False
    account = store.get_account(sub.account_id)
    if account is None:
        raise NotFound(f"account {sub.account_id} not found")
    amount = renewal_price(store, account, sub)
    if amount <= 0:
        return False
    placed = holds.place(
        store, sub.account_id, hid, amount, account.currency, subscription_id=sub.subscription_id, term=sub.next_term
    )
    return placed is not None


def _renew(
    store: Store, sub: Due, today: date, cfg: RenewalSettings, providers: Providers, report: RunReport, *, last: bool
) -> None:
    order_id = renewal_order_id(sub.subscription_id, sub.next_term)
    order = store.get_item(*keys.order(sub.account_id, order_id))
    if order is None:  # not paid yet (a paid one is never paid again, even if the renewal inventory changed since)
        hid = hold_id(sub.subscription_id, sub.next_term)
        hold = holds.get(store, sub.account_id, hid)
        capture = hid if hold is not None and hold.state == "active" else None
        planned = payment_methods.plan_for(store, sub.account_id, sub.payment_method_id)
        # Pay on invoice: the transfer, once it is credited, is on the balance, so the balance takes its place.
        on_invoice = payment_methods.INVOICE in planned
        if on_invoice:
            planned = tuple(
                dict.fromkeys(payment_methods.BALANCE if m == payment_methods.INVOICE else m for m in planned)
            )
        cmd = _command(sub, planned, capture)
        try:
            order = orders.pay_order(store, cmd, providers=providers).body
        except InsufficientFunds as exc:
            if on_invoice and not last:
                _request_transfer(store, sub, report)
                return
            _unpaid(store, sub, today, cfg, report, last=last, detail=str(exc), extra=exc.extra)
            return
        except InvalidInput as exc:  # the renewal inventory is no longer sold: nothing can pay it
            _unpaid(store, sub, today, cfg, report, last=last, detail=str(exc), extra={})
            return
    _paid(store, sub, order, report)


def outcome(order: dict[str, Any]) -> tuple[EventType, dict[str, Any]]:
    """Which renewal event a paid order means, and what it says of the payment: the first method tried paid it
    (``renewal.succeeded``), or an earlier one failed and another paid (``renewal.paid_with_alternate``, with the
    failed method and its decline code). Reads ``payment.attempts`` (``[{method, payment_method_id, outcome,
    decline_code}]``) when the order has them."""
    payment = order.get("payment") or {}
    card = payment.get("card") or {}
    said: dict[str, Any] = {"method": payment.get("method")}
    if card.get("last4"):
        said["last4"] = card["last4"]
        said["brand"] = card.get("brand")
    failed = [a for a in payment.get("attempts") or [] if a.get("outcome") not in ("succeeded", "paid")]
    if failed:
        first = failed[0]
        said["failed_method"] = first.get("payment_method_id") or first.get("method")
        said["decline_code"] = first.get("decline_code")
        return EventType.RENEWAL_PAID_WITH_ALTERNATE, said
    return EventType.RENEWAL_SUCCEEDED, said


def _paid(store: Store, sub: Due, order: dict[str, Any], report: RunReport) -> None:
    """Advance the subscription over the paid order, with its event; give back a hold the payment did not use."""
    term = sub.next_term
    hid = hold_id(sub.subscription_id, term)
    hold = holds.get(store, sub.account_id, hid)
    if hold is not None and hold.state == "active":
        holds.release(store, sub.account_id, hid, reason=f"renewal paid another way (order {order['order_id']})")
    kind, said = outcome(order)
    current = sub
    for _ in range(ADVANCE_ATTEMPTS):
        read = _read(store, current.account_id, current.subscription_id)
        if read is None:
            return
        current, item = read
        if current.term >= term:
            return  # an overlapping run advanced it (and announced it)
        uow = store.unit_of_work()
        uow.update(_advance(current, item, str(order["order_id"]), iso(utc_now())))
        uow.emit(
            DomainEvent(
                account_id=sub.account_id,
                type=kind,
                payload={
                    "subscription_id": sub.subscription_id,
                    "term": term,
                    "order_id": order["order_id"],
                    "amount": order.get("total"),
                    "currency": order.get("currency"),
                    **said,
                },
            )
        )
        try:
            write_alone(uow)
        except (_Moved, StaleSubscription):
            continue
        report.renewed.append(f"{sub.subscription_id}#{term}")
        if kind is EventType.RENEWAL_PAID_WITH_ALTERNATE:
            report.paid_with_alternate.append(f"{sub.subscription_id}#{term}")
        return
    raise Conflict(f"subscription {sub.subscription_id} keeps changing; its renewal is advanced on the next run")


class _Noted(Conflict):
    """Today's failure of this renewal was recorded before."""


def _unpaid(
    store: Store,
    sub: Due,
    today: date,
    cfg: RenewalSettings,
    report: RunReport,
    *,
    last: bool,
    detail: str,
    extra: dict[str, Any],
) -> None:
    term = sub.next_term
    if last:
        _suspend_after_grace(store, sub, report)
        return
    amount = extra.get("total")
    retry_until = rules.retry_until(sub.term_end, cfg.windows)
    uow = store.unit_of_work()
    uow.put(
        Record(
            *keys.renewal_notice(sub.account_id, f"failed#{sub.subscription_id}#{term}#{today.isoformat()}"),
            attrs={"kind": "renewal_notice", "subscription_id": sub.subscription_id, "term": term},
            on_exists=lambda _old: _Noted("noted"),
        )
    )
    # Bookkeeping only (no version change, so a customer's change is not refused for it).
    uow.update(
        RecordUpdate(
            *keys.subscription(sub.account_id, sub.subscription_id),
            changes={
                "renewal_attempts": sub.renewal_attempts + 1,
                "renewal_failed_since": sub.term_end.isoformat(),
                "renewal_last_attempt": today.isoformat(),
            },
            expect={"term": sub.term},
            on_mismatch=lambda _old: _Moved("renewed meanwhile"),
        )
    )
    uow.emit(
        DomainEvent(
            account_id=sub.account_id,
            type=EventType.RENEWAL_FAILED,
            payload={
                "subscription_id": sub.subscription_id,
                "term": term,
                "order_id": renewal_order_id(sub.subscription_id, term),
                "amount": amount if isinstance(amount, int) else None,
                "currency": extra.get("currency", sub.currency),
                "shortfall": extra.get("shortfall"),
                "attempts": sub.renewal_attempts + 1,
                "tried": extra.get("tried") or [],
                "decline_code": extra.get("decline_code"),
                "retry_until": retry_until.isoformat(),
                "reasons": [detail],
            },
        )
    )
    try:
        write_alone(uow)
    except (_Noted, _Moved):
        return
    report.failed.append(f"{sub.subscription_id}#{term}")


def _request_transfer(store: Store, sub: Due, report: RunReport) -> None:
    """A renewal paid on invoice: its payment request (a proforma with the seller's bank details and the account's
    payment reference, emailed as any proforma) is issued once per term, and ``renewal.awaiting_transfer`` said
    once. The renewal waits: when the transfer is credited, the next day's run pays it from the balance; if none
    arrives within the grace period, the subscription is suspended like any unpaid renewal."""
    term = sub.next_term
    account = store.get_account(sub.account_id)
    if account is None:
        raise NotFound(f"account {sub.account_id} not found")
    amount = renewal_price(store, account, sub)
    purpose = {"subscription_id": sub.subscription_id, "term": term}
    claim = idempotency.claim(sub.account_id, TRANSFER_SCOPE, f"{sub.subscription_id}#{term}", purpose)
    issued = issue_proforma(store, account, Money(amount, account.currency), claim, actor=ACTOR).body
    proforma = issued.get("proforma") or {}
    told = announce_once(
        store,
        keys.renewal_notice(sub.account_id, f"transfer#{sub.subscription_id}#{term}"),
        {"kind": "renewal_notice", **purpose},
        DomainEvent(
            account_id=sub.account_id,
            type=EventType.RENEWAL_AWAITING_TRANSFER,
            payload={
                **purpose,
                "order_id": renewal_order_id(sub.subscription_id, term),
                "amount": amount,
                "currency": account.currency,
                "deposit_id": issued.get("deposit_id"),
                "proforma_number": proforma.get("number"),
                "due_date": proforma.get("due_date"),
            },
        ),
    )
    if told:
        report.awaiting_transfer.append(f"{sub.subscription_id}#{term}")


def _suspend_after_grace(store: Store, sub: Due, report: RunReport) -> None:
    current = sub
    for _ in range(ADVANCE_ATTEMPTS):
        read = _read(store, current.account_id, current.subscription_id)
        if read is None:
            return
        current, item = read
        if current.term != sub.term or not current.renews:
            return  # renewed, suspended or turned off meanwhile
        uow = store.unit_of_work()
        uow.update(_suspend(item, iso(utc_now())))
        uow.emit(
            DomainEvent(
                account_id=sub.account_id,
                type=EventType.SUBSCRIPTION_SUSPENDED,
                payload={"subscription_id": sub.subscription_id, "term": sub.term, "reason": "renewal_failed"},
            )
        )
        try:
            write_alone(uow)
        except StaleSubscription:
            continue
        report.suspended.append(sub.subscription_id)
        renewal_stopped(store, sub.account_id, sub.subscription_id, sub.next_term, reason="subscription suspended")
        return
    raise Conflict(f"subscription {sub.subscription_id} keeps changing; it is suspended on the next run")


def renewal_stopped(store: Store, account_id: str, subscription_id: str, term: int, *, reason: str) -> bool:
    """Release the hold of ``term``'s renewal (the subscription was suspended, auto-renew was turned off): the
    subscriptions capability calls this; True when a hold was released."""
    return holds.release(store, account_id, hold_id(subscription_id, term), reason=reason)


# --------------------------------------------------------------------------- the forecast


@dataclass(frozen=True)
class Forecast:
    account_id: str
    currency: str
    window_end: str  # the last day counted (ISO date)
    due: int  # what the renewals in the window cost (gross, minor units)
    available: int  # what can pay them: available to spend + what is held for them
    subscriptions: tuple[dict[str, Any], ...]  # {subscription_id, renewal_date, term, amount}

    @property
    def short(self) -> bool:
        return self.due > self.available

    @property
    def first_due(self) -> str | None:
        return self.subscriptions[0]["renewal_date"] if self.subscriptions else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "window_end": self.window_end,
            "due": self.due,
            "available": self.available,
            "currency": self.currency,
            "short": self.short,
            "shortfall": max(0, self.due - self.available),
            "subscriptions": list(self.subscriptions),
        }


def _subscriptions(store: Store, account_id: str) -> Iterator[dict[str, Any]]:
    after: str | None = None
    while True:
        page = store.query_prefix(*keys.subscriptions_prefix(account_id), limit=PAGE, after=after)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1]["sk"]


def forecast(store: Store, account_id: str, today: date, days: int = 30) -> Forecast:
    """What the account's renewals due within ``days`` (and those overdue in their grace period) cost, and what
    it can pay them with (balance - held + credit limit, plus what is held for exactly these renewals)."""
    account = store.get_account(account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    due = reserved = 0
    listed: list[dict[str, Any]] = []
    for item in _subscriptions(store, account_id):
        if item.get("kind") != "subscription":
            continue
        sub = Due.from_item(item)
        if not sub.renews or not rules.in_forecast(sub.term_end, today, days):
            continue
        try:
            amount = renewal_price(store, account, sub)
        except InvalidInput:
            continue  # no longer sold: it cannot renew (its renewal fails and says so)
        hold = holds.get(store, account_id, hold_id(sub.subscription_id, sub.next_term))
        if hold is not None and hold.state == "active":
            reserved += hold.amount
        due += amount
        listed.append(
            {
                "subscription_id": sub.subscription_id,
                "renewal_date": sub.term_end.isoformat(),
                "term": sub.next_term,
                "amount": amount,
            }
        )
    listed.sort(key=lambda x: (x["renewal_date"], x["subscription_id"]))
    return Forecast(
        account_id=account_id,
        currency=account.currency,
        window_end=rules.forecast_end(today, days).isoformat(),
        due=due,
        available=account.available + reserved,
        subscriptions=tuple(listed),
    )


def alert_if_short(store: Store, account_id: str, today: date, days: int = 30) -> bool:
    """``renewal.forecast_short`` once per window (named by its first renewal date) when the renewals due soon
    cost more than the account can pay: True if announced now."""
    fc = forecast(store, account_id, today, days)
    if not fc.short or fc.first_due is None:
        return False
    uow = store.unit_of_work()
    uow.put(
        Record(
            *keys.renewal_notice(account_id, f"forecast#{fc.first_due}"),
            attrs={"kind": "renewal_notice", "window_end": fc.window_end, "due": fc.due},
            on_exists=lambda _old: _Noted("announced"),
        )
    )
    uow.emit(DomainEvent(account_id=account_id, type=EventType.RENEWAL_FORECAST_SHORT, payload=fc.as_dict()))
    try:
        write_alone(uow)
    except _Noted:
        return False
    return True
