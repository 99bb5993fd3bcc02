"""Bank transfers in: the bank's signed webhook and operators' records of the statement, matched by payment
reference and credited once, or kept on the suspense list.

The bank capability: payment references (bank/references.py), proforma invoices (bank/proformas.py),
incoming transfers (here) and the suspense list of unmatched ones (bank/suspense.py).

Incoming transfers (bank webhook or an operator): a dedup item ``keys.bank_transfer`` (must not exist)
and an idempotency record keyed on the transfer id. Matched by reference -> credited in one transaction
with the ledger entry and linked to the account's proforma (oldest open one whose outstanding amount it
equals, else the oldest open one; a new deposit without a proforma if none is open). Unmatched (no /
invalid / unknown reference) or in another currency than the account: kept as ``keys.suspense_transfer``
until an operator assigns it to an account (credited once) or marks it returned. Nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from account_credit.bank.references import normalise_reference, valid_reference
from account_credit.deposits import schemas as ds
from account_credit.deposits.config import secret
from account_credit.deposits.records import AlreadyRecorded, StaleDeposit, deposit_update, logger, plain, refuse
from account_credit.deposits.state import (
    OPEN_PROFORMA,
    PROFORMA_NUMBER,
    Deposit,
    DepositState,
    Method,
    on_transfer,
    pick_proforma,
)
from account_credit.kernel.domain import Account, EntryType, Movement
from account_credit.kernel.errors import ConcurrentUpdate, Conflict, IdempotencyKeyReused, InvalidInput
from account_credit.kernel.ids import iso, new_id, utc_now
from account_credit.kernel.money import Money
from account_credit.platform import idempotency
from account_credit.platform.commit import commit
from account_credit.platform.config import settings
from account_credit.platform.events import DomainEvent, EventType
from account_credit.platform.payments import stripe_format
from account_credit.platform.payments.port import InvalidSignature
from account_credit.platform.retry import retry
from account_credit.platform.store import CommitResult, IdempotencyClaim, Posting, Record, RecordUpdate, Store, keys

SIGNATURE_HEADER = "Bank-Signature"
# How many of an account's latest deposits are searched for an open proforma.
PROFORMA_LOOKBACK = 200


def receive_bank_webhook(store: Store, payload: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """``POST /webhooks/bank``: a signed transfer notification (same scheme as Stripe, own secret and header)."""
    try:
        body = stripe_format.verify(
            payload, stripe_format.header(headers, SIGNATURE_HEADER), secret("bank_webhook_secret")
        )
    except InvalidSignature as exc:
        refuse("bank", exc)
    try:
        transfer = ds.IncomingTransfer.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "body"
        logger.error("signed bank transfer refused as malformed", extra={"field": field, "error": first.get("msg")})
        raise InvalidInput(f"{field}: {first.get('msg', 'invalid')}", field=field) from None
    result = record_transfer(store, transfer, actor="bank")
    return {
        "received": True,
        "provider": "bank",
        "transfer_id": transfer.transfer_id,
        "outcome": result["outcome"],
        "account_id": result.get("account_id"),
        "deposit_id": result.get("deposit_id"),
        "reason": result.get("reason"),
    }


def _transfer_info(t: ds.IncomingTransfer, now: str) -> dict[str, Any]:
    return {
        "transfer_id": t.transfer_id,
        "amount": t.amount,
        "currency": t.currency,
        "booked_date": t.booked_date.isoformat(),
        "reference": t.reference,
        "payer_name": t.payer.name if t.payer else None,
        "payer_iban": t.payer.iban if t.payer else None,
        "received_at": now,
    }


def _result(item: dict[str, Any], outcome: str) -> dict[str, Any]:
    return ds.TransferResult(
        transfer_id=item["transfer_id"],
        outcome=outcome,  # type: ignore[arg-type]
        status=item["status"],
        reason=item.get("reason"),
        account_id=item.get("account_id"),
        deposit_id=item.get("deposit_id"),
        proforma_number=item.get("proforma_number"),
    ).model_dump(mode="json")


def record_transfer(store: Store, t: ds.IncomingTransfer, *, actor: str) -> dict[str, Any]:
    """Credit a matched transfer once, or keep it in suspense. A transfer id seen before changes nothing.

    The bank's webhook records as ``bank``; ``POST /bank-transfers`` as the operator (role checked at the edge)."""
    seen = store.get_item(*keys.bank_transfer(t.transfer_id))
    if seen is not None:
        return _result(seen, "duplicate")
    account, reason = match(store, t)
    try:
        if account is None:
            return _to_suspense(store, t, reason or "unknown_reference", actor)
        claim = idempotency.claim(
            account.account_id,
            "bank-transfer",
            t.transfer_id,
            {"transfer_id": t.transfer_id, "amount": t.amount, "currency": t.currency},
        )
        result = credit_transfer(store, account, t, _transfer_info(t, iso(utc_now())), actor, claim, suspense=None)
    except (AlreadyRecorded, IdempotencyKeyReused):
        again = store.get_item(*keys.bank_transfer(t.transfer_id))
        if again is None:  # pragma: no cover - the record is committed before anyone sees the duplicate
            raise ConcurrentUpdate("the transfer is being recorded; retry") from None
        return _result(again, "duplicate")
    if result.replayed:
        return {**result.body, "outcome": "duplicate"}
    return result.body


def match(store: Store, t: ds.IncomingTransfer) -> tuple[Account | None, str | None]:
    """The account a transfer belongs to (by its payment reference, else by a proforma number its remittance text
    quotes), or None and why it goes to suspense."""
    reference = normalise_reference(t.reference)
    quoted = PROFORMA_NUMBER.findall(t.message or "")
    if (reference is None or not valid_reference(reference)) and quoted:
        taken = store.get_item(*keys.proforma_number(quoted[0]))
        account = store.get_account(taken["account_id"]) if taken else None
        if account is not None:
            return (account, None) if account.currency == t.currency else (None, "currency_mismatch")
    if reference is None:
        return None, "no_reference"
    if not valid_reference(reference):
        return None, "invalid_reference"
    ref = store.get_item(*keys.payment_reference(reference))
    account = store.get_account(ref["account_id"]) if ref else None
    if account is None:
        return None, "unknown_reference"
    if account.currency != t.currency:
        return None, "currency_mismatch"
    return account, None


def _to_suspense(store: Store, t: ds.IncomingTransfer, reason: str, actor: str) -> dict[str, Any]:
    now = iso(utc_now())
    info = _transfer_info(t, now)
    uow = store.unit_of_work()
    record = {
        "kind": "bank_transfer",
        "transfer_id": t.transfer_id,
        "status": "suspense",
        "reason": reason,
        "transfer": info,
        "actor": actor,
        "created_at": now,
    }
    uow.put(Record(*keys.bank_transfer(t.transfer_id), attrs=record, on_exists=lambda old: AlreadyRecorded(old)))
    uow.put(
        Record(
            *keys.suspense_transfer(t.transfer_id),
            attrs={
                "kind": "suspense",
                "transfer_id": t.transfer_id,
                "state": "open",
                "reason": reason,
                "transfer": info,
                "message": t.message,
                "received_at": now,
                "actor": actor,
            },
            on_exists=lambda old: AlreadyRecorded(old),
        )
    )
    commit(uow, None, lambda _p: {})
    return _result(record, "suspense")


def credit_transfer(
    store: Store,
    account: Account,
    t: ds.IncomingTransfer,
    info: dict[str, Any],
    actor: str,
    claim: IdempotencyClaim,
    suspense: dict[str, Any] | None,
) -> CommitResult:
    """One transaction: ledger entry + balance, the deposit (proforma) it pays, the transfer record,
    the suspense item (when assigned), the "deposit received" event and the idempotency record."""
    account_id = account.account_id

    def attempt() -> CommitResult:
        rows = store.query_prefix(*keys.deposits_prefix(account_id), limit=PROFORMA_LOOKBACK, newest_first=True)
        open_ones = [Deposit.from_item(r) for r in rows if r.get("state") in OPEN_PROFORMA]
        target = pick_proforma(open_ones, t.amount, t.message)
        now = iso(utc_now())
        uow = store.unit_of_work()
        if target is not None:
            transition = on_transfer(target, t.amount, info)
            deposit_after = Deposit.from_item({**target.attrs(), **plain(transition.changes)})
            uow.update(deposit_update(target, transition.changes, now))
        else:
            deposit_after = Deposit(
                deposit_id=new_id("dep"),
                account_id=account_id,
                method=Method.BANK_TRANSFER,
                currency=t.currency,
                amount=t.amount,
                state=DepositState.CREDITED,
                credited_amount=t.amount,
                created_at=now,
                updated_at=now,
                actor=actor,
                payment_reference=account.payment_reference,
                transfers=(info,),
            )
            uow.put(Record(*keys.deposit(account_id, deposit_after.deposit_id), attrs=plain(deposit_after.attrs())))
        number = deposit_after.proforma["number"] if deposit_after.proforma else None
        reference = {"transfer_id": t.transfer_id, "deposit_id": deposit_after.deposit_id}
        if number:
            reference["proforma_number"] = number
        uow.move(
            Movement(
                account_id=account_id,
                amount=Money(t.amount, account.currency),
                type=EntryType.DEPOSIT_BANK_TRANSFER,
                description=f"Bank transfer {t.transfer_id}" + (f" for proforma {number}" if number else ""),
                actor=actor,
                reference=reference,
            )
        )
        record = {
            "kind": "bank_transfer",
            "transfer_id": t.transfer_id,
            "status": "credited",
            "account_id": account_id,
            "deposit_id": deposit_after.deposit_id,
            "proforma_number": number,
            "transfer": info,
            "actor": actor,
            "created_at": now,
        }
        if suspense is None:
            uow.put(
                Record(*keys.bank_transfer(t.transfer_id), attrs=record, on_exists=lambda old: AlreadyRecorded(old))
            )
        else:
            uow.update(
                RecordUpdate(
                    *keys.bank_transfer(t.transfer_id),
                    changes={k: record[k] for k in ("status", "account_id", "deposit_id", "proforma_number")},
                    expect={"status": "suspense"},
                    on_mismatch=lambda _old: Conflict(f"transfer {t.transfer_id} is no longer in suspense"),
                )
            )
            uow.update(
                RecordUpdate(
                    *keys.suspense_transfer(t.transfer_id),
                    changes={
                        "state": "assigned",
                        "account_id": account_id,
                        "deposit_id": deposit_after.deposit_id,
                        "resolved_at": now,
                        "resolved_by": actor,
                    },
                    expect={"state": "open"},
                    on_mismatch=lambda _old: Conflict(f"transfer {t.transfer_id} was already resolved"),
                )
            )
        uow.emit(
            DomainEvent(
                account_id=account_id,
                type=EventType.DEPOSIT_RECEIVED,
                payload={
                    "deposit_id": deposit_after.deposit_id,
                    "method": Method.BANK_TRANSFER.value,
                    "amount": t.amount,
                    "currency": t.currency,
                    "transfer_id": t.transfer_id,
                    "proforma_number": number,
                },
            )
        )

        def respond(_posting: Posting, rec: dict[str, Any] = record) -> dict[str, Any]:
            return _result(rec, "credited")

        return commit(uow, claim, respond)

    # The proforma changed between our read and our write (StaleDeposit): read them again.
    return retry(
        attempt,
        on=(StaleDeposit,),
        attempts=settings().max_write_attempts,
        exhausted=ConcurrentUpdate("the account's proformas kept changing; nothing was written, retry"),
    )
