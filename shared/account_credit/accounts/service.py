"""Accounts: open, read, update details and settings, credit limit, adjustments, transactions.

The functions take the account id and what to do (a command, or a validated request for plain edits); who may
do it was decided at the edge (accounts/router.py): an account the caller may not see answers 404 there, an
operator-only action 403. ``credit`` and ``debit`` let a schedule or a job move money with no HTTP at all.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

from account_credit.accounts import directory, schemas
from account_credit.accounts.commands import DEFAULT_FLOOR, Adjust, Direction
from account_credit.bank.references import allocate_reference
from account_credit.kernel.domain import Account, CompanyDetails, EntryType, Floor, Movement, PaymentSettings
from account_credit.kernel.errors import CurrencyMismatchError, InvalidInput, NotFound
from account_credit.kernel.ids import iso, new_id, utc_now
from account_credit.kernel.money import Money
from account_credit.platform import idempotency
from account_credit.platform.commit import commit
from account_credit.platform.config import settings
from account_credit.platform.store import CommitResult, Page, Posting, Store

ADJUSTMENT_SCOPE = "adjustment"


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
        held=account.held,
        available=account.available,
        payment_reference=account.payment_reference,
        created_at=account.created_at,
        updated_at=account.updated_at,
        language=account.language,
        tax=schemas.TaxView(**vars(account.tax)),
    ).model_dump(mode="json")


def open_account(store: Store, req: schemas.AccountCreate) -> Account:
    """A new account, managed by ``req.partner_id`` (the router decides who may open one, and for which partner)."""
    now = iso(utc_now())
    account = Account(
        account_id=new_id("acc"),
        currency=req.currency,
        company=CompanyDetails(**req.company.model_dump()),
        billing_emails=tuple(req.billing_emails),
        partner_id=req.partner_id,
        settings=PaymentSettings(),
        credit_limit=Money.of_major(settings().default_credit_limit, req.currency).amount,
        created_at=now,
        updated_at=now,
        language=req.language,
    )
    # A unique bank-transfer reference, reserved (REF#<reference>) before the account is written.
    account = replace(account, payment_reference=allocate_reference(store, account.account_id))
    store.create_account(account)
    directory.add(store, account)  # after the account: an entry never names an account that is not there
    return account


def get_account(store: Store, account_id: str) -> Account:
    """The account as stored now (NotFound if missing). Who may see it is decided at the edge, before."""
    account = store.get_account(account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    return account


def update_details(store: Store, account_id: str, req: schemas.AccountPatch) -> Account:
    account = get_account(store, account_id)
    changes: dict[str, Any] = {}
    if req.company is not None:
        patch = req.company.model_dump(exclude_unset=True)
        company = replace(account.company, **patch)
        changes["company"] = {k: v for k, v in vars(company).items() if v is not None}
    if req.billing_emails is not None:
        changes["billing_emails"] = list(req.billing_emails)
    if req.language is not None:
        changes["language"] = req.language
    if "tax" in req.model_fields_set:
        changes["tax"] = req.tax.model_dump(exclude_none=True) if req.tax is not None else {}
    updated = store.update_account(account_id, changes)
    if "company" in changes or "tax" in changes:  # the name and VAT id the directory lists
        directory.sync(store, updated)
    return updated


def search_accounts(
    store: Store, *, partner_id: str | None, q: str | None, currency: str | None, cursor: str | None, limit: int
) -> directory.DirectoryPage:
    """The directory (all accounts, or ``partner_id``'s customers) by company name; see accounts/directory.py."""
    return directory.search(store, partner_id=partner_id, q=q, currency=currency, cursor=cursor, limit=limit)


def change_partner(store: Store, account_id: str, req: schemas.PartnerChange, actor: str) -> Account:
    """Operator-only (checked at the edge): move the account to another partner (or none), audited."""
    return directory.change_partner(store, account_id, req.partner_id, req.reason, actor)


def put_settings(store: Store, account_id: str, req: schemas.Settings) -> Account:
    get_account(store, account_id)
    return store.update_account(account_id, {"settings": req.model_dump(exclude_none=True)})


def set_credit_limit(store: Store, account_id: str, credit_limit: int) -> Account:
    """Operator-only: the router checks the role (after the account's visibility: 404 before 403)."""
    get_account(store, account_id)
    return store.update_account(account_id, {"credit_limit": credit_limit})


def adjust(store: Store, cmd: Adjust) -> CommitResult:
    """Credit or debit with a reason: one movement, one transaction, once per idempotency key.

    Raises InsufficientFunds (nothing written) for a debit below ``cmd.floor``; a replay of the key answers the
    first result (``replayed``), a reuse of it for another adjustment IdempotencyKeyReused.
    """
    account = store.known_account(cmd.account_id)
    if account is None:
        raise NotFound(f"account {cmd.account_id} not found")
    if cmd.currency is not None and cmd.currency != account.currency:
        raise CurrencyMismatchError(
            f"account {cmd.account_id} is in {account.currency}, not {cmd.currency}", field="currency"
        )
    credit = cmd.direction == "credit"
    uow = store.unit_of_work()
    uow.move(
        Movement(
            account_id=cmd.account_id,
            amount=Money(cmd.amount if credit else -cmd.amount, account.currency),
            type=EntryType.ADJUSTMENT_CREDIT if credit else EntryType.ADJUSTMENT_DEBIT,
            floor=Floor(cmd.floor),
            description=cmd.reason,
            actor=cmd.actor,
            reference=dict(cmd.reference),
        )
    )

    def respond(posting: Posting) -> dict[str, Any]:
        # The entry as written: its seq and balance_after are placed by the ledger sequencer right after the
        # commit (movements commute, so the balance this one met is known only then).
        return {"entry": posting.entries[0].as_dict()}

    claim = idempotency.claim(cmd.account_id, ADJUSTMENT_SCOPE, cmd.idempotency_key, cmd.fingerprint())
    return commit(uow, claim, respond)


def _adjust(
    store: Store,
    direction: Direction,
    account_id: str,
    amount: Money | int,
    *,
    reason: str,
    idempotency_key: str,
    actor: str,
    floor: Floor,
    reference: dict[str, str] | None,
) -> CommitResult:
    money = amount if isinstance(amount, Money) else None
    return adjust(
        store,
        Adjust(
            account_id=account_id,
            direction=direction,
            amount=amount.amount if isinstance(amount, Money) else amount,
            reason=reason,
            idempotency_key=idempotency_key,
            actor=actor,
            currency=money.currency if money is not None else None,
            floor=floor,
            reference=dict(reference or {}),
        ),
    )


def credit(
    store: Store,
    account_id: str,
    amount: Money | int,
    *,
    reason: str,
    idempotency_key: str,
    actor: str,
    reference: dict[str, str] | None = None,
) -> CommitResult:
    """Put ``amount`` (positive; a Money must be in the account's currency) on the balance, once per key."""
    return _adjust(
        store,
        "credit",
        account_id,
        amount,
        reason=reason,
        idempotency_key=idempotency_key,
        actor=actor,
        floor=DEFAULT_FLOOR,
        reference=reference,
    )


def debit(
    store: Store,
    account_id: str,
    amount: Money | int,
    *,
    floor: Floor = DEFAULT_FLOOR,
    reason: str,
    idempotency_key: str,
    actor: str,
    reference: dict[str, str] | None = None,
) -> CommitResult:
    """Take ``amount`` (positive) off the balance, never below ``floor`` (InsufficientFunds: nothing written),
    once per key: a schedule retrying with the same key moves the money once and gets the first answer."""
    return _adjust(
        store,
        "debit",
        account_id,
        amount,
        reason=reason,
        idempotency_key=idempotency_key,
        actor=actor,
        floor=floor,
        reference=reference,
    )


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


def bound(value: datetime | date | None, end: bool) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        ts = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        ts = datetime.combine(value, time.max if end else time.min, tzinfo=UTC)
    return iso(ts)


def list_transactions(
    store: Store,
    account_id: str,
    *,
    since: datetime | date | None,
    until: datetime | date | None,
    entry_type: str | None,
    cursor: str | None,
    limit: int,
) -> Page:
    get_account(store, account_id)
    return store.list_entries(
        account_id,
        since=bound(since, end=False),
        until=bound(until, end=True),
        entry_type=entry_type,
        cursor=cursor,
        limit=limit,
    )
