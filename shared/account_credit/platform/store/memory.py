"""In-memory fake of the store: same items, same rules, one lock instead of DynamoDB.

Used by the fast service tests and by ``make run`` when no DynamoDB is wanted.
It stores exactly the items ``items.py`` builds, so the access patterns match, and
``tests/integration/test_store_contract.py`` runs the same tests against it and against
DynamoDB Local: where they differ, this fake is made to behave like DynamoDB.
"""

from __future__ import annotations

import threading
from typing import Any

from account_credit.kernel.domain import Account
from account_credit.kernel.errors import NotFound
from account_credit.kernel.ids import iso, utc_now
from account_credit.platform.store import items, keys, sequencing
from account_credit.platform.store.base import (
    CommitResult,
    IdempotencyClaim,
    Page,
    Posting,
    Stale,
    States,
    Store,
    UnitOfWork,
    stored_response,
)
from account_credit.platform.store.codec import decode_cursor, encode_cursor, from_item, to_attr, to_item


def stored(item: dict[str, Any]) -> dict[str, Any]:
    """The item as DynamoDB would hand it back: a deep copy, tuples as lists, floats refused (TypeError)."""
    return from_item(to_item(item))


def same_value(a: Any, b: Any) -> bool:
    """DynamoDB's ``=``: the types must match too (True is not 1)."""
    return bool(to_attr(a) == to_attr(b))


class MemoryUnitOfWork(UnitOfWork):
    def __init__(self, store: MemoryStore) -> None:
        super().__init__()
        self.store = store

    @staticmethod
    def _index_low_balance(item: dict[str, Any]) -> None:
        item.pop("gsi1pk", None)
        item.pop("gsi1sk", None)
        item.update(items.low_balance_keys(items.account_from_item(item)) or {})

    def _current(self, account_id: str) -> tuple[Account, int] | None:
        item = self.store.items.get(keys.account(account_id))
        return None if item is None else (items.account_from_item(item), int(item["version"]))

    def known_states(self, account_ids: list[str]) -> tuple[States, bool]:
        """Exact: the fake reads the current items (a missing account stays None, and plan() answers 404)."""
        with self.store.lock:
            return {a: self._current(a) for a in account_ids}, True

    def read_states(self, account_ids: list[str]) -> States:
        with self.store.lock:
            found = {a: self._current(a) for a in account_ids}
        for a, state in found.items():
            if state is None:
                raise NotFound(f"account {a} not found")
        return found

    def fresh_look(self, claim: IdempotencyClaim | None, account_ids: list[str], states: States) -> CommitResult | None:
        with self.store.lock:
            if claim is not None and (claim.pk, claim.sk) in self.store.items:
                return stored_response(self.store.items[(claim.pk, claim.sk)], claim)
            states.update(self.read_states(account_ids))
        return None

    def write(
        self, claim: IdempotencyClaim | None, posting: Posting, states: States, answer: dict[str, Any]
    ) -> CommitResult:
        s = self.store
        with s.lock:
            s.commits += 1
            # The order DynamoStore decides in: a replay first, then the account versions the plan was made on
            # (stale: plan again), then the transaction (one operation per item, records that must not exist,
            # updates that must match), all before anything is written.
            if claim is not None and (claim.pk, claim.sk) in s.items:
                return stored_response(s.items[(claim.pk, claim.sk)], claim)
            now_known = {a: self._current(a) for a in posting.accounts}
            relied = self.reliances(posting)
            if any(now_known[a] is None or not relied[a].holds(now_known[a][0]) for a in now_known):  # type: ignore[index]
                raise Stale(now_known)
            body = answer
            entries = [stored(e) for e in self.entry_items(posting)]
            records = [stored(rec.item()) for rec in self.all_records()]  # TypeError for a float: nothing written
            changes = [stored(upd.changes) for upd in self.all_updates()]
            touched = [keys.account(a) for a in posting.accounts]
            touched += [(e["pk"], e["sk"]) for e in entries] + [(r["pk"], r["sk"]) for r in records]
            touched += [(u.pk, u.sk) for u in self.all_updates()] + ([(claim.pk, claim.sk)] if claim else [])
            if len(set(touched)) != len(touched):
                # DynamoDB refuses the whole transaction (ValidationException).
                raise ValueError(f"a transaction may touch each item once: {sorted(touched)}")
            for rec in self.all_records():
                if (rec.pk, rec.sk) in s.items:
                    raise rec.on_exists(stored(s.items[(rec.pk, rec.sk)]))
            for upd in self.all_updates():
                old = s.items.get((upd.pk, upd.sk))
                if old is None or any(k not in old or not same_value(old[k], v) for k, v in upd.expect.items()):
                    raise upd.on_mismatch(stored(old) if old else None)
            now = iso(utc_now())
            for e in entries:
                s.items[(e["pk"], e["sk"])] = e
            for a, before in posting.accounts_before.items():
                item = s.items[keys.account(a)]
                last = self.last_commit(posting, a)
                # The stream is delivered at once here: the sequencer's placements, on the state this write met.
                for placed in sequencing.placements(item, last):
                    s.items[(item["pk"], placed.sk)].update(seq=placed.seq, balance_after=placed.balance_after)
                delta = posting.accounts[a].balance - before.balance
                item.update(
                    balance=item["balance"] + delta,
                    held=int(item.get("held", 0)) + posting.accounts[a].held - before.held,
                    seq=item["seq"] + len(last),
                    version=item["version"] + 1,
                    updated_at=now,
                    last_commit=stored({"x": last})["x"],
                )
                self._index_low_balance(item)
                assert ("gsi1pk" in item) == relied[a].below, "the planned threshold side is the real one"
            for r in records:
                s.items[(r["pk"], r["sk"])] = r
            for upd, change in zip(self.all_updates(), changes, strict=True):
                s.items[(upd.pk, upd.sk)].update(change)
                for name in upd.remove:
                    s.items[(upd.pk, upd.sk)].pop(name, None)
            if claim is not None:
                s.items[(claim.pk, claim.sk)] = self.idempotency_item(claim, body)
            return CommitResult(body=body, replayed=False, posting=posting)


class MemoryStore(Store):
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.lock = threading.RLock()
        self.commits = 0

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)

    def create_account(self, account: Account) -> None:
        item = stored(items.account_to_item(account))
        with self.lock:
            if (item["pk"], item["sk"]) in self.items:
                raise AssertionError("account id collision")
            self.items[(item["pk"], item["sk"])] = item

    def get_account(self, account_id: str) -> Account | None:
        item = self.get_item(*keys.account(account_id))
        return items.account_from_item(item) if item else None

    def get_item(self, pk: str, sk: str) -> dict[str, Any] | None:
        with self.lock:
            item = self.items.get((pk, sk))
            return stored(item) if item else None

    def update_account(self, account_id: str, changes: dict[str, Any]) -> Account:
        with self.lock:
            item = self.items.get(keys.account(account_id))
            if item is None:
                raise NotFound(f"account {account_id} not found")
            item.update(stored(changes), version=item["version"] + 1, updated_at=iso(utc_now()))
            MemoryUnitOfWork._index_low_balance(item)
            return items.account_from_item(item)

    def place_entries(self, pk: str, placements: list[sequencing.Placement]) -> None:
        with self.lock:
            for placed in placements:
                entry = self.items.get((pk, placed.sk))
                now = (entry or {}).get("seq"), (entry or {}).get("balance_after")
                if entry is None or now not in ((None, None), (placed.seq, placed.balance_after)):
                    raise sequencing.LedgerMismatch(f"entry {pk}/{placed.sk} is missing or was placed otherwise")
                entry.update(seq=placed.seq, balance_after=placed.balance_after)

    def link_document(self, pk: str, sk: str, number: str) -> None:
        with self.lock:
            entry = self.items.get((pk, sk))
            if entry is None:
                raise NotFound(f"entry {pk}/{sk} not found")
            if number not in entry.get("documents", []):
                entry["documents"] = [*entry.get("documents", []), number]

    def delete_record(self, pk: str, sk: str, *, older_than: int | None = None) -> bool:
        if keys.is_money_sk(sk):
            raise ValueError("money items are never deleted")
        with self.lock:
            item = self.items.get((pk, sk))
            if item is None:
                return False
            if older_than is not None:
                # DynamoDB's ``version < :v`` is false when there is no numeric version.
                version = item.get("version")
                if type(version) is not int or version >= older_than:
                    return False
            del self.items[(pk, sk)]
            return True

    def low_balance_accounts(self, cursor: str | None, limit: int) -> tuple[list[tuple[Account, int]], str | None, int]:
        with self.lock:
            rows = sorted(
                (stored(i) for i in self.items.values() if i.get("gsi1pk") == keys.LOW_BALANCE_PK),
                key=lambda i: i["gsi1sk"],
            )
        if cursor:
            rows = [r for r in rows if r["gsi1sk"] > decode_cursor(cursor, None)["gsi1sk"]]
        page = rows[:limit]
        # Like a DynamoDB Query: a full page has a cursor, even when nothing follows.
        nxt = encode_cursor({"gsi1sk": page[-1]["gsi1sk"]}) if len(page) == limit and page else None
        return [(items.account_from_item(r), int(r["version"])) for r in page], nxt, len(page)

    def query_prefix(
        self, pk: str, sk_prefix: str, *, limit: int = 100, newest_first: bool = False, after: str | None = None
    ) -> list[dict[str, Any]]:
        with self.lock:
            rows = sorted(
                (
                    stored(i)
                    for (p, sk), i in self.items.items()
                    if p == pk and sk.startswith(sk_prefix) and (after is None or sk > after)
                ),
                key=lambda i: i["sk"],
                reverse=newest_first,
            )
        return rows[:limit]

    def index_page(
        self, index_pk: str, *, until: str | None = None, cursor: str | None = None, limit: int = 100
    ) -> tuple[list[dict[str, Any]], str | None]:
        with self.lock:
            rows = sorted(
                (
                    stored(i)
                    for i in self.items.values()
                    if i.get("gsi1pk") == index_pk and (until is None or i["gsi1sk"] <= until)
                ),
                key=lambda i: (i["gsi1sk"], i["pk"], i["sk"]),
            )
        if cursor:
            last = decode_cursor(cursor, None)
            rows = [r for r in rows if (r["gsi1sk"], r["pk"], r["sk"]) > (last["gsi1sk"], last["pk"], last["sk"])]
        page = rows[:limit]
        nxt = (
            encode_cursor({k: page[-1][k] for k in ("gsi1pk", "gsi1sk", "pk", "sk")})
            if len(page) == limit and page
            else None
        )
        return page, nxt

    def list_entries(
        self,
        account_id: str,
        *,
        since: str | None,
        until: str | None,
        entry_type: str | None,
        cursor: str | None,
        limit: int,
    ) -> Page:
        low, high = keys.entries_between(since or "0", (until or "9999") + "#~")
        pk = keys.account_pk(account_id)
        with self.lock:
            rows = sorted(
                (i for (p, sk), i in self.items.items() if p == pk and low <= sk <= high),
                key=lambda i: i["sk"],
                reverse=True,
            )
        if entry_type:
            rows = [r for r in rows if r["type"] == entry_type]
        if cursor:
            after_sk = decode_cursor(cursor, pk)["sk"]
            rows = [r for r in rows if r["sk"] < after_sk]
        page = rows[:limit]
        # Like a DynamoDB Query: a full page has a cursor, even when nothing follows.
        next_cursor = encode_cursor({"pk": pk, "sk": page[-1]["sk"]}) if len(page) == limit and page else None
        return Page(items=[items.entry_from_item(r) for r in page], next_cursor=next_cursor)
