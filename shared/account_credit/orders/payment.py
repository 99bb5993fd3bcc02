"""One execution of the payment decision against the store and the provider (see orders/service.py)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger

from account_credit.holds import service as holds
from account_credit.kernel.domain import Account, EntryType, Floor, Movement
from account_credit.kernel.errors import (
    ConcurrentUpdate,
    Conflict,
    InsufficientFunds,
    NotFound,
    ServiceUnavailable,
)
from account_credit.kernel.ids import iso, utc_now
from account_credit.kernel.money import Money
from account_credit.orders import metrics as order_metrics
from account_credit.orders.commands import PayOrder
from account_credit.orders.config import order_settings
from account_credit.orders.decision import (
    BALANCE,
    CREDIT,
    Option,
    Outcome,
    PaymentContext,
    PayMethod,
    attempts,
    split,
    split_range,
    usable,
)
from account_credit.orders.pricing import Priced, _describe
from account_credit.orders.records import Providers, charge_key, view_of
from account_credit.payment_methods import gift_cards
from account_credit.payment_methods import service as payment_methods
from account_credit.platform.commit import commit
from account_credit.platform.events import DomainEvent, EventType
from account_credit.platform.payments import PaymentProvider
from account_credit.platform.payments.port import Charge
from account_credit.platform.store import (
    CommitResult,
    IdempotencyClaim,
    Posting,
    Record,
    RecordUpdate,
    Store,
    keys,
)
from account_credit.platform.store.base import Answer, stored_response

logger = Logger(child=True)
_GIFT_CARD_ATTEMPTS = 5


def _card_key(account_id: str, order_id: str, payment_method_id: str) -> str:
    """Provider idempotency key of an order's charge of one card: one order, at most one charge per card (the
    alternate is charged under its own key after the default declined)."""
    return f"{charge_key(account_id, order_id)}-{payment_method_id}"


class _SettingsChanged(Exception):
    """The payment settings the decision used are not the account's current ones: decide again."""

    def __init__(self, account: Account) -> None:
        super().__init__("payment settings changed")
        self.account = account


_RELEVANT = ("bill_to_balance", "cards_enabled")  # the payment settings the decision depends on


def _relevant(account: Account) -> tuple[bool, ...]:
    return tuple(getattr(account.settings, name) for name in _RELEVANT)


class _Payment:
    """One execution of the decision against the store and the provider."""

    def __init__(
        self,
        store: Store,
        account: Account,
        req: PayOrder,
        priced: Priced,
        claim: IdempotencyClaim,
        providers: Providers,
    ) -> None:
        self.store = store
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
            may_use_credit=req.may_use_credit,
        )
        self.methods: dict[str, payment_methods.PaymentMethod] = {}  # the stored methods of the options, by id
        self.short: InsufficientFunds | None = None  # the last "does not cover" from a debit attempt
        self.reasons: list[str] = []
        self.tried: list[str] = []
        self.attempts: list[dict[str, Any]] = []  # each method tried, with its outcome (on the order / decline)
        self.decline_code: str | None = None

    # -- the decision

    def run(self) -> CommitResult:
        done: set[Option] = set()
        if self.req.methods is None and self.ctx.bill_to_balance:
            # The balance comes first whenever it is in the list: tried before the preferences are read, so the
            # balance path reads no payment method.
            paid = self._try(BALANCE)
            if paid is not None:
                return paid
            done.add(BALANCE)
        for option in attempts(self._planned()):
            if option in done:
                continue
            paid = self._try(option)
            if paid is not None:
                return paid
        return self._decline()

    def _option(self, pm_id: str) -> Option:
        if pm_id == payment_methods.BALANCE:
            return BALANCE
        if pm_id == payment_methods.CREDIT:
            return CREDIT
        method = payment_methods.get_method(self.store, self.account_id, pm_id)
        if method is None:
            return Option(None, pm_id)
        self.methods[pm_id] = method
        return Option(PayMethod(method.type), pm_id)

    def _planned(self) -> PaymentContext:
        """The context with the methods it needs read: the caller's list, else the account's preferences (only
        when cards may be used at all)."""
        if self.req.methods is not None:
            return replace(self.ctx, given=tuple(self._option(m) for m in self.req.methods))
        if not self.ctx.cards_allowed:
            return self.ctx
        prefs = payment_methods.preferences(self.store, self.account_id)
        preferred = tuple(self._option(m) for m in (prefs.default, prefs.alternate) if m is not None)
        if not any(o.method in (PayMethod.CARD, PayMethod.GIFT_CARD) for o in preferred):
            self.reasons.append("there is no card on file (as the default or alternate payment method)")
        return replace(self.ctx, preferred=preferred)

    def _attempt(self, option: Option, outcome: Outcome, decline_code: str | None = None) -> None:
        self.attempts.append(
            {
                "method": str(option.method) if option.method is not None else None,
                "payment_method_id": option.payment_method_id,
                "outcome": str(outcome),
                "decline_code": decline_code,
            }
        )

    def _try(self, option: Option) -> CommitResult | None:
        if not usable(self.ctx, option) or option.method is None:
            self._attempt(option, Outcome.UNAVAILABLE)
            what = option.payment_method_id or str(option.method)
            self.reasons.append(
                f"payment method {what} does not exist"
                if option.method is None
                else f"payment method {what} cannot be used here (cards off, or the channel takes only the balance)"
            )
            return None
        if option.method in (PayMethod.BALANCE, PayMethod.CREDIT):
            try:
                return self._debit(option)
            except InsufficientFunds as exc:
                self.short = exc
                self.tried.append(str(option.method))
                self.reasons.append(self._why_not(option.method))
                self._attempt(option, Outcome.INSUFFICIENT)
                return None
        method = self.methods[str(option.payment_method_id)]
        if option.method is PayMethod.CARD:
            return self._card(option, method)
        if option.method is PayMethod.GIFT_CARD:
            return self._gift_card(option, method)
        self._attempt(option, Outcome.NEEDS_TRANSFER)
        self.tried.append(str(option.method))
        self.reasons.append("pay on invoice cannot pay an order at once (a payment request waits for the transfer)")
        return None

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
            "net": self.priced.net,
            "vat": self.priced.vat,
            "total": self.priced.total.amount,
            "tax": self.priced.tax,
            "may_use_credit": self.req.may_use_credit,
            "cancellation": None,
            "actor": self.req.actor,
            "created_at": iso(utc_now()),
            "subscription": (
                {"subscription_id": self.req.subscription[0], "term": self.req.subscription[1]}
                if self.req.subscription
                else None
            ),
        }

    def _finish(
        self, payment: dict[str, Any], events: list[EventType], balance_range: tuple[int | None, int | None]
    ) -> Answer:
        """The order with its payment and its events, from this attempt's posting: built fresh on every attempt,
        written with the movement, valid for starting balances in ``balance_range``."""
        attrs = {"kind": "order", **self._order(), "payment": payment}
        order = Record(
            *keys.order(self.account_id, self.req.order_id),
            attrs={**attrs, **keys.order_index_keys(self.account_id, attrs["created_at"], self.req.order_id)},
            on_exists=lambda _old: Conflict(f"order {self.req.order_id} already exists", field="order_id"),
        )
        common = {
            "order_id": self.req.order_id,
            "channel": self.req.channel,
            "method": payment["method"],
            "amount": self.priced.total.amount,
            "currency": self.priced.currency,
            "from_balance": payment["from_balance"],
            "from_credit": payment["from_credit"],
            "entry_id": payment["entry_id"],
            "attempts": payment["attempts"],
        }
        records = [DomainEvent(account_id=self.account_id, type=t, payload=dict(common)).record() for t in events]
        return Answer(
            view_of(attrs),
            records=(order, *records),
            balance_range={self.account_id: balance_range},
            settings={self.account_id: _RELEVANT},  # the decision was made on them
        )

    # -- balance and credit: one conditional debit

    def _paid(self, option: Option) -> list[dict[str, Any]]:
        """The attempts of the order, ending with the one that pays it."""
        paid = {
            "method": str(option.method),
            "payment_method_id": option.payment_method_id,
            "outcome": str(Outcome.PAID),
            "decline_code": None,
        }
        return [*self.attempts, paid]

    def _debit(self, option: Option) -> CommitResult:
        method = option.method
        total = self.priced.total
        uow = self.store.unit_of_work()
        # A renewal uses up the hold that reserved its price: given back to the balance in this same write, so
        # the debit may spend it (holds/service.py); a hold that is no longer active is simply not used.
        capture = (
            holds.use_up(self.store, self.account_id, self.req.capture_hold, self.req.order_id)
            if (self.req.capture_hold)
            else None
        )
        uow.move(
            Movement(
                account_id=self.account_id,
                amount=-total,
                type=EntryType.ORDER_BALANCE if method is PayMethod.BALANCE else EntryType.ORDER_CREDIT,
                floor=Floor.ZERO if method is PayMethod.BALANCE else Floor.CREDIT_LIMIT,
                description=_describe(self.req, self.priced),
                actor=self.req.actor,
                reference={"order_id": self.req.order_id, "channel": self.req.channel},
                hold=-capture[0] if capture else 0,
            )
        )
        if capture:
            uow.update(capture[1])

        def respond(posting: Posting) -> Answer:
            before = posting.accounts_before[self.account_id]
            if _relevant(before) != _relevant(self.account):
                raise _SettingsChanged(before)  # the state this attempt is planned on says otherwise
            from_balance, from_credit = split(before.balance, total.amount)
            payment = {
                "method": str(method),
                "amount": total.amount,
                "from_balance": from_balance,
                "from_credit": from_credit,
                "entry_id": posting.entries[0].entry_id,
                "card": None,
                "gift_card": None,
                "attempts": self._paid(option),
            }
            # The split holds for every starting balance that gives the same split: the write relies on no more.
            return self._finish(
                payment, [EventType.ORDER_PAID, EventType.BALANCE_DEBITED], split_range(before.balance, total.amount)
            )

        started = time.perf_counter()
        try:
            result = commit(uow, self.claim, respond)
        except holds.HoldNotActive:
            # Released or used meanwhile (auto-renewal turned off, another run): pay without it.
            self.req = replace(self.req, capture_hold=None)
            return self._debit(option)
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

    def _card(self, option: Option, method: payment_methods.PaymentMethod) -> CommitResult | None:
        card = method.card
        assert card is not None
        if method.expired(utc_now().date()):
            self.tried.append("card")
            self.reasons.append(
                f"the {card.brand} card ending {card.last4} expired ({card.exp_month:02d}/{card.exp_year})"
            )
            self.decline_code = "expired_card"
            self._attempt(option, Outcome.DECLINED, "expired_card")
            return None
        self._fresh()
        replay = self._replay()  # an order already paid is never charged again
        if replay is not None:
            return replay
        provider = self.providers(card.provider)
        total = self.priced.total
        try:
            charge = provider.charge_saved_card(
                amount=total,
                card=card,
                account_id=self.account_id,
                reference=self.req.order_id,
                idempotency_key=_card_key(self.account_id, self.req.order_id, method.payment_method_id),
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
            self._attempt(option, Outcome.DECLINED, charge.decline_code or "declined")
            return None
        result = self._record_card(option, method, charge)
        paid_with = (result.body.get("payment") or {}).get("card") or {}
        if result.replayed and paid_with.get("payment_id") != charge.payment_id:
            # A concurrent delivery of this order id paid it another way: give this charge back.
            self._void(provider, charge, method.payment_method_id)
        return result

    def _paid_elsewhere(self, entry_type: EntryType, **reference: str) -> Movement:
        """The record-only entry of an order paid outside the balance (card, gift card): amount 0, what was paid
        and how in its reference."""
        return Movement(
            account_id=self.account_id,
            amount=Money.zero(self.priced.currency),
            type=entry_type,
            record_only=True,
            description=_describe(self.req, self.priced),
            actor=self.req.actor,
            reference={"order_id": self.req.order_id, "channel": self.req.channel, **reference},
        )

    def _record_card(self, option: Option, method: payment_methods.PaymentMethod, charge: Charge) -> CommitResult:
        card = method.card
        assert card is not None
        total = self.priced.total
        uow = self.store.unit_of_work()
        uow.move(
            self._paid_elsewhere(
                EntryType.ORDER_CARD,
                card_amount=str(total.amount),
                provider=card.provider,
                payment_id=charge.payment_id or "",
                last4=card.last4,
            )
        )

        def respond(posting: Posting) -> Answer:
            payment = {
                "method": "card",
                "amount": total.amount,
                "from_balance": 0,
                "from_credit": 0,
                "entry_id": posting.entries[0].entry_id,
                "card": {
                    "payment_method_id": method.payment_method_id,
                    "provider": card.provider,
                    "brand": card.brand,
                    "last4": card.last4,
                    "payment_id": charge.payment_id,
                },
                "gift_card": None,
                "attempts": self._paid(option),
            }
            return self._finish(payment, [EventType.ORDER_PAID], (None, None))

        result = commit(uow, self.claim, respond)
        if not result.replayed:
            order_metrics.order_paid("card")
        return result

    def _void(self, provider: PaymentProvider, charge: Charge, payment_method_id: str) -> None:
        if not charge.payment_id:
            return
        try:
            provider.refund(
                payment_id=charge.payment_id,
                amount=self.priced.total,
                reference=self.req.order_id,
                idempotency_key=f"void-{_card_key(self.account_id, self.req.order_id, payment_method_id)}",
            )
        except Exception:  # logged for an operator; the order itself is settled
            logger.exception("could not void duplicate charge %s of order %s", charge.payment_id, self.req.order_id)

    # -- gift card: its remaining value taken down in the order's transaction

    def _gift_card(self, option: Option, method: payment_methods.PaymentMethod) -> CommitResult | None:
        code = str(method.gift_card_code)
        total = self.priced.total
        for _ in range(_GIFT_CARD_ATTEMPTS):
            try:
                if method.currency != total.currency:
                    raise gift_cards.Insufficient(f"the gift card is in {method.currency}")
                redemption, remaining = gift_cards.redeem(self.store, self.account_id, code, total.amount)
            except gift_cards.Insufficient as exc:
                self.tried.append("gift_card")
                self.reasons.append(f"the gift card ending {code[-4:]} does not cover it ({exc.detail})")
                self._attempt(option, Outcome.INSUFFICIENT)
                return None
            try:
                result = self._record_gift_card(option, method, redemption, remaining)
            except gift_cards.Moved:
                continue  # spent meanwhile by another order: read it again
            return result
        raise ConcurrentUpdate("the gift card keeps changing; retry with the same order id")

    def _record_gift_card(
        self, option: Option, method: payment_methods.PaymentMethod, redemption: RecordUpdate, remaining: int
    ) -> CommitResult:
        code = str(method.gift_card_code)
        total = self.priced.total
        uow = self.store.unit_of_work()
        uow.update(redemption)
        uow.move(
            self._paid_elsewhere(EntryType.ORDER_GIFT_CARD, gift_card_amount=str(total.amount), gift_card=code[-4:])
        )

        def respond(posting: Posting) -> Answer:
            payment = {
                "method": "gift_card",
                "amount": total.amount,
                "from_balance": 0,
                "from_credit": 0,
                "entry_id": posting.entries[0].entry_id,
                "card": None,
                "gift_card": {
                    "payment_method_id": method.payment_method_id,
                    "code": code,  # stored for a cancel to give the value back; not in the view
                    "last4": code[-4:],
                    "remaining": remaining - total.amount,
                },
                "attempts": self._paid(option),
            }
            return self._finish(payment, [EventType.ORDER_PAID], (None, None))

        result = commit(uow, self.claim, respond)
        if not result.replayed:
            order_metrics.order_paid("gift_card")
        return result

    # -- decline

    def _decline(self) -> CommitResult:
        self._fresh()
        replay = self._replay()  # a concurrent delivery of this order id may have paid it meanwhile
        if replay is not None:
            return replay
        total = self.priced.total
        reasons = list(self.reasons)
        if self.req.methods is None:  # the account's rule: why it left methods out (a caller's list says it all)
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
            "attempts": list(self.attempts),
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
            attempts=list(self.attempts),
        )
