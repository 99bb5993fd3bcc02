"""DynamoDB implementation of the store (with ``codec.py`` and ``transaction.py``, the only boto3 code).

Money movements: ``DynamoUnitOfWork.write`` sends ONE ``TransactWriteItems`` (built and,
when it fails, classified by ``transaction.py``): the account updates (commutative increments,
conditioned on what the plan relies on: floor, credit limit, threshold side), the ledger
entries, the records and record updates the service added (order, deposit, webhook marker)
and the idempotency record.

The account state a plan is made on comes from a per-process cache; it only has to be
close enough for the plan's conditions to hold. When they do not, the condition fails and
DynamoDB returns the current item (``ReturnValuesOnConditionCheckFailure=ALL_OLD``), so a
warm function spends one write call per movement even when other containers wrote
meanwhile, without a separate read. A replay fails on the idempotency record and its
stored answer comes back in the same cancellation.
"""

from __future__ import annotations

from typing import Any

from account_credit.kernel.domain import Account
from account_credit.kernel.errors import NotFound, ServiceUnavailable
from account_credit.kernel.ids import iso, utc_now
from account_credit.platform.config import settings
from account_credit.platform.retry import retry
from account_credit.platform.store import items, keys, transaction
from account_credit.platform.store.base import (
    CommitResult,
    IdempotencyClaim,
    Page,
    Posting,
    Stale,
    States,
    Store,
    Transient,
    UnitOfWork,
    stored_response,
)
from account_credit.platform.store.cache import AccountCache
from account_credit.platform.store.codec import (
    RETRYABLE_CODES,
    client,
    decode_cursor,
    encode_cursor,
    error_code,
    from_item,
    is_retryable,
    key,
    to_attr,
    to_item,
)
from account_credit.platform.store.sequencing import LedgerMismatch, Placement

# --------------------------------------------------------------------------- unit of work


class DynamoUnitOfWork(UnitOfWork):
    def __init__(self, store: DynamoStore) -> None:
        super().__init__()
        self.store = store

    def known_states(self, account_ids: list[str]) -> tuple[States, bool]:
        """This container's cache (no read when warm); unknown accounts come back as None."""
        return {a: self.store.cache.get(self.store.table, a) for a in account_ids}, False

    def read_states(self, account_ids: list[str]) -> States:
        return dict(self.store._read_accounts(account_ids))

    def write(
        self, claim: IdempotencyClaim | None, posting: Posting, states: States, answer: dict[str, Any]
    ) -> CommitResult:
        store = self.store
        account_ids = sorted({m.account_id for m in self.movements})
        transact = transaction.build(store.table, self, posting, claim, answer)
        try:
            store.client.transact_write_items(TransactItems=transact)
        except Exception as exc:
            outcome = transaction.classify(exc, transact, self, claim, account_ids, store.get_item)
            if isinstance(outcome, CommitResult):
                return outcome
            if isinstance(outcome, transaction.Refreshed):
                fresh: States = {}
                self._refresh(fresh, outcome.accounts)
                raise Stale(fresh) from exc
            raise Transient(
                exc, throttled=error_code(exc) in RETRYABLE_CODES, conflict=transaction.is_conflict(exc)
            ) from exc
        for a, acct in posting.accounts.items():
            # What this container knows now: its own write on the state it planned on. Other containers' writes
            # since are not in it; the next write's condition finds out if that matters.
            store.cache.put(store.table, acct, states[a][1] + 1)  # type: ignore[index]
        return CommitResult(body=answer, replayed=False, posting=posting)

    def _refresh(self, states: States, current: dict[str, dict[str, Any] | None]) -> None:
        """Take the current account items a cancellation returned (None: read it again before planning)."""
        for a, item in current.items():
            if item is None:
                self.store.cache.drop(self.store.table, a)
                states[a] = None
            else:
                states[a] = (items.account_from_item(item), int(item["version"]))
                self.store.cache.put(self.store.table, states[a][0], states[a][1])  # type: ignore[index]

    def fresh_look(self, claim: IdempotencyClaim | None, account_ids: list[str], states: States) -> CommitResult | None:
        """One consistent BatchGetItem of the accounts and the idempotency record."""
        wanted = [keys.account(a) for a in account_ids]
        if claim is not None:
            wanted.append((claim.pk, claim.sk))
        found = self.store._batch_get(wanted)
        if claim is not None and (claim.pk, claim.sk) in found:
            return stored_response(found[(claim.pk, claim.sk)], claim)
        for a in account_ids:
            item = found.get(keys.account(a))
            if item is None:
                raise NotFound(f"account {a} not found")
            states[a] = (items.account_from_item(item), int(item["version"]))
            self.store.cache.put(self.store.table, states[a][0], states[a][1])  # type: ignore[index]
        return None


# --------------------------------------------------------------------------- store


class _Again(Exception):
    """A call that may succeed when tried again (throttled, timed out, keys left unprocessed)."""


_PROCESS_CACHE = AccountCache()


class DynamoStore(Store):
    def __init__(self, table: str | None = None, dynamo_client: Any = None, cache: AccountCache | None = None) -> None:
        """``cache``: the per-process account cache by default; tests pass their own to act as separate containers."""
        self.table = table or settings().table_name
        self._client = dynamo_client
        self.cache = cache if cache is not None else _PROCESS_CACHE

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = client()
        return self._client

    def unit_of_work(self) -> DynamoUnitOfWork:
        return DynamoUnitOfWork(self)

    def _call(self, op: str, **kwargs: Any) -> Any:
        """A single-item call, retried with jitter on throttling and timeouts (not on condition failures)."""
        call = getattr(self.client, op)

        def attempt() -> Any:
            try:
                return call(**kwargs)
            except Exception as exc:
                if is_retryable(exc):
                    raise _Again from exc
                raise

        try:
            return retry(attempt, on=(_Again,), attempts=settings().max_write_attempts)
        except _Again as exc:
            raise ServiceUnavailable("the database did not answer in time; retry") from exc.__cause__

    def _read_accounts(self, account_ids: list[str]) -> dict[str, tuple[Account, int]]:
        found = self._batch_get([keys.account(a) for a in account_ids])
        out: dict[str, tuple[Account, int]] = {}
        for a in account_ids:
            item = found.get(keys.account(a))
            if item is None:
                raise NotFound(f"account {a} not found")
            out[a] = (items.account_from_item(item), int(item["version"]))
            self.cache.put(self.table, out[a][0], out[a][1])
        return out

    def _batch_get(self, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        if len(wanted) == 1:
            got = self._call("get_item", TableName=self.table, Key=key(*wanted[0]), ConsistentRead=True)
            return {wanted[0]: from_item(got["Item"])} if "Item" in got else {}
        request = {self.table: {"Keys": [key(pk, sk) for pk, sk in wanted], "ConsistentRead": True}}
        out: dict[tuple[str, str], dict[str, Any]] = {}

        def attempt() -> dict[tuple[str, str], dict[str, Any]]:
            nonlocal request
            got = self._call("batch_get_item", RequestItems=request)
            for raw in got.get("Responses", {}).get(self.table, []):
                item = from_item(raw)
                out[(item["pk"], item["sk"])] = item
            request = got.get("UnprocessedKeys") or {}
            if request:
                raise _Again
            return out

        return retry(
            attempt,
            on=(_Again,),
            attempts=settings().max_write_attempts,
            exhausted=ServiceUnavailable("the database is throttling reads; retry"),
        )

    def create_account(self, account: Account) -> None:
        self._call(
            "put_item",
            TableName=self.table,
            Item=to_item(items.account_to_item(account)),
            ConditionExpression="attribute_not_exists(pk)",
        )
        self.cache.put(self.table, account, 0)

    def get_account(self, account_id: str) -> Account | None:
        item = self.get_item(*keys.account(account_id))
        if item is None:
            return None
        account = items.account_from_item(item)
        self.cache.put(self.table, account, int(item["version"]))
        return account

    def known_account(self, account_id: str) -> Account | None:
        cached = self.cache.get(self.table, account_id)
        return cached[0] if cached is not None else self.get_account(account_id)

    def get_item(self, pk: str, sk: str) -> dict[str, Any] | None:
        got = self._call("get_item", TableName=self.table, Key=key(pk, sk), ConsistentRead=True)
        return from_item(got["Item"]) if "Item" in got else None

    def update_account(self, account_id: str, changes: dict[str, Any]) -> Account:
        names = {"#v": "version", "#u": "updated_at"}
        values = {":one": to_attr(1), ":now": to_attr(iso(utc_now()))}
        sets = ["#v = #v + :one", "#u = :now"]
        for i, (k, v) in enumerate(changes.items()):
            names[f"#a{i}"] = k
            values[f":a{i}"] = to_attr(v)
            sets.append(f"#a{i} = :a{i}")
        try:
            got = self._call(
                "update_item",
                TableName=self.table,
                Key=key(*keys.account(account_id)),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise NotFound(f"account {account_id} not found") from None
            raise
        item = from_item(got["Attributes"])
        account = items.account_from_item(item)
        self.cache.put(self.table, account, int(item["version"]))
        self._sync_low_balance_index(item, account)
        return account

    def _sync_low_balance_index(self, item: dict[str, Any], account: Account) -> None:
        """After a settings change, put the item in (or out of) the sparse low-balance index.

        Conditioned on the version just written: if a movement got in between, that
        movement already set the index from the new settings.
        """
        want = items.low_balance_keys(account)
        if (want is None) == ("gsi1pk" not in item):
            return
        expression = "REMOVE gsi1pk, gsi1sk" if want is None else "SET gsi1pk = :p, gsi1sk = :s"
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": key(*keys.account(account.account_id)),
            "UpdateExpression": expression,
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": to_attr(int(item["version"]))},
        }
        if want is not None:
            kwargs["ExpressionAttributeValues"].update({":p": to_attr(want["gsi1pk"]), ":s": to_attr(want["gsi1sk"])})
        try:
            self._call("update_item", **kwargs)
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def place_entries(self, pk: str, placements: list[Placement]) -> None:
        for placed in placements:
            try:
                self._call(
                    "update_item",
                    TableName=self.table,
                    Key=key(pk, placed.sk),
                    UpdateExpression="SET #s = :s, #b = :b",
                    ConditionExpression=(
                        "attribute_exists(pk) AND ((attribute_not_exists(#s) AND attribute_not_exists(#b))"
                        " OR (#s = :s AND #b = :b))"
                    ),
                    ExpressionAttributeNames={"#s": "seq", "#b": "balance_after"},
                    ExpressionAttributeValues={":s": to_attr(placed.seq), ":b": to_attr(placed.balance_after)},
                )
            except Exception as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    raise LedgerMismatch(f"entry {pk}/{placed.sk} is missing or was placed otherwise") from exc
                raise

    def link_document(self, pk: str, sk: str, number: str) -> None:
        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key=key(pk, sk),
                UpdateExpression="SET #d = list_append(if_not_exists(#d, :none), :n)",
                ConditionExpression="attribute_exists(pk) AND NOT contains(#d, :one)",
                ExpressionAttributeNames={"#d": "documents"},
                ExpressionAttributeValues={
                    ":none": to_attr([]),
                    ":n": to_attr([number]),
                    ":one": to_attr(number),
                },
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            if self.get_item(pk, sk) is None:
                raise NotFound(f"entry {pk}/{sk} not found") from exc

    def delete_record(self, pk: str, sk: str, *, older_than: int | None = None) -> bool:
        if keys.is_money_sk(sk):
            raise ValueError("money items are never deleted")
        kwargs: dict[str, Any] = {"TableName": self.table, "Key": key(pk, sk), "ReturnValues": "ALL_OLD"}
        if older_than is not None:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk) OR #v < :v"
            kwargs["ExpressionAttributeNames"] = {"#v": "version"}
            kwargs["ExpressionAttributeValues"] = {":v": to_attr(older_than)}
        try:
            return "Attributes" in self._call("delete_item", **kwargs)
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    def low_balance_accounts(self, cursor: str | None, limit: int) -> tuple[list[tuple[Account, int]], str | None, int]:
        """One page of the sparse low-balance index: (account, version) pairs, next cursor, items read."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": {":p": to_attr(keys.LOW_BALANCE_PK)},
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = to_item(decode_cursor(cursor, None))
        got = self._call("query", **kwargs)
        found = [from_item(i) for i in got.get("Items", [])]
        last = got.get("LastEvaluatedKey")
        accounts = [(items.account_from_item(i), int(i["version"])) for i in found]
        return accounts, (encode_cursor(from_item(last)) if last else None), int(got.get("ScannedCount", len(found)))

    def query_prefix(
        self, pk: str, sk_prefix: str, *, limit: int = 100, newest_first: bool = False, after: str | None = None
    ) -> list[dict[str, Any]]:
        if after is None:
            condition, values = "pk = :p AND begins_with(sk, :s)", {":p": to_attr(pk), ":s": to_attr(sk_prefix)}
        else:  # the page after ``after`` (ascending): sort keys between it and the prefix's end
            condition = "pk = :p AND sk BETWEEN :a AND :z"
            values = {":p": to_attr(pk), ":a": to_attr(after + "\x00"), ":z": to_attr(sk_prefix + "\uffff")}
        got = self._call(
            "query",
            TableName=self.table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ConsistentRead=True,
            ScanIndexForward=not newest_first,
            Limit=limit,
        )
        return [from_item(i) for i in got.get("Items", [])]

    def index_page(
        self, index_pk: str, *, until: str | None = None, cursor: str | None = None, limit: int = 100
    ) -> tuple[list[dict[str, Any]], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p" + (" AND gsi1sk <= :u" if until is not None else ""),
            "ExpressionAttributeValues": {":p": to_attr(index_pk), **({":u": to_attr(until)} if until else {})},
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = to_item(decode_cursor(cursor, None))
        got = self._call("query", **kwargs)
        last = got.get("LastEvaluatedKey")
        return [from_item(i) for i in got.get("Items", [])], (encode_cursor(from_item(last)) if last else None)

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
        low = since or "0"
        high = (until or "9999") + "#~"
        low_sk, high_sk = keys.entries_between(low, high)
        kwargs: dict[str, Any] = {"TableName": self.table, "Limit": limit, "ScanIndexForward": False}
        if entry_type:
            kwargs["IndexName"] = "gsi1"
            kwargs["KeyConditionExpression"] = "gsi1pk = :p AND gsi1sk BETWEEN :lo AND :hi"
            kwargs["ExpressionAttributeValues"] = {
                ":p": to_attr(keys.entry_type_pk(account_id, entry_type)),
                ":lo": to_attr(low),
                ":hi": to_attr(high),
            }
        else:
            kwargs["KeyConditionExpression"] = "pk = :p AND sk BETWEEN :lo AND :hi"
            kwargs["ExpressionAttributeValues"] = {
                ":p": to_attr(keys.account_pk(account_id)),
                ":lo": to_attr(low_sk),
                ":hi": to_attr(high_sk),
            }
        if cursor:
            kwargs["ExclusiveStartKey"] = to_item(decode_cursor(cursor, keys.account_pk(account_id)))
        got = self._call("query", **kwargs)
        entries = [items.entry_from_item(from_item(i)) for i in got.get("Items", [])]
        last = got.get("LastEvaluatedKey")
        return Page(items=entries, next_cursor=encode_cursor(from_item(last)) if last else None)


__all__ = ["DynamoStore", "DynamoUnitOfWork"]
