"""Refunding certificates of a paid order: the command (the rules are ``orders/refunds.py``; docs/ORDERS.md).

One refund is one transaction: the ledger entry (a credit of what goes back to the balance and off the credit used,
or a record-only entry of what went back to the card or the gift card), the order's update (certificates refunded
per line, what each source got back, the refund itself; conditioned on the order's state and refund count as read,
so two refunds never both take the same certificates), the gift card's value back, the subscription's inventory
less the refunded certificates, the ``order.refunded`` event and the idempotency record.

A card refund asks the provider first, with a key per order and refund number. Before that, the refund's number is
claimed by an item naming the caller's Idempotency-Key (``keys.order_refund_claim``): a second refund of the same
order waits (409) instead of asking the provider for money the first one is taking. A provider that does not answer
leaves the claim: the same Idempotency-Key, sent again, completes it (the provider refunds at most once per key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from account_credit.kernel.auth import Role
from account_credit.kernel.domain import EntryType, Movement
from account_credit.kernel.errors import (
    ConcurrentUpdate,
    DomainError,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
)
from account_credit.kernel.ids import iso, utc_now
from account_credit.kernel.money import Money
from account_credit.orders import refunds as rules
from account_credit.orders.cancel import (
    RefundFailed,
    RefundInProgress,
    RefundWindowClosed,
    placed_at,
    take_refund_number,
)
from account_credit.orders.commands import RefundLine, RefundOrder
from account_credit.orders.records import REFUND_SCOPE, Providers, refund_key, refunded_counts, view_of
from account_credit.orders.state import REFUNDABLE, Order, OrderState
from account_credit.payment_methods import gift_cards
from account_credit.platform import idempotency
from account_credit.platform.commit import commit
from account_credit.platform.events import DomainEvent, EventType
from account_credit.platform.idempotency import IdempotencyClaim
from account_credit.platform.payments import provider as default_provider
from account_credit.platform.store import CommitResult, Posting, RecordUpdate, Store, keys
from account_credit.platform.store.base import Answer, stored_response
from account_credit.subscriptions.domain import Line as SubscriptionLine
from account_credit.subscriptions.domain import StaleSubscription, Subscription, update_of

logger = Logger(child=True)
RESTARTS = 5


class _OrderMoved(ConcurrentUpdate):
    """The order changed between the read and the write: plan the refund again on what it is now."""


@dataclass(frozen=True)
class Plan:
    """What one refund does to an order: its number, lines, the counts after it, where the money goes."""

    number: int
    lines: tuple[dict[str, Any], ...]  # {line, product_code, quantity, amount}
    refunded: tuple[int, ...]  # certificates refunded per line after this refund
    split: rules.Split
    state: OrderState
    given_back: dict[str, int]  # per source, after this refund

    @property
    def amount(self) -> int:
        return self.split.total

    @property
    def certificates(self) -> int:
        return sum(int(x["quantity"]) for x in self.lines)


def sources_paid(item: dict[str, Any]) -> dict[str, int]:
    """What each source paid of a stored order (``orders.refunds.SOURCES``)."""
    pay = item["payment"]
    method = str(pay["method"])
    if method in ("balance", "credit"):
        return {"balance": int(pay.get("from_balance") or 0), "credit": int(pay.get("from_credit") or 0)}
    return {method: int(pay["amount"])}


def _gross(line: dict[str, Any]) -> int:
    return int(line.get("gross") or int(line["amount"]) + int(line.get("vat") or 0))


def plan(item: dict[str, Any], cmd: RefundOrder) -> Plan:
    """The refund ``cmd`` asks for, on the order as stored; InvalidInput naming the line that cannot be refunded,
    OrderNotRefundable when nothing of the order is left to refund."""
    lines = list(item.get("lines") or [])
    done = refunded_counts(item)
    order = Order.from_item(item)
    if order.state not in REFUNDABLE:
        order.after_refund(False)  # OrderNotRefundable: cancelled or refunded in full
    wanted: dict[int, int] = {}
    if cmd.everything:
        wanted = {
            n: int(x["quantity"]) - d for n, (x, d) in enumerate(zip(lines, done, strict=True)) if x["quantity"] > d
        }
    for i, ask in enumerate(cmd.lines):
        if not 1 <= ask.line <= len(lines):
            raise InvalidInput(
                f"the order has {len(lines)} line(s): there is no line {ask.line}", field=f"lines[{i}].line"
            )
        if ask.line - 1 in wanted:
            raise InvalidInput(f"line {ask.line} is named twice: name each line once", field=f"lines[{i}].line")
        wanted[ask.line - 1] = ask.quantity
    after = list(done)
    out = []
    amount = 0
    for i, (n, more) in enumerate(sorted(wanted.items())):
        line = lines[n]
        field = f"lines[{i}].quantity" if not cmd.everything else "lines"
        part = rules.line_refund(_gross(line), int(line["quantity"]), done[n], more, field=field)
        after[n] += more
        amount += part
        out.append({"line": n + 1, "product_code": str(line["product_code"]), "quantity": more, "amount": part})
    if not out:  # nothing named (the schema requires a line) or nothing left of a cancel's "everything"
        raise InvalidInput("name at least one line to refund", field="lines")
    whole = all(a == int(x["quantity"]) for a, x in zip(after, lines, strict=True))
    given = {k: int(v) for k, v in (item.get("given_back") or {}).items()}
    split = rules.split(amount, sources_paid(item), given)
    for source, part in split.parts:
        given[source] = given.get(source, 0) + part
    return Plan(
        number=int(item.get("refund_count") or 0) + 1,
        lines=tuple(out),
        refunded=tuple(after),
        split=split,
        state=order.after_refund(whole),
        given_back=given,
    )


def refund_order(
    store: Store, cmd: RefundOrder, *, now: datetime | None = None, providers: Providers = default_provider
) -> CommitResult:
    """Refund certificates of an order (201 with the order), replay the first answer of the key, or refuse: 403
    refund-window-closed, 409 order-not-refundable / refund-in-progress, 422 naming the line."""
    claim = idempotency.claim(cmd.account_id, REFUND_SCOPE, cmd.idempotency_key, cmd.fingerprint())
    for _ in range(RESTARTS):
        old = store.get_item(claim.pk, claim.sk)
        if old is not None:
            return stored_response(old, claim)
        item = store.get_item(*keys.order(cmd.account_id, cmd.order_id))
        if item is None:
            raise NotFound(f"order {cmd.order_id} not found")
        why = rules.may_refund(Role.OPERATOR if cmd.by_operator else Role.CUSTOMER, placed_at(item), now or utc_now())
        if why is not None:
            raise RefundWindowClosed(why)
        try:
            return _Refund(store, cmd, claim, item, plan(item, cmd), providers).run()
        except (_OrderMoved, StaleSubscription):
            logger.info("order %s changed during its refund; planning again", cmd.order_id)
        except RefundInProgress as busy:
            if not (busy.stale and busy.held.get("request")):
                raise
            _complete(store, cmd.account_id, cmd.order_id, busy.held, now, providers)
    raise ConcurrentUpdate("the order keeps changing; retry with the same Idempotency-Key")


def _complete(
    store: Store,
    account_id: str,
    order_id: str,
    held: dict[str, Any],
    now: datetime | None,
    providers: Providers,
) -> None:
    """Complete a card refund whose request stopped after claiming its number (its caller never came back): the
    claim's own request, under its own Idempotency-Key (the provider refunds once per order and number)."""
    asked = held["request"]
    stuck = RefundOrder(
        account_id,
        order_id,
        str(held["idempotency_key"]),
        str(asked["actor"]),
        lines=tuple(RefundLine(int(x["line"]), int(x["quantity"])) for x in asked.get("lines") or []),
        everything=bool(asked.get("everything")),
        reason=asked.get("reason"),
        by_operator=bool(asked.get("by_operator")),
    )
    logger.warning("completing refund %s of order %s left by its request", held.get("idempotency_key"), order_id)
    try:
        refund_order(store, stuck, now=now, providers=providers)
    except ServiceUnavailable:
        raise  # the provider still does not answer: nothing more can be done now
    except DomainError as exc:  # refused now (nothing left, provider refusal): the claim was freed or is moot
        logger.info("the stuck refund of order %s ended: %s", order_id, exc)


@dataclass
class _Refund:
    store: Store
    cmd: RefundOrder
    claim: IdempotencyClaim
    item: dict[str, Any]
    plan: Plan
    providers: Providers

    @property
    def currency(self) -> str:
        return str(self.item["currency"])

    def run(self) -> CommitResult:
        cmd, p = self.cmd, self.plan
        method = str(self.item["payment"]["method"])
        reference = {"order_id": cmd.order_id, "refund": str(p.number), "method": method}
        what = f"Order {cmd.order_id}: {p.certificates} certificate(s) refunded"
        uow = self.store.unit_of_work()
        refund_id: str | None = None
        if method == "card":
            refund_id = self._card()
            reference.update(card_amount=str(p.amount), refund_id=refund_id or "")
            movement = self._record(f"{what} to the card ending {self.item['payment']['card']['last4']}", reference)
        elif method == "gift_card":
            code = str((self.item["payment"].get("gift_card") or {}).get("code") or "")
            uow.update(gift_cards.give_back(self.store, code, p.amount))
            reference.update(gift_card_amount=str(p.amount), gift_card=code[-4:])
            movement = self._record(f"{what} to the gift card ending {code[-4:]}", reference)
        else:
            reference.update(balance_amount=str(p.split.of("balance")), credit_amount=str(p.split.of("credit")))
            movement = Movement(
                account_id=cmd.account_id,
                amount=Money(p.amount, self.currency),
                type=EntryType.ORDER_REFUND,
                description=what,
                actor=cmd.actor,
                reference=reference,
            )
        uow.move(movement)
        subscription = self._subscription()
        if subscription is not None:
            uow.update(subscription)
        return commit(uow, self.claim, lambda posting: self._answer(posting, refund_id))

    def _record(self, description: str, reference: dict[str, str]) -> Movement:
        return Movement(
            account_id=self.cmd.account_id,
            amount=Money.zero(self.currency),
            type=EntryType.ORDER_REFUND,
            record_only=True,
            description=description,
            actor=self.cmd.actor,
            reference=reference,
        )

    def _card(self) -> str | None:
        """Claim the refund's number, then have the provider refund the card (once per order and number)."""
        cmd, p = self.cmd, self.plan
        card = self.item["payment"].get("card") or {}
        if not card.get("payment_id"):
            raise RefundFailed(f"order {cmd.order_id} has no card payment to refund")
        request = {
            "lines": [{"line": x.line, "quantity": x.quantity} for x in cmd.lines],
            "everything": cmd.everything,
            "reason": cmd.reason,
            "actor": cmd.actor,
            "by_operator": cmd.by_operator,
        }
        take_refund_number(self.store, cmd.account_id, cmd.order_id, p.number, cmd.idempotency_key, p.amount, request)
        try:
            refund = self.providers(str(card["provider"])).refund(
                payment_id=str(card["payment_id"]),
                amount=Money(p.amount, self.currency),
                reference=cmd.order_id,
                idempotency_key=refund_key(cmd.account_id, cmd.order_id, p.number),
            )
        except Exception as exc:  # the outcome is unknown: the same key retries with the same provider key
            logger.exception("refund %s of order %s failed at %s", p.number, cmd.order_id, card["provider"])
            raise ServiceUnavailable(
                "the payment provider did not answer; send the refund again with the same Idempotency-Key "
                "(the card is refunded at most once)"
            ) from exc
        if refund.status != "succeeded":
            self.store.delete_record(*keys.order_refund_claim(cmd.account_id, cmd.order_id, p.number))  # free again
            raise RefundFailed(f"the provider did not refund order {cmd.order_id}: {refund.message or 'refused'}")
        return refund.refund_id

    def _subscription(self) -> RecordUpdate | None:
        """The subscription's inventory less the refunded certificates, when the order paid for its current term."""
        of = self.item.get("subscription") or {}
        if not of:
            return None
        got = self.store.get_item(*keys.subscription(self.cmd.account_id, str(of["subscription_id"])))
        if got is None:
            return None
        sub = Subscription.from_item(got)
        if sub.term != int(of["term"]):
            return None
        less = [SubscriptionLine(str(x["product_code"]), int(x["quantity"])) for x in self.plan.lines]
        return update_of(sub, sub.without(less), iso(utc_now()))

    def _answer(self, posting: Posting, refund_id: str | None) -> Answer:
        cmd, p, item = self.cmd, self.plan, self.item
        entry = posting.entries[0]
        refund = {
            "number": p.number,
            "refunded_at": entry.created_at,
            "lines": list(p.lines),
            "amount": p.amount,
            "to": dict(p.split.parts),
            "entry_id": entry.entry_id,
            "refund_id": refund_id,
            "reason": cmd.reason,
            "actor": cmd.actor,
        }
        changes = {
            "state": str(p.state),
            "refunded": list(p.refunded),
            "given_back": p.given_back,
            "refunds": [*(item.get("refunds") or []), refund],
            "refund_count": p.number,
        }
        expect: dict[str, Any] = {"state": item["state"]}
        if p.number > 1:
            expect["refund_count"] = p.number - 1
        update = RecordUpdate(
            *keys.order(cmd.account_id, cmd.order_id),
            changes=changes,
            expect=expect,
            on_mismatch=lambda _old: _OrderMoved(f"order {cmd.order_id} changed meanwhile"),
        )
        event = DomainEvent(
            account_id=cmd.account_id,
            type=EventType.ORDER_REFUNDED,
            payload={
                "order_id": cmd.order_id,
                "number": p.number,
                "amount": p.amount,
                "currency": self.currency,
                "to": dict(p.split.parts),
                "certificates": p.certificates,
                "entry_id": entry.entry_id,
                "refund_id": refund_id,
                "state": str(p.state),
            },
        )
        return Answer(view_of({**item, **changes}), records=(event.record(),), updates=(update,))
