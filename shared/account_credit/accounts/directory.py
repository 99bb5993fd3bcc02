"""The account directory: what ``GET /accounts`` searches, and the audited change of an account's partner.

Two small items per account, next to the account item (which cannot be indexed for this: its gsi1 keys are the
low-balance index's):

* ``ACCOUNT#<id>`` / ``DIRECTORY``: ``gsi1pk = DIRECTORY``, ``gsi1sk = <company name, case-folded>#<id>``: every
  account, for operators;
* ``ACCOUNT#<id>`` / ``DIRPARTNER``: ``gsi1pk = DIRECTORY#PARTNER#<partner>`` and the same ``gsi1sk`` while a
  partner manages the account (no gsi1 keys otherwise): a partner reads only its own customers.

Both carry the listed fields (``company_name``, ``vat_id`` compact, ``payment_reference``, ``currency``,
``partner_id``). A search reads one of those index partitions in name order and keeps what matches ``q`` (a
case-insensitive substring of the company name, or the exact VAT id, or the exact payment reference) and
``currency``: at most ``MAX_READS`` index pages per request, so a page may hold fewer than ``limit`` accounts and
still have a ``next_cursor``.

Opening an account writes its entries; changing the company name or VAT id, or the partner, rewrites them.
Accounts opened before the directory existed get theirs from ``sync`` (on their next change) or ``backfill``
(a one-off over the billing registry, which lists every account).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from account_credit.kernel.domain import Account
from account_credit.kernel.errors import Conflict, InvalidInput, NotFound
from account_credit.kernel.ids import iso, utc_now
from account_credit.platform.events import DomainEvent, EventType
from account_credit.platform.store import Store, keys
from account_credit.platform.store.base import Record, RecordUpdate, write_alone
from account_credit.platform.store.codec import decode_cursor, encode_cursor

MAX_READS = 5  # index pages one search reads at most
READ_SIZE = 100  # index items per page when a filter may drop some
_CURSOR_KEYS = {"gsi1pk", "gsi1sk", "pk", "sk"}
_INDEX = ("gsi1pk", "gsi1sk")


@dataclass(frozen=True)
class DirectoryPage:
    items: list[dict[str, Any]]  # AccountSummary dicts
    next_cursor: str | None


def _fields(account: Account) -> dict[str, Any]:
    return {
        "kind": "directory",
        "account_id": account.account_id,
        "company_name": account.company.name,
        "vat_id": account.tax.vat_id,
        "payment_reference": account.payment_reference,
        "currency": account.currency,
        "partner_id": account.partner_id,
    }


def _entries(account: Account) -> list[tuple[tuple[str, str], dict[str, Any], bool]]:
    """(key, attributes, indexed) of the account's two directory items."""
    sk = keys.directory_sk(account.company.name, account.account_id)
    fields = _fields(account)
    everyone = {**fields, "gsi1pk": keys.DIRECTORY_PK, "gsi1sk": sk}
    if account.partner_id is None:
        return [
            (keys.directory_entry(account.account_id), everyone, True),
            (keys.partner_directory_entry(account.account_id), fields, False),
        ]
    partner = {**fields, "gsi1pk": keys.partner_directory(account.partner_id), "gsi1sk": sk}
    return [
        (keys.directory_entry(account.account_id), everyone, True),
        (keys.partner_directory_entry(account.account_id), partner, True),
    ]


def _records(account: Account) -> list[Record]:
    return [Record(*key, attrs=attrs) for key, attrs, _ in _entries(account)]


def _updates(account: Account) -> list[RecordUpdate]:
    return [
        RecordUpdate(*key, changes=attrs, remove=() if indexed else _INDEX) for key, attrs, indexed in _entries(account)
    ]


def add(store: Store, account: Account) -> None:
    """The new account's directory entries (one write)."""
    uow = store.unit_of_work()
    for record in _records(account):
        uow.put(record)
    write_alone(uow)


def sync(store: Store, account: Account) -> None:
    """Bring the account's entries in line with ``account`` (as stored now); writes them if it has none yet."""
    if store.get_item(*keys.directory_entry(account.account_id)) is None:
        try:
            add(store, account)
            return
        except Conflict:
            pass  # written meanwhile by another change: update them below
    uow = store.unit_of_work()
    for update in _updates(account):
        uow.update(update)
    write_alone(uow)


def backfill(store: Store) -> int:
    """Directory entries for every account that has none (idempotent). The billing registry lists every account.
    Returns how many accounts got entries now."""
    added, cursor = 0, None
    while True:
        rows, cursor = store.index_page(keys.BILLING_INDEX_PK, cursor=cursor, limit=READ_SIZE)
        for row in rows:
            account_id = row["gsi1sk"]
            if store.get_item(*keys.directory_entry(account_id)) is None:
                account = store.get_account(account_id)
                if account is not None:
                    sync(store, account)
                    added += 1
        if cursor is None:
            return added


def _matches(item: dict[str, Any], q: str | None, currency: str | None) -> bool:
    if currency is not None and item.get("currency") != currency:
        return False
    if q is None:
        return True
    needle = q.strip()
    compact = "".join(needle.split()).replace("-", "").replace(".", "").upper()
    return (
        needle.casefold() in str(item.get("company_name", "")).casefold()
        or (item.get("vat_id") is not None and item["vat_id"] == compact)
        or (item.get("payment_reference") is not None and str(item["payment_reference"]) == needle)
    )


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    return {
        k: item.get(k) for k in ("account_id", "company_name", "vat_id", "payment_reference", "currency", "partner_id")
    }


def search(
    store: Store,
    *,
    partner_id: str | None,
    q: str | None,
    currency: str | None,
    cursor: str | None,
    limit: int,
) -> DirectoryPage:
    """Accounts by company name: all of them (``partner_id`` None) or those ``partner_id`` manages, filtered by ``q``
    and ``currency``. Who may search which scope is decided at the edge."""
    index = keys.DIRECTORY_PK if partner_id is None else keys.partner_directory(partner_id)
    start = cursor
    if cursor is not None:
        raw = decode_cursor(cursor, None)
        if set(raw) != _CURSOR_KEYS or raw["gsi1pk"] != index:
            raise InvalidInput("cursor is not valid for this search", field="cursor")
    size = limit if q is None and currency is None else max(limit, READ_SIZE)
    found: list[dict[str, Any]] = []
    for _ in range(MAX_READS):
        page, following = store.index_page(index, cursor=start, limit=size)
        for n, item in enumerate(page):
            if _matches(item, q, currency):
                found.append(_summary(item))
                if len(found) == limit:
                    more = n < len(page) - 1 or following is not None
                    position = encode_cursor({k: item[k] for k in sorted(_CURSOR_KEYS)})
                    return DirectoryPage(found, position if more else None)
        if following is None:
            return DirectoryPage(found, None)
        start = following
    return DirectoryPage(found, start)


def change_partner(store: Store, account_id: str, partner_id: str | None, reason: str, actor: str) -> Account:
    """Move the account to ``partner_id`` (None: no partner) in ONE write: the account (its version moves on, so
    every container's cached state is refreshed by its next write), both directory entries and the audit event
    ``account.partner_changed`` (old, new, reason, actor, at). The same partner again changes nothing (no event)."""
    item = store.get_item(*keys.account(account_id))
    account = store.get_account(account_id) if item is not None else None
    if item is None or account is None:
        raise NotFound(f"account {account_id} not found")
    old = account.partner_id
    if old == partner_id:
        return account
    now = iso(utc_now())
    version = int(item["version"])
    moved = replace(account, partner_id=partner_id, updated_at=now)
    uow = store.unit_of_work()
    uow.update(
        RecordUpdate(
            *keys.account(account_id),
            changes={"partner_id": partner_id, "version": version + 1, "updated_at": now},
            expect={"version": version},
            on_mismatch=lambda _old: Conflict("the account changed meanwhile; retry"),
        )
    )
    if store.get_item(*keys.directory_entry(account_id)) is None:
        for record in _records(moved):
            uow.put(record)
    else:
        for update in _updates(moved):
            uow.update(update)
    uow.emit(
        DomainEvent(
            account_id,
            EventType.ACCOUNT_PARTNER_CHANGED,
            {"old_partner_id": old, "new_partner_id": partner_id, "reason": reason, "actor": actor, "at": now},
            created_at=now,
        )
    )
    write_alone(uow)
    fresh = store.get_account(account_id)  # refreshes this container's cached state too
    return fresh if fresh is not None else moved
