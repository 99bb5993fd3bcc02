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
the ``respond`` callback checks the settings of exactly that version and starts over if
they changed; a card is charged, and a decline given, only after a consistent read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from account_credit.catalog import service as catalog
from account_credit.kernel.auth import Principal, visible
from account_credit.kernel.domain import Account, EntryType, Floor, Movement
from account_credit.kernel.errors import (
    ConcurrentUpdate,
    Conflict,
    DomainError,
    InsufficientFunds,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
)
from account_credit.kernel.ids import iso, utc_now
from account_credit.kernel.money import Money
from account_credit.orders import metrics as order_metrics
from account_credit.orders.config import order_settings
from account_credit.orders.decision import PaymentContext, PayMethod, attempts, split
from account_credit.orders.schemas import OrderCancel, OrderCreate, OrderView
from account_credit.orders.state import Order, OrderNotCancellable, OrderState, PaidBy
from account_credit.payment_methods import service as payment_methods
from account_credit.platform import idempotency
from account_credit.platform.events import DomainEvent, EventType
from account_credit.platform.payments import PaymentProvider
from account_credit.platform.payments import provider as default_provider
from account_credit.platform.payments.port import Charge
from account_credit.platform.store import (
    CommitResult,
    IdempotencyClaim,
    Posting,
    Record,
    RecordUpdate,
    Store,
    UnitOfWork,
)
from account_credit.platform.store.base import stored_response
from account_credit.platform.store.keys import account_pk

logger = Logger(child=True)

ORDER_PREFIX = "ORDER#"
SCOPE = "order"
CANCEL_SCOPE = "order-cancel"
SETTINGS_RESTARTS = 3

Providers = Callable[[str], PaymentProvider]


class RefundFailed(DomainError):
    """The provider refused to refund a card payment; the order stays paid."""

    status = 502
    slug = "refund-failed"
    title = "The card refund failed"


class _SettingsChanged(Exception):
    """The payment settings the decision used are not the account's current ones: decide again."""

    def __init__(self, account: Account) -> None:
        super().__init__("payment settings changed")
        self.account = account


def order_sk(order_id: str) -> str:
    return ORDER_PREFIX + order_id


def charge_key(account_id: str, order_id: str) -> str:
    """Provider idempotency key of an order's card charge: one order, at most one charge."""
    return f"order-{account_id}-{order_id}"


def refund_key(account_id: str, order_id: str) -> str:
    return f"order-refund-{account_id}-{order_id}"


def _relevant(account: Account) -> tuple[bool, bool]:
    return account.settings.bill_to_balance, account.settings.cards_enabled


# --------------------------------------------------------------------------- pricing


@dataclass(frozen=True)
class Priced:
    currency: str
    lines: list[dict[str, Any]]
    total: Money


def price(store: Store, account: Account, req: OrderCreate) -> Priced:
    """Price every line from the catalog in the account's currency (frozen on the order)."""
    products = catalog.lookup(store, [line.product_code for line in req.lines])
    lines: list[dict[str, Any]] = []
    total = Money.zero(account.currency)
    for i, line in enumerate(req.lines):
        field = f"lines.{i}.product_code"
        product = products.get(line.product_code)
        if product is None:
            raise InvalidInput(f"there is no product {line.product_code!r} in the catalog", field=field)
        if not product.active:
            raise InvalidInput(f"product {line.product_code!r} is no longer sold", field=field)
        if account.currency not in product.prices:
            raise InvalidInput(f"product {line.product_code!r} has no price in {account.currency}", field=field)
        unit = Money(product.prices[account.currency], account.currency)
        amount = unit * line.quantity
        total += amount
        lines.append(
            {
                "product_code": product.code,
                "name": product.name,
                "term_months": product.term_months,
                "quantity": line.quantity,
                "unit_price": unit.amount,
                "amount": amount.amount,
            }
        )
    return Priced(currency=account.currency, lines=lines, total=total)


def _describe(req: OrderCreate, priced: Priced) -> str:
    items = ", ".join(f"{line['quantity']} x {line['name']}" for line in priced.lines)
    return f"Order {req.order_id}: {items}"[:500]


# --------------------------------------------------------------------------- paying


def pay_order(
    store: Store,
    principal: Principal,
    account_id: str,
    req: OrderCreate,
    *,
    providers: Providers = default_provider,
    idempotency_key: str | None = None,
) -> CommitResult:
    """Pay an order (201 with the order), replay its first answer, or raise InsufficientFunds (402).

    The order id is the idempotency key; an ``Idempotency-Key`` header, if sent, must equal it.
    """
    if idempotency_key is not None and idempotency_key != req.order_id:
        raise InvalidInput(
            "for orders the order id is the idempotency key: send no Idempotency-Key or the order id",
            field="Idempotency-Key",
        )
    account = visible(principal, store.known_account(account_id), account_id)
    claim = idempotency.claim(account_id, SCOPE, req.order_id, req.fingerprint())
    try:
        priced = price(store, account, req)
    except InvalidInput:
        # The catalog may have changed since the order was paid: a repeat still gets its first answer.
        old = store.get_item(claim.pk, claim.sk)
        if old is not None:
            return stored_response(old, claim)
        raise
    for _ in range(SETTINGS_RESTARTS):
        try:
            return _Payment(store, principal, account, req, priced, claim, providers).run()
        except _SettingsChanged as changed:
            logger.info("payment settings of %s changed during the order; deciding again", account_id)
            account = changed.account
    raise ConcurrentUpdate("the account's payment settings keep changing; retry with the same order id")


class _Payment:
    """One execution of the decision against the store and the provider."""

    def __init__(
        self,
        store: Store,
        principal: Principal,
        account: Account,
        req: OrderCreate,
        priced: Priced,
        claim: IdempotencyClaim,
        providers: Providers,
    ) -> None:
        self.store = store
        self.principal = principal
        self.account = account
        self.account_id = account.account_id
        self.req = req
        self.priced = priced
        self.claim = claim
        self.providers = providers
        self.ctx = PaymentContext(
            bill_to_balance=account.settings.bill_to_balance,
            cards_enabled=account.settings.cards_enabled,
            channel_accepts_cards=order_settings().accepts_cards(req.channel),
            has_card=True,  # looked up only when the card is actually tried (never on the balance path)
            may_use_credit=req.may_use_credit,
        )
        self.short: InsufficientFunds | None = None  # the last "does not cover" from a debit attempt
        self.reasons: list[str] = []
        self.tried: list[str] = []
        self.decline_code: str | None = None

    # -- the decision

    def run(self) -> CommitResult:
        for method in attempts(self.ctx):
            if method is PayMethod.CARD:
                paid = self._card()
                if paid is not None:
                    return paid
                continue
            try:
                return self._debit(method)
            except InsufficientFunds as exc:
                self.short = exc
                self.tried.append(str(method))
                self.reasons.append(self._why_not(method))
        return self._decline()

    def _why_not(self, method: PayMethod) -> str:
        extra = self.short.extra if self.short else {}
        available = extra.get("available")
        money = f" ({Money(int(available), self.priced.currency)} available)" if available is not None else ""
        if method is PayMethod.BALANCE:
            return f"the balance does not cover it{money}"
        return f"balance + credit limit do not cover it{money}"

    # -- order record, events, response

    def _order(self) -> dict[str, Any]:
        return {
            "order_id": self.req.order_id,
            "account_id": self.account_id,
            "channel": self.req.channel,
            "state": "paid",
            "currency": self.priced.currency,
            "lines": self.priced.lines,
            "total": self.priced.total.amount,
            "may_use_credit": self.req.may_use_credit,
            "payment": None,  # completed in respond(), from the posting
            "cancellation": None,
            "actor": self.principal.actor,
            "created_at": iso(utc_now()),
        }

    def _stage(
        self, uow: UnitOfWork, movement: Movement, events: list[EventType]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Queue the movement, the order record and events; returns the mutable parts respond() completes."""
        uow.move(movement)
        attrs = {"kind": "order", **self._order()}
        uow.put(
            Record(
                pk=account_pk(self.account_id),
                sk=order_sk(self.req.order_id),
                attrs=attrs,
                on_exists=lambda _old: Conflict(f"order {self.req.order_id} already exists", field="order_id"),
            )
        )
        payloads = [late_event(uow, self.account_id, t) for t in events]
        return attrs, payloads

    def _finish(
        self, attrs: dict[str, Any], payloads: list[dict[str, Any]], payment: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        attrs["payment"] = payment
        view = view_of(attrs)
        common = {
            "order_id": self.req.order_id,
            "channel": self.req.channel,
            "method": payment["method"],
            "amount": self.priced.total.amount,
            "currency": self.priced.currency,
            "balance_before": payment["balance_before"],
            "balance_after": payment["balance_after"],
            "entry_id": payment["entry_id"],
        }
        for payload in payloads:
            payload.update(common)
        return 201, view

    # -- balance and credit: one conditional debit

    def _debit(self, method: PayMethod) -> CommitResult:
        total = self.priced.total
        uow = self.store.unit_of_work()
        attrs, payloads = self._stage(
            uow,
            Movement(
                account_id=self.account_id,
                amount=-total,
                type=EntryType.ORDER_BALANCE if method is PayMethod.BALANCE else EntryType.ORDER_CREDIT,
                floor=Floor.ZERO if method is PayMethod.BALANCE else Floor.CREDIT_LIMIT,
                description=_describe(self.req, self.priced),
                actor=self.principal.actor,
                reference={"order_id": self.req.order_id, "channel": self.req.channel},
            ),
            [EventType.ORDER_PAID, EventType.BALANCE_DEBITED],
        )

        def respond(posting: Posting) -> tuple[int, dict[str, Any]]:
            before = posting.accounts_before[self.account_id]
            if _relevant(before) != _relevant(self.account):
                raise _SettingsChanged(before)  # the version this transaction is pinned to says otherwise
            after = posting.accounts[self.account_id]
            from_balance, from_credit = split(before.balance, total.amount)
            payment = {
                "method": str(method),
                "amount": total.amount,
                "from_balance": from_balance,
                "from_credit": from_credit,
                "balance_before": before.balance,
                "balance_after": after.balance,
                "entry_id": posting.entries[0].entry_id,
                "card": None,
            }
            return self._finish(attrs, payloads, payment)

        started = time.perf_counter()
        result = uow.commit(self.claim, respond)
        if not result.replayed:
            order_metrics.debit_latency(str(method), (time.perf_counter() - started) * 1000)
            order_metrics.order_paid(str(method))
        return result

    # -- card: charge off-session, then record it

    def _fresh(self) -> None:
        """A consistent read before a card is charged or an order declined: never on stale settings."""
        fresh = self.store.get_account(self.account_id)
        if fresh is None:
            raise NotFound(f"account {self.account_id} not found")
        if _relevant(fresh) != _relevant(self.account):
            raise _SettingsChanged(fresh)

    def _replay(self) -> CommitResult | None:
        old = self.store.get_item(self.claim.pk, self.claim.sk)
        return stored_response(old, self.claim) if old is not None else None

    def _card(self) -> CommitResult | None:
        method = payment_methods.default_card(self.store, self.account_id)
        if method is None:
            self.reasons.append("there is no card on file")
            return None
        self._fresh()
        replay = self._replay()  # an order already paid is never charged again
        if replay is not None:
            return replay
        card = method.card
        provider = self.providers(card.provider)
        total = self.priced.total
        try:
            charge = provider.charge_saved_card(
                amount=total,
                card=card,
                account_id=self.account_id,
                reference=self.req.order_id,
                idempotency_key=charge_key(self.account_id, self.req.order_id),
            )
        except Exception as exc:  # any provider failure: the outcome is unknown, do not fall through
            logger.exception("card charge for order %s failed at %s", self.req.order_id, card.provider)
            raise ServiceUnavailable(
                "the payment provider did not answer; retry with the same order id (it is charged at most once)"
            ) from exc
        self.tried.append("card")
        if charge.status != "succeeded":
            self.reasons.append(
                f"the {card.brand} card ending {card.last4} was declined ({charge.decline_code or 'declined'})"
            )
            self.decline_code = charge.decline_code
            return None
        result = self._record_card(method, charge)
        paid_with = (result.body.get("payment") or {}).get("card") or {}
        if result.replayed and paid_with.get("payment_id") != charge.payment_id:
            # A concurrent delivery of this order id paid it another way: give this charge back.
            self._void(provider, charge)
        return result

    def _record_card(self, method: payment_methods.PaymentMethod, charge: Charge) -> CommitResult:
        card = method.card
        total = self.priced.total
        uow = self.store.unit_of_work()
        attrs, payloads = self._stage(
            uow,
            Movement(
                account_id=self.account_id,
                amount=Money.zero(self.priced.currency),
                type=EntryType.ORDER_CARD,
                record_only=True,
                description=_describe(self.req, self.priced),
                actor=self.principal.actor,
                reference={
                    "order_id": self.req.order_id,
                    "channel": self.req.channel,
                    "card_amount": str(total.amount),
                    "provider": card.provider,
                    "payment_id": charge.payment_id or "",
                    "last4": card.last4,
                },
            ),
            [EventType.ORDER_PAID],
        )

        def respond(posting: Posting) -> tuple[int, dict[str, Any]]:
            before = posting.accounts_before[self.account_id]
            payment = {
                "method": "card",
                "amount": total.amount,
                "from_balance": 0,
                "from_credit": 0,
                "balance_before": before.balance,
                "balance_after": posting.accounts[self.account_id].balance,
                "entry_id": posting.entries[0].entry_id,
                "card": {
                    "payment_method_id": method.payment_method_id,
                    "provider": card.provider,
                    "brand": card.brand,
                    "last4": card.last4,
                    "payment_id": charge.payment_id,
                },
            }
            return self._finish(attrs, payloads, payment)

        result = uow.commit(self.claim, respond)
        if not result.replayed:
            order_metrics.order_paid("card")
        return result

    def _void(self, provider: PaymentProvider, charge: Charge) -> None:
        if not charge.payment_id:
            return
        try:
            provider.refund(
                payment_id=charge.payment_id,
                amount=self.priced.total,
                reference=self.req.order_id,
                idempotency_key=f"void-{charge_key(self.account_id, self.req.order_id)}",
            )
        except Exception:  # logged for an operator; the order itself is settled
            logger.exception("could not void duplicate charge %s of order %s", charge.payment_id, self.req.order_id)

    # -- decline

    def _decline(self) -> CommitResult:
        self._fresh()
        replay = self._replay()  # a concurrent delivery of this order id may have paid it meanwhile
        if replay is not None:
            return replay
        total = self.priced.total
        reasons = list(self.reasons)
        if not self.ctx.bill_to_balance:
            reasons.append("bill to account balance is off")
        if not self.ctx.channel_accepts_cards:
            reasons.append(f"channel {self.req.channel!r} accepts only the balance")
        elif not self.ctx.cards_enabled:
            reasons.append("card payments are off")
        if not self.req.may_use_credit:
            reasons.append("the order may not use credit")
        shortfall = int(self.short.extra["shortfall"]) if self.short is not None else total.amount
        available = self.short.extra.get("available") if self.short is not None else None
        payload = {
            "order_id": self.req.order_id,
            "channel": self.req.channel,
            "amount": total.amount,
            "currency": total.currency,
            "shortfall": shortfall,
            "tried": list(self.tried),
            "reasons": reasons,
            "decline_code": self.decline_code,
            "lines": [{"product_code": ln["product_code"], "quantity": ln["quantity"]} for ln in self.priced.lines],
        }
        self.store.publish(DomainEvent(account_id=self.account_id, type=EventType.ORDER_DECLINED, payload=payload))
        order_metrics.order_declined()
        raise InsufficientFunds(
            f"order {self.req.order_id} for {total} was declined: {'; '.join(reasons)}. "
            f"Short by {Money(shortfall, total.currency)}.",
            shortfall=shortfall,
            currency=total.currency,
            total=total.amount,
            available=available,
            order_id=self.req.order_id,
            tried=list(self.tried),
            decline_code=self.decline_code,
        )


def late_event(uow: UnitOfWork, account_id: str, event_type: EventType) -> dict[str, Any]:
    """Queue an event now; returns its payload, completed by ``respond`` once the posting is known.

    ``respond`` runs before the transaction is built (and again on every retry with a
    refreshed account), so the item written carries the final balance before/after.
    """
    record = DomainEvent(account_id=account_id, type=event_type).record()
    payload: dict[str, Any] = {}
    record.attrs["payload"] = payload
    uow.put(record)
    return payload


def view_of(item: dict[str, Any]) -> dict[str, Any]:
    """The API form of a stored order."""
    return OrderView.model_validate({k: item.get(k) for k in OrderView.model_fields}).model_dump(mode="json")


# --------------------------------------------------------------------------- reading


def get_order(store: Store, principal: Principal, account_id: str, order_id: str) -> dict[str, Any]:
    visible(principal, store.known_account(account_id), account_id)
    item = store.get_item(account_pk(account_id), order_sk(order_id))
    if item is None:
        raise NotFound(f"order {order_id} not found")
    return view_of(item)


# --------------------------------------------------------------------------- cancelling


def cancel_order(
    store: Store,
    principal: Principal,
    account_id: str,
    order_id: str,
    req: OrderCancel,
    idempotency_key: str,
    *,
    providers: Providers = default_provider,
) -> CommitResult:
    """Cancel a paid order before fulfilment: the full amount goes back the way it came, once.

    Balance and credit orders: an ``order_cancellation`` entry credits the total back.
    Card orders: the provider refunds the charge (idempotent per order), and a record-only
    ``order_cancellation`` entry documents it. Either way the order moves paid -> cancelled
    in the same transaction, conditioned on ``state = paid``: a second cancel (any key)
    cannot give the money back twice.
    """
    visible(principal, store.known_account(account_id), account_id)
    claim = idempotency.claim(account_id, CANCEL_SCOPE, idempotency_key, {"order_id": order_id, **req.model_dump()})
    pk, sk = account_pk(account_id), order_sk(order_id)
    item = store.get_item(pk, sk)
    if item is None:
        raise NotFound(f"order {order_id} not found")
    order = Order.from_item(item)
    if order.state is not OrderState.PAID:
        old = store.get_item(claim.pk, claim.sk)
        if old is not None:
            return stored_response(old, claim)
    order.cancelled()  # OrderNotCancellable from any state but paid
    total = order.total
    method = str(order.payment.method)
    reference = {"order_id": order_id, "cancels_entry": order.payment.entry_id, "method": method}
    uow = store.unit_of_work()
    refund_id: str | None = None
    if order.payment.method is PaidBy.CARD:
        card = order.payment.card
        if card is None or not card.payment_id:
            raise RefundFailed(f"order {order_id} has no card payment to refund")
        old = store.get_item(claim.pk, claim.sk)  # a reused key is refused before the provider is called
        if old is not None:
            return stored_response(old, claim)
        try:
            refund = providers(card.provider).refund(
                payment_id=card.payment_id,
                amount=total,
                reference=order_id,
                idempotency_key=refund_key(account_id, order_id),
            )
        except Exception as exc:  # the outcome is unknown: the retry uses the same refund key
            logger.exception("refund of order %s failed at %s", order_id, card.provider)
            raise ServiceUnavailable(
                "the payment provider did not answer; retry the cancel (the card is refunded at most once)"
            ) from exc
        if refund.status != "succeeded":
            raise RefundFailed(f"the provider did not refund order {order_id}: {refund.message or 'refused'}")
        refund_id = refund.refund_id
        reference.update(card_amount=str(total.amount), refund_id=refund_id or "")
        movement = Movement(
            account_id=account_id,
            amount=Money.zero(total.currency),
            type=EntryType.ORDER_CANCELLATION,
            record_only=True,
            description=f"Order {order_id} cancelled: refunded to the card ending {card.last4}",
            actor=principal.actor,
            reference=reference,
        )
    else:
        movement = Movement(
            account_id=account_id,
            amount=total,
            type=EntryType.ORDER_CANCELLATION,
            description=f"Order {order_id} cancelled: {method} payment returned",
            actor=principal.actor,
            reference=reference,
        )
    uow.move(movement)
    changes: dict[str, Any] = {"state": str(OrderState.CANCELLED)}
    uow.update(
        RecordUpdate(
            pk=pk,
            sk=sk,
            changes=changes,
            expect={"state": str(OrderState.PAID)},
            on_mismatch=lambda _old: OrderNotCancellable(f"order {order_id} was cancelled meanwhile"),
        )
    )
    payload = late_event(uow, account_id, EventType.ORDER_CANCELLED)

    def respond(posting: Posting) -> tuple[int, dict[str, Any]]:
        before = posting.accounts_before[account_id].balance
        after = posting.accounts[account_id].balance
        cancellation = {
            "cancelled_at": posting.entries[0].created_at,
            "reason": req.reason,
            "entry_id": posting.entries[0].entry_id,
            "refund_id": refund_id,
            "balance_after": after,
        }
        changes["cancellation"] = cancellation
        payload.update(
            order_id=order_id,
            method=method,
            amount=total.amount,
            currency=total.currency,
            balance_before=before,
            balance_after=after,
            entry_id=posting.entries[0].entry_id,
            refund_id=refund_id,
        )
        return 200, {**view_of(item), "state": str(OrderState.CANCELLED), "cancellation": cancellation}

    return uow.commit(claim, respond)
