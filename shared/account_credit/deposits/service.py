"""Deposits (top-ups): card checkouts, the provider's webhook events, views and lists.

Bank transfers (payment references, proformas, incoming transfers, suspense) are in
``bank/``; both share the deposit item (deposits/records.py).

Items (docs/DATA_MODEL.md; their keys: platform/store/keys.py):

* deposit            ``ACCOUNT#<account_id>`` / ``DEPOSIT#<deposit_id>`` (state machine: deposits/state.py)
* payment link       ``PAYMENT#<provider>#<payment_id>`` / ``PAYMENT``  -> account and deposit of a payment
* webhook event      ``WEBHOOK#<provider>#<event_id>`` / ``WEBHOOK``    permanent dedup of provider events
* account flag       ``ACCOUNT#<account_id>`` / ``FLAG#<created_at>#<deposit_id>``  a top-up was taken back

Exactly once: an event that moves money commits, in ONE transaction, the ledger movement(s)
and balance, the deposit's new state (conditional on the version that was read), the webhook
event record (must not exist), the domain event, and an idempotency record whose key is
derived from the provider's payment id (credit) or the cumulative reversed amounts
(reversal), so a concurrent duplicate gets the first answer back and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from account_credit.bank import proformas
from account_credit.bank import service as bank
from account_credit.deposits import schemas as ds
from account_credit.deposits.commands import CreateDeposit
from account_credit.deposits.config import deposit_settings
from account_credit.deposits.records import (
    AlreadyRecorded,
    StaleDeposit,
    _raise_duplicate,
    check_amount,
    deposit_update,
    get,
    logger,
    plain,
    refuse,
    view,
)
from account_credit.deposits.state import (
    Deposit,
    DepositState,
    Method,
    Transition,
    on_payment_failed,
    on_payment_succeeded,
    on_reversal,
)
from account_credit.kernel.domain import Account, EntryType, Floor, Movement
from account_credit.kernel.errors import (
    ConcurrentUpdate,
    Conflict,
    IdempotencyKeyReused,
    NotFound,
    PaymentProviderError,
    ServiceUnavailable,
)
from account_credit.kernel.ids import iso, new_id, utc_now
from account_credit.kernel.money import Money
from account_credit.payment_methods import service as payment_methods
from account_credit.platform import idempotency, payments
from account_credit.platform.commit import commit
from account_credit.platform.config import settings
from account_credit.platform.events import DomainEvent, EventType
from account_credit.platform.payments.port import InvalidSignature, WebhookEvent
from account_credit.platform.retry import retry
from account_credit.platform.store import CommitResult, IdempotencyClaim, Posting, Record, Store, keys
from account_credit.platform.store.base import stored_response

LIST_LIMIT_MAX = 200


def get_deposit(store: Store, account_id: str, deposit_id: str) -> dict[str, Any]:
    """One deposit of the account (the caller's right to see the account was checked at the edge)."""
    deposit = get(store, account_id, deposit_id)
    if deposit is None:
        raise NotFound(f"deposit {deposit_id} not found")
    return view(deposit)


def list_deposits(store: Store, account_id: str, *, state: str | None, limit: int) -> dict[str, Any]:
    """Newest first; ``state`` filters among the latest ``LIST_LIMIT_MAX`` deposits."""
    rows = store.query_prefix(*keys.deposits_prefix(account_id), limit=LIST_LIMIT_MAX, newest_first=True)
    # Ids sort by millisecond; created_at (microseconds) orders deposits made within one millisecond.
    deposits = sorted((Deposit.from_item(r) for r in rows), key=lambda d: (d.created_at, d.deposit_id), reverse=True)
    if state:
        deposits = [d for d in deposits if d.state == state]
    flags = store.query_prefix(*keys.flags_prefix(account_id), limit=LIST_LIMIT_MAX, newest_first=True)
    return {
        "items": [view(d) for d in deposits[:limit]],
        "flags": [
            ds.Flag(
                **{k: f[k] for k in ("reason", "deposit_id", "amount", "currency", "source", "created_at")}
            ).model_dump(mode="json")
            for f in flags
        ],
    }


# --------------------------------------------------------------------------- create


def create_deposit(store: Store, cmd: CreateDeposit) -> CommitResult:
    """A pending card top-up (returns what the client pays with) or a proforma for a bank transfer.

    The caller is authorized already (the router checks that the principal may see the account)."""
    account = store.known_account(cmd.account_id)
    if account is None:
        raise NotFound(f"account {cmd.account_id} not found")
    amount = check_amount(account, cmd.amount, cmd.currency)
    claim = idempotency.claim(cmd.account_id, "deposit", cmd.idempotency_key, cmd.fingerprint())
    # A replay must not open a second checkout at the provider: answer it before calling out.
    old = store.get_item(claim.pk, claim.sk)
    if old is not None:
        return stored_response(old, claim)
    if cmd.method == Method.BANK_TRANSFER:
        return proformas.issue_proforma(store, account, amount, claim, actor=cmd.actor)
    return _card_checkout(store, account, amount, cmd.save_card, claim, actor=cmd.actor)


def _card_checkout(
    store: Store, account: Account, amount: Money, save_card: bool, claim: IdempotencyClaim, *, actor: str
) -> CommitResult:
    provider = payments.provider(deposit_settings().payment_provider)
    deposit_id = new_id("dep")
    checkout = provider.create_checkout(
        amount=amount,
        account_id=account.account_id,
        deposit_id=deposit_id,
        idempotency_key=f"deposit-{account.account_id}-{claim.key}",
        save_card=save_card,
    )
    now = iso(utc_now())
    deposit = Deposit(
        deposit_id=deposit_id,
        account_id=account.account_id,
        method=Method.CARD,
        currency=account.currency,
        amount=amount.amount,
        state=DepositState.PENDING,
        created_at=now,
        updated_at=now,
        actor=actor,
        provider=provider.name,
        payment_id=checkout.payment_id,
        save_card=save_card,
    )
    uow = store.unit_of_work()
    uow.put(Record(*keys.deposit(account.account_id, deposit_id), attrs=plain(deposit.attrs())))
    uow.put(
        Record(
            *keys.payment_link(provider.name, checkout.payment_id),
            attrs={
                "kind": "payment_link",
                "provider": provider.name,
                "payment_id": checkout.payment_id,
                "account_id": account.account_id,
                "deposit_id": deposit_id,
                "created_at": now,
            },
            on_exists=lambda old: Conflict(f"payment {checkout.payment_id} already belongs to {old.get('deposit_id')}"),
        )
    )

    def respond(_posting: Posting) -> dict[str, Any]:
        body = view(deposit)
        body["checkout"] = ds.Checkout(
            provider=checkout.provider,
            payment_id=checkout.payment_id,
            client_secret=checkout.client_secret,
            checkout_url=checkout.checkout_url,
        ).model_dump(mode="json")
        return body

    return commit(uow, claim, respond)


# --------------------------------------------------------------------------- webhooks


def receive_webhook(store: Store, provider_name: str, payload: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """``POST /webhooks/{provider}``: the bank's transfers, or the configured card provider's events."""
    if provider_name == "bank":
        return bank.receive_bank_webhook(store, payload, headers)
    if provider_name != deposit_settings().payment_provider:
        raise NotFound(f"no webhook endpoint for provider {provider_name!r}")
    provider = payments.provider(provider_name)
    try:
        event = provider.parse_webhook(payload, headers)
    except InvalidSignature as exc:
        refuse(provider_name, exc)
    return apply_event(store, event, payment_metadata=provider.payment_metadata)


def apply_event(
    store: Store, event: WebhookEvent, *, payment_metadata: Callable[[str], Mapping[str, str]] | None = None
) -> dict[str, Any]:
    """Apply one verified provider event to its deposit (exactly once, whatever the order)."""
    ack: dict[str, Any] = {
        "received": True,
        "provider": event.provider,
        "event_id": event.event_id,
        "type": event.raw_type,
    }
    if event.type == "ignored" or event.payment_id is None:
        return {**ack, "outcome": "ignored"}
    seen = store.get_item(*keys.webhook_event(event.provider, event.event_id))
    if seen is not None:
        if event.card is not None and seen.get("account_id") and seen.get("deposit_id"):
            # Read the deposit only for a redelivered payment that carries a card (whether to keep it).
            _keep_card(store, get(store, seen["account_id"], seen["deposit_id"]), event)
        return {
            **ack,
            "outcome": "duplicate",
            "deposit_id": seen.get("deposit_id"),
            "account_id": seen.get("account_id"),
        }
    link = store.get_item(*keys.payment_link(event.provider, event.payment_id))
    if link is None:
        if _a_top_ups_payment_not_linked_yet(event, payment_metadata):
            # Ours, but its deposit is not committed (yet): make the provider deliver it again later.
            logger.error("deposit payment without a deposit", extra={"payment_id": event.payment_id})
            raise ServiceUnavailable(f"payment {event.payment_id} is not known yet; deliver again later")
        return {**ack, "outcome": "ignored", "reason": "not a deposit payment"}
    account_id, deposit_id = link["account_id"], link["deposit_id"]
    ack.update(account_id=account_id, deposit_id=deposit_id)

    def attempt() -> dict[str, Any]:
        deposit = get(store, account_id, deposit_id)
        if deposit is None:
            raise ServiceUnavailable(f"deposit {deposit_id} is not readable yet; deliver again later")
        transition = decide(deposit, event)
        try:
            return {**ack, **_commit_event(store, deposit, event, transition)}
        except (AlreadyRecorded, IdempotencyKeyReused):
            # The same event, or this payment's credit / this reversal, is already committed.
            _keep_card(store, deposit, event)
            return {**ack, "outcome": "duplicate"}

    # The deposit changed between our read and our write (StaleDeposit): read it and decide again.
    return retry(
        attempt,
        on=(StaleDeposit,),
        attempts=settings().max_write_attempts,
        exhausted=ConcurrentUpdate("the deposit kept changing; deliver again"),
    )


def _a_top_ups_payment_not_linked_yet(
    event: WebhookEvent, payment_metadata: Callable[[str], Mapping[str, str]] | None
) -> bool:
    """Whether an event naming a payment no deposit is linked to is ours all the same, so it must be delivered again
    rather than acknowledged and lost. Its own metadata says so; a refund's or dispute's charge carries none, so the
    provider is asked about the payment (a Checkout top-up's PaymentIntent is linked only once the session's
    completion is applied: a refund or dispute can overtake a completion whose deliveries kept failing)."""
    if event.metadata.get("purpose") == "deposit":
        return True
    if event.type not in ("payment.refunded", "payment.disputed") or payment_metadata is None:
        return False
    assert event.payment_id is not None
    try:
        return payment_metadata(event.payment_id).get("purpose") == "deposit"
    except PaymentProviderError as exc:
        raise ServiceUnavailable(f"could not tell whether payment {event.payment_id} is a top-up's: {exc}") from None


def _keep_card(store: Store, deposit: Deposit | None, event: WebhookEvent) -> None:
    """Save the card a paid top-up asked to keep. After the credit, which must not depend on it; and again on every
    redelivery of the payment (saving is idempotent per token), so a process that died between the credit and
    this step loses no card: the provider's next delivery saves it."""
    if deposit is not None and deposit.save_card and event.type == "payment.succeeded" and event.card is not None:
        payment_methods.save_card(store, deposit.account_id, event.card)


def decide(deposit: Deposit, event: WebhookEvent) -> Transition:
    if event.amount is not None and event.amount.currency != deposit.currency:
        logger.error(
            "provider event currency differs from the deposit",
            extra={"deposit_id": deposit.deposit_id, "event_id": event.event_id},
        )
        return Transition("currency_mismatch")
    amount = event.amount.amount if event.amount is not None else 0
    if event.type == "payment.succeeded":
        return on_payment_succeeded(deposit, amount)
    if event.type == "payment.failed":
        return on_payment_failed(deposit, event.failure_message or "payment failed")
    if event.type in ("payment.refunded", "payment.disputed"):
        return on_reversal(deposit, "refund" if event.type == "payment.refunded" else "dispute", amount)
    return Transition("ignored")


def _commit_event(store: Store, deposit: Deposit, event: WebhookEvent, t: Transition) -> dict[str, Any]:
    now = iso(utc_now())
    account_id = deposit.account_id
    uow = store.unit_of_work()
    uow.put(
        Record(
            *keys.webhook_event(event.provider, event.event_id),
            attrs={
                "kind": "webhook_event",
                "provider": event.provider,
                "event_id": event.event_id,
                "type": event.raw_type,
                "payment_id": event.payment_id,
                "account_id": account_id,
                "deposit_id": deposit.deposit_id,
                "outcome": t.outcome,
                "received_at": now,
            },
            on_exists=_raise_duplicate,
        )
    )
    if t.changes:
        uow.update(deposit_update(deposit, t.changes, now))
    alias = event.also_known_as if event.type == "payment.succeeded" else None
    if alias and alias != event.payment_id and store.get_item(*keys.payment_link(event.provider, alias)) is None:
        # The payment's other id (a Stripe Checkout Session's PaymentIntent, which refunds and disputes name) finds
        # this deposit too. Written only while absent; a concurrent writer makes us read and decide again.
        uow.put(
            Record(
                *keys.payment_link(event.provider, alias),
                attrs={
                    "kind": "payment_link",
                    "provider": event.provider,
                    "payment_id": alias,
                    "account_id": account_id,
                    "deposit_id": deposit.deposit_id,
                    "created_at": now,
                },
                on_exists=lambda _old: StaleDeposit(f"payment {alias} was linked meanwhile"),
            )
        )
    reference = {"deposit_id": deposit.deposit_id, "provider": event.provider, "payment_id": event.payment_id or ""}
    actor = f"provider:{event.provider}"
    claim: IdempotencyClaim | None = None
    if t.credit:
        uow.move(
            Movement(
                account_id=account_id,
                amount=Money(t.credit, deposit.currency),
                type=EntryType.DEPOSIT_CARD,
                description=f"Card top-up {deposit.deposit_id}",
                actor=actor,
                reference=reference,
            )
        )
        uow.emit(
            DomainEvent(
                account_id=account_id,
                type=EventType.DEPOSIT_RECEIVED,
                payload={
                    "deposit_id": deposit.deposit_id,
                    "method": Method.CARD.value,
                    "amount": t.credit,
                    "currency": deposit.currency,
                    "provider": event.provider,
                    "payment_id": event.payment_id,
                },
            )
        )
        key = f"{event.provider}:{event.payment_id}:credit"
        claim = idempotency.claim(
            account_id, "deposit-webhook", key, {"payment_id": event.payment_id, "credit": t.credit}
        )
    if t.reverse:
        source = "refund" if event.type == "payment.refunded" else "dispute"
        if t.credit:
            source = "refund_or_dispute_before_success"
        uow.move(
            Movement(
                account_id=account_id,
                amount=Money(-t.reverse, deposit.currency),
                type=EntryType.DEPOSIT_REVERSAL,
                floor=Floor.NONE,  # the money was never ours: the balance may go below zero
                description=f"Card top-up {deposit.deposit_id} taken back ({source})",
                actor=actor,
                reference=reference,
            )
        )
        uow.put(
            Record(
                *keys.account_flag(account_id, now, deposit.deposit_id),
                attrs={
                    "kind": "flag",
                    "reason": "deposit_reversed",
                    "deposit_id": deposit.deposit_id,
                    "amount": t.reverse,
                    "currency": deposit.currency,
                    "source": source,
                    "event_id": event.event_id,
                    "created_at": now,
                },
            )
        )
        uow.emit(
            DomainEvent(
                account_id=account_id,
                type=EventType.DEPOSIT_REVERSED,
                payload={
                    "deposit_id": deposit.deposit_id,
                    "amount": t.reverse,
                    "currency": deposit.currency,
                    "source": source,
                    "provider": event.provider,
                    "payment_id": event.payment_id,
                },
            )
        )
        if claim is None:
            refunded = t.changes.get("refunded_amount", deposit.refunded_amount)
            disputed = t.changes.get("disputed_amount", deposit.disputed_amount)
            key = f"{event.provider}:{event.payment_id}:reversal:r{refunded}:d{disputed}"
            claim = idempotency.claim(
                account_id, "deposit-webhook", key, {"payment_id": event.payment_id, "reverse": t.reverse}
            )

    def respond(posting: Posting) -> dict[str, Any]:
        body: dict[str, Any] = {"outcome": t.outcome}
        if posting.entries:
            body["entries"] = [e.entry_id for e in posting.entries]
        return body

    result = commit(uow, claim, respond)
    if t.credit:
        _keep_card(store, deposit, event)
    if result.replayed:
        return {"outcome": "duplicate"}
    if t.outcome == "currency_mismatch":
        logger.error("card deposit event kept, not applied", extra={"event_id": event.event_id})
    return {"outcome": result.body["outcome"]}
