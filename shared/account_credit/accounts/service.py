"""Accounts: open, read, update details and settings, credit limit, adjustments, transactions."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

from account_credit.accounts import schemas
from account_credit.bank.references import allocate_reference
from account_credit.kernel.auth import Principal, Role, visible
from account_credit.kernel.domain import Account, CompanyDetails, EntryType, Floor, Movement, PaymentSettings
from account_credit.kernel.errors import CurrencyMismatchError, Forbidden, InvalidInput
from account_credit.kernel.ids import iso, new_id, utc_now
from account_credit.kernel.money import Money
from account_credit.platform import idempotency
from account_credit.platform.config import settings
from account_credit.platform.store import CommitResult, Page, Posting, Store


def view(account: Account) -> dict[str, Any]:
    return schemas.AccountView(
        account_id=account.account_id,
        currency=account.currency,
        company=schemas.Company(**vars(account.company)),
        billing_emails=list(account.billing_emails),
        partner_id=account.partner_id,
        settings=schemas.Settings(**vars(account.settings)),
        balance=account.balance,
        credit_limit=account.credit_limit,
        available=account.available,
        payment_reference=account.payment_reference,
        created_at=account.created_at,
        updated_at=account.updated_at,
        language=account.language,
    ).model_dump(mode="json")


def open_account(store: Store, principal: Principal, req: schemas.AccountCreate) -> Account:
    if principal.role is Role.CUSTOMER:
        raise Forbidden("only an operator or a partner may open accounts")
    partner_id = principal.partner_id if principal.role is Role.PARTNER else req.partner_id
    now = iso(utc_now())
    account = Account(
        account_id=new_id("acc"),
        currency=req.currency,
        company=CompanyDetails(**req.company.model_dump()),
        billing_emails=tuple(req.billing_emails),
        partner_id=partner_id,
        settings=PaymentSettings(),
        credit_limit=Money.of_major(settings().default_credit_limit, req.currency).amount,
        created_at=now,
        updated_at=now,
        language=req.language,
    )
    # A unique bank-transfer reference, reserved (REF#<reference>) before the account is written.
    account = replace(account, payment_reference=allocate_reference(store, account.account_id))
    store.create_account(account)
    return account


def get_account(store: Store, principal: Principal, account_id: str) -> Account:
    return visible(principal, store.get_account(account_id), account_id)


def update_details(store: Store, principal: Principal, account_id: str, req: schemas.AccountPatch) -> Account:
    account = get_account(store, principal, account_id)
    changes: dict[str, Any] = {}
    if req.company is not None:
        patch = req.company.model_dump(exclude_unset=True)
        company = replace(account.company, **patch)
        changes["company"] = {k: v for k, v in vars(company).items() if v is not None}
    if req.billing_emails is not None:
        changes["billing_emails"] = list(req.billing_emails)
    if req.language is not None:
        changes["language"] = req.language
    return store.update_account(account_id, changes)


def put_settings(store: Store, principal: Principal, account_id: str, req: schemas.Settings) -> Account:
    get_account(store, principal, account_id)
    return store.update_account(account_id, {"settings": req.model_dump(exclude_none=True)})


def set_credit_limit(store: Store, principal: Principal, account_id: str, req: schemas.CreditLimit) -> Account:
    get_account(store, principal, account_id)  # 404 before 403: never reveal a foreign account
    principal.require_operator("set a credit limit")
    return store.update_account(account_id, {"credit_limit": req.credit_limit})


def adjust(
    store: Store, principal: Principal, account_id: str, req: schemas.Adjustment, idempotency_key: str
) -> CommitResult:
    """Operator credit or debit with a reason: one movement, one transaction."""
    account = visible(principal, store.known_account(account_id), account_id)
    principal.require_operator("adjust a balance")
    if req.currency is not None and req.currency != account.currency:
        raise CurrencyMismatchError(
            f"account {account_id} is in {account.currency}, not {req.currency}", field="currency"
        )
    sign = 1 if req.type == "credit" else -1
    uow = store.unit_of_work()
    uow.move(
        Movement(
            account_id=account_id,
            amount=Money(sign * req.amount, account.currency),
            type=EntryType.ADJUSTMENT_CREDIT if sign > 0 else EntryType.ADJUSTMENT_DEBIT,
            # An operator debit may use the credit line, never beyond it.
            floor=Floor.CREDIT_LIMIT,
            description=req.reason,
            actor=principal.actor,
        )
    )

    def respond(posting: Posting) -> dict[str, Any]:
        after = posting.accounts[account_id]
        return {
            "entry": posting.entries[0].as_dict(),
            "balance": after.balance,
            "available": after.available,
        }

    body = req.model_dump(mode="json")
    return uow.commit(idempotency.claim(account_id, "adjustment", idempotency_key, body), respond)


_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:?\d{2})?$")


def parse_bound(text: str | None, field: str) -> datetime | date | None:
    """``YYYY-MM-DD`` is a whole day; anything longer is an RFC 3339 / ISO 8601 date-time (naive = UTC).
    Fractions beyond microseconds are cut, and a leap second (``:60``) is the last microsecond of its minute."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        m = _DATE_TIME.match(text)
        if m is None:
            raise ValueError(text)
        day, hour, minute, second, fraction, offset = m.groups()
        sec = int(second or 0)
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        if sec == 60:
            sec, micro = 59, 999_999
        tz = "+00:00" if offset in (None, "Z", "z") else offset
        parsed = datetime.fromisoformat(f"{day}T{hour}:{minute}:{sec:02d}.{micro:06d}{tz}")
        return parsed if offset is not None else parsed.replace(tzinfo=None)
    except ValueError:
        raise InvalidInput(f"{text!r} is not an ISO 8601 date or date-time", field=field) from None


def _bound(value: datetime | date | None, end: bool) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        ts = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        ts = datetime.combine(value, time.max if end else time.min, tzinfo=UTC)
    return iso(ts)


def list_transactions(
    store: Store,
    principal: Principal,
    account_id: str,
    *,
    since: datetime | date | None,
    until: datetime | date | None,
    entry_type: str | None,
    cursor: str | None,
    limit: int,
) -> Page:
    get_account(store, principal, account_id)
    return store.list_entries(
        account_id,
        since=_bound(since, end=False),
        until=_bound(until, end=True),
        entry_type=entry_type,
        cursor=cursor,
        limit=limit,
    )
