"""Ports of the data-access layer and the planning shared by every store.

A ``UnitOfWork`` collects balance movements, extra records (an order, a deposit, a
webhook dedup marker) and record updates, and offers the primitives of one attempt to write
them all at once with the idempotency record: ``DynamoUnitOfWork.write`` is ONE
TransactWriteItems, ``MemoryUnitOfWork.write`` applies the same rules under a lock. The loop
that plans, asks the caller for its answer and retries is ``account_credit.platform.commit``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from account_credit.kernel import ledger
from account_credit.kernel.domain import Account, LedgerEntry, Movement
from account_credit.kernel.errors import Conflict, DomainError, NotFound, ServiceUnavailable
from account_credit.kernel.ids import iso, new_id, utc_now
from account_credit.platform.config import settings
from account_credit.platform.retry import retry
from account_credit.platform.store import items, keys
from account_credit.platform.store.reliance import BalanceRange, Reliance, reliance
from account_credit.platform.store.sequencing import Placement


@dataclass(frozen=True)
class IdempotencyClaim:
    """``key`` may be used once per ``scope`` on ``account_id``; ``request_hash`` pins the body."""

    account_id: str
    scope: str
    key: str
    request_hash: str

    @property
    def pk(self) -> str:
        return keys.account_pk(self.account_id)

    @property
    def sk(self) -> str:
        return keys.idempotency_sk(self.scope, self.key)


@dataclass(frozen=True)
class Record:
    """A new item written with the transaction; it must not exist yet."""

    pk: str
    sk: str
    attrs: dict[str, Any]
    # Raised when the item already exists (e.g. a deposit credited twice under another key).
    on_exists: Callable[[dict[str, Any]], DomainError] = lambda _old: Conflict("record already exists")

    def item(self) -> dict[str, Any]:
        return {"pk": self.pk, "sk": self.sk, **self.attrs}


@dataclass(frozen=True)
class RecordUpdate:
    """SET ``changes`` (and REMOVE the attributes named in ``remove``, e.g. sparse-index keys) on an existing item,
    only if every ``expect`` attribute still has that value."""

    pk: str
    sk: str
    changes: dict[str, Any]
    expect: dict[str, Any] = field(default_factory=dict)
    on_mismatch: Callable[[dict[str, Any] | None], DomainError] = lambda _old: Conflict("record changed")
    remove: tuple[str, ...] = ()


@dataclass(frozen=True)
class Posting:
    """What a commit will write: planned before the write, handed to the caller's ``respond``."""

    entries: list[LedgerEntry]
    accounts: dict[str, Account]  # account_id -> account after the movements
    accounts_before: dict[str, Account]


States = dict[str, "tuple[Account, int] | None"]  # account_id -> (last known state, its version); None: read it


class Stale(Exception):
    """What an attempt relied on no longer holds (the balance left the planned range, the credit limit or the
    threshold changed); ``states`` is what the store knows now."""

    def __init__(self, states: States) -> None:
        super().__init__("accounts changed since they were read")
        self.states = states


class Transient(Exception):
    """A failure worth another attempt (throttling, a timeout, a transaction conflict); nothing was written."""

    def __init__(self, cause: Exception, throttled: bool, conflict: bool = False) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.throttled = throttled
        self.conflict = conflict  # another transaction held one of the items: retry almost at once


@dataclass(frozen=True)
class CommitResult:
    """What a commit did: the answer stored with it (the first answer again on a replay) and, when it wrote,
    the posting. No HTTP here: the API layer picks the status code for the route."""

    body: dict[str, Any]
    replayed: bool
    posting: Posting | None = None  # None on a replay


@dataclass(frozen=True)
class Page:
    items: list[LedgerEntry]
    next_cursor: str | None


@dataclass(frozen=True)
class Answer:
    """What ``respond(posting)`` gives back when the write also carries items that depend on the posting (an order
    with its payment and events): built fresh for every attempt, never patched. Per account, what this answer relies
    on besides the plan: ``balance_range``, the starting balances for which it holds (an order's split between
    balance and credit), and ``settings``, the payment settings it was decided on. The write is conditioned on
    them (``platform/store/reliance.py``)."""

    body: dict[str, Any]
    records: tuple[Record, ...] = ()
    updates: tuple[RecordUpdate, ...] = ()
    balance_range: dict[str, BalanceRange] = field(default_factory=dict)
    settings: dict[str, tuple[str, ...]] = field(default_factory=dict)


# The answer to store with the commit (opaque here), or an Answer with posting-dependent items.
Responder = Callable[[Posting], "dict[str, Any] | Answer"]


def canonical(body: dict[str, Any]) -> dict[str, Any]:
    """The body exactly as a replay will return it (JSON round trip, sorted keys)."""
    return dict(json.loads(json.dumps(body, separators=(",", ":"), sort_keys=True)))


def stored_response(old: dict[str, Any], claim: IdempotencyClaim) -> CommitResult:
    """The first answer for a replayed key, or IdempotencyKeyReused for a different body."""
    from account_credit.kernel.errors import IdempotencyKeyReused

    if old.get("request_hash") != claim.request_hash:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {claim.key!r} was used for a different {claim.scope} request",
            field="Idempotency-Key",
        )
    return CommitResult(body=json.loads(old["response"]), replayed=True)


class UnitOfWork(ABC):
    def __init__(self) -> None:
        self.movements: list[Movement] = []
        self.records: list[Record] = []
        self.updates: list[RecordUpdate] = []
        # Items of the current attempt that depend on its posting (replaced, not appended, on every attempt).
        self.late_records: tuple[Record, ...] = ()
        self.late_updates: tuple[RecordUpdate, ...] = ()
        self.late_ranges: dict[str, BalanceRange] = {}
        self.late_settings: dict[str, tuple[str, ...]] = {}

    def all_records(self) -> list[Record]:
        return [*self.records, *self.late_records]

    def all_updates(self) -> list[RecordUpdate]:
        return [*self.updates, *self.late_updates]

    def move(self, movement: Movement) -> None:
        self.movements.append(movement)

    def put(self, record: Record) -> None:
        self.records.append(record)

    def update(self, update: RecordUpdate) -> None:
        self.updates.append(update)

    def emit(self, event: Any) -> None:
        """Commit a DomainEvent (account_credit.platform.events) with everything else in this unit of work."""
        self.records.append(event.record())

    def plan(self, accounts: dict[str, Account], claim: IdempotencyClaim | None) -> Posting:
        """Apply the ledger rules to known account states. Pure: raises InsufficientFunds etc."""
        now = iso(utc_now())
        after = dict(accounts)
        entries: list[LedgerEntry] = []
        for m in self.movements:
            if m.account_id not in after:
                raise NotFound(f"account {m.account_id} not found")
            if m.hold:
                after[m.account_id] = ledger.reserve(after[m.account_id], m.hold)
            if m.hold_only:
                continue  # a reservation alone: the balance does not move, no ledger entry
            after[m.account_id], entry = ledger.post(
                after[m.account_id],
                m,
                entry_id=new_id("ent"),
                now=now,
                idempotency_key=claim.key if claim else None,
            )
            entries.append(entry)
        return Posting(entries=entries, accounts=after, accounts_before=dict(accounts))

    def reliances(self, posting: Posting) -> dict[str, Reliance]:
        """Per account of ``posting``: what its write is conditioned on (``platform/store/reliance.py``)."""
        return {
            a: reliance(
                posting.accounts_before[a],
                [m for m in self.movements if m.account_id == a],
                after,
                self.late_ranges.get(a, (None, None)),
                self.late_settings.get(a, ()),
            )
            for a, after in posting.accounts.items()
        }

    @staticmethod
    def last_commit(posting: Posting, account_id: str) -> list[dict[str, Any]]:
        """What the account item records of this write for the ledger sequencer: its entries, in order."""
        return [
            {"sk": keys.entry_sk(e.created_at, e.entry_id), "amount": e.amount}
            for e in posting.entries
            if e.account_id == account_id
        ]

    def idempotency_item(self, claim: IdempotencyClaim, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "pk": claim.pk,
            "sk": claim.sk,
            "kind": "idempotency",
            "request_hash": claim.request_hash,
            "response": json.dumps(body, separators=(",", ":"), sort_keys=True),
            "created_at": iso(utc_now()),
        }

    @staticmethod
    def entry_items(posting: Posting) -> list[dict[str, Any]]:
        return [items.entry_to_item(e) for e in posting.entries]

    # The primitives of one attempt; the loop that plans, asks for the answer and retries is
    # account_credit.platform.commit (the store never calls back into a service).

    @abstractmethod
    def known_states(self, account_ids: list[str]) -> tuple[States, bool]:
        """The last known state and version of each account (None: unknown, read it), and whether they were read
        consistently just now (a decline is decided on confirmed states only)."""

    @abstractmethod
    def read_states(self, account_ids: list[str]) -> States:
        """Consistent reads of these accounts (NotFound for a missing one)."""

    @abstractmethod
    def fresh_look(self, claim: IdempotencyClaim | None, account_ids: list[str], states: States) -> CommitResult | None:
        """One consistent look at the accounts and the idempotency record: the stored answer of a replay, else
        ``states`` refreshed in place and None."""

    @abstractmethod
    def write(
        self, claim: IdempotencyClaim | None, posting: Posting, states: States, answer: dict[str, Any]
    ) -> CommitResult:
        """One atomic attempt to write everything collected, planned on ``states``, with ``answer`` as the stored
        first answer. Returns the result (or the stored answer of a replay); raises ``Stale`` when an account
        moved since ``states`` (with what the store knows now), ``Transient`` for a retryable failure, or the
        domain error of a record that exists / an update that no longer matches. Nothing is written unless it
        returns a result that is not a replay."""


class _Present(Conflict):
    """The item ``put_if_absent`` would write is there already."""


def write_alone(uow: UnitOfWork) -> None:
    """Write records / record updates / events that move no money: no plan to redo, only transient retries."""
    retry(
        lambda: uow.write(None, uow.plan({}, None), {}, {}),
        on=(Transient,),
        attempts=settings().max_write_attempts,
        exhausted=ServiceUnavailable("the database is throttling; nothing was written, retry"),
    )


class Store(ABC):
    """Reads and the non-money writes; money goes through ``unit_of_work()``."""

    @abstractmethod
    def unit_of_work(self) -> UnitOfWork: ...

    @abstractmethod
    def create_account(self, account: Account) -> None: ...

    @abstractmethod
    def get_account(self, account_id: str) -> Account | None: ...

    def known_account(self, account_id: str) -> Account | None:
        """The account for checks on immutable fields (owner, partner, currency).

        May come from a per-process cache, so its balance can be stale: never decide
        money from it. Money decisions happen in ``platform.commit`` on versioned states.
        """
        return self.get_account(account_id)

    @abstractmethod
    def update_account(self, account_id: str, changes: dict[str, Any]) -> Account:
        """SET top-level attributes (company, billing_emails, settings, credit_limit...). NotFound if missing."""

    @abstractmethod
    def list_entries(
        self,
        account_id: str,
        *,
        since: str | None,
        until: str | None,
        entry_type: str | None,
        cursor: str | None,
        limit: int,
    ) -> Page: ...

    @abstractmethod
    def get_item(self, pk: str, sk: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def query_prefix(
        self, pk: str, sk_prefix: str, *, limit: int = 100, newest_first: bool = False, after: str | None = None
    ) -> list[dict[str, Any]]:
        """Items of one partition whose sort key starts with ``sk_prefix`` (one Query); ``after``: only sort keys
        after it (ascending pages)."""

    @abstractmethod
    def index_page(
        self, index_pk: str, *, until: str | None = None, cursor: str | None = None, limit: int = 100
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the items a sparse index lists under ``index_pk`` (``gsi1pk``), in ``gsi1sk`` order, up to
        ``until`` inclusive: (items, next cursor). The billing registry and the open invoices use it."""

    @abstractmethod
    def low_balance_accounts(self, cursor: str | None, limit: int) -> tuple[list[tuple[Account, int]], str | None, int]:
        """One page of accounts below their threshold: ((account, version), ...), next cursor, items read."""

    def put_if_absent(self, key: tuple[str, str], attrs: dict[str, Any]) -> bool:
        """Write one new item unless an item with ``key`` exists (a marker, a registration): True if written now."""
        try:
            self.put_record(Record(*key, attrs=attrs, on_exists=lambda _old: _Present("exists")))
        except _Present:
            return False
        return True

    def put_record(self, record: Record) -> None:
        """Write one new item outside a money movement (raises ``record.on_exists`` if it exists)."""
        uow = self.unit_of_work()
        uow.put(record)
        write_alone(uow)

    @abstractmethod
    def place_entries(self, pk: str, placements: list[Placement]) -> None:
        """Write the ledger sequencer's ``seq``/``balance_after`` onto the entries of partition ``pk`` (idempotent:
        the same placement again is a no-op; a different one raises ``sequencing.LedgerMismatch``)."""

    @abstractmethod
    def link_document(self, pk: str, sk: str, number: str) -> None:
        """Add a document number to an item's ``documents`` (a ledger entry's or an order's: the documents it
        appears on); idempotent. NotFound if the item does not exist."""

    @abstractmethod
    def delete_record(self, pk: str, sk: str, *, older_than: int | None = None) -> bool:
        """Remove a non-money item (never an account, entry or idempotency record).

        ``older_than``: only if the item's ``version`` attribute is below it (a stale
        redelivery must not undo a newer write). Returns whether an item was removed.
        """

    def update_record(self, update: RecordUpdate) -> None:
        """Conditionally update one item outside a money movement."""
        uow = self.unit_of_work()
        uow.update(update)
        write_alone(uow)

    def publish(self, event: Any) -> None:
        """Write one DomainEvent on its own (e.g. a decline, which writes nothing else)."""
        uow = self.unit_of_work()
        uow.emit(event)
        write_alone(uow)
