"""DynamoDB implementation of the store. The only module that touches boto3.

Money movements: ``DynamoUnitOfWork.commit`` sends ONE ``TransactWriteItems``:

* the account item: ``SET balance = balance + :delta, seq = seq + :n, version = version + 1``
  conditioned on ``version = :v`` (so ``balance_after`` on every entry is exact) **and**
  on the floor (``balance >= :need``, i.e. ``balance - amount >= floor``);
* one ``Put`` per ledger entry with ``attribute_not_exists``;
* the idempotency record with ``attribute_not_exists`` (permanent, no TTL);
* any records / record updates the service added (order, deposit, webhook marker).

The account state used to build the condition comes from a per-process cache; when it
is stale the condition fails and DynamoDB returns the current item
(``ReturnValuesOnConditionCheckFailure=ALL_OLD``), so a warm function spends exactly one
write call per movement and a stale one two, without a separate read. A replay fails on
the idempotency record and its stored answer comes back in the same cancellation.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections import OrderedDict
from typing import Any

from account_credit.kernel import ledger
from account_credit.kernel.domain import Account
from account_credit.kernel.errors import (
    ConcurrentUpdate,
    DomainError,
    InsufficientFunds,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
)
from account_credit.kernel.ids import iso, utc_now
from account_credit.platform.config import settings
from account_credit.platform.store import items, keys
from account_credit.platform.store.base import (
    CommitResult,
    IdempotencyClaim,
    Page,
    Posting,
    Responder,
    Store,
    UnitOfWork,
    canonical,
    stored_response,
)

_RETRYABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
}
_RETRYABLE_REASONS = {"TransactionConflict", "ProvisionedThroughputExceeded", "ThrottlingError"}

# --------------------------------------------------------------------------- values


def to_attr(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, dict):
        return {"M": {k: to_attr(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_attr(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__} (floats are never stored)")


def from_attr(attr: dict[str, Any]) -> Any:
    ((kind, value),) = attr.items()
    if kind == "S":
        return value
    if kind == "N":
        return int(value)
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "L":
        return [from_attr(v) for v in value]
    raise TypeError(f"unsupported attribute type {kind}")


def to_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: to_attr(v) for k, v in item.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in item.items()}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


# --------------------------------------------------------------------------- client

_clients: dict[tuple[str | None, str], Any] = {}


def client(endpoint: str | None = None, region: str | None = None) -> Any:
    """A shared low-level DynamoDB client (botocore retries off: we retry with jitter ourselves).

    botocore's client-side parameter validation is off: every request is built here from
    ``to_attr`` values (which refuse anything unstorable), DynamoDB validates it again, and
    walking a six-item order transaction cost ~0.4 ms of CPU per call.
    """
    cfg = settings()
    endpoint = endpoint if endpoint is not None else cfg.dynamodb_endpoint
    region = region or cfg.aws_region
    found = _clients.get((endpoint, region))
    if found is None:
        import boto3
        from botocore.config import Config

        found = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=endpoint or None,
            region_name=region,
            config=Config(
                retries={"max_attempts": 1, "mode": "standard"},
                connect_timeout=2,
                read_timeout=5,
                max_pool_connections=64,
                parameter_validation=False,
            ),
        )
        # setdefault: should two threads of a test get here at once, both keep the same client.
        found = _clients.setdefault((endpoint, region), found)
    return found


def _error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def _is_transient_io(exc: Exception) -> bool:
    from botocore.exceptions import (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    return isinstance(exc, (ReadTimeoutError, ConnectTimeoutError, EndpointConnectionError, ConnectionClosedError))


def _backoff(attempt: int, base: float = 0.01, cap: float = 0.5) -> None:
    """Full jitter: sleep uniformly in [0, min(cap, base * 2**attempt)]."""
    time.sleep(random.uniform(0, min(cap, base * (2**attempt))))


# --------------------------------------------------------------------------- account cache


class AccountCache:
    """Last known state of each account in this process (bounded; the oldest written goes first).

    A Lambda container serves one request at a time, and so does each local function
    instance, so there is nothing to lock: across processes the version condition decides,
    and a stale entry costs one refresh. Tests and benchmarks that share a store between
    threads are still safe: every method is one OrderedDict operation, atomic in CPython,
    and a state overwritten by an older one is only stale.
    """

    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._data: OrderedDict[tuple[str, str], tuple[Account, int]] = OrderedDict()

    def get(self, table: str, account_id: str) -> tuple[Account, int] | None:
        return self._data.get((table, account_id))

    def put(self, table: str, account: Account, version: int) -> None:
        key = (table, account.account_id)
        self._data.pop(key, None)  # re-inserted at the end: the newest
        self._data[key] = (account, version)
        while len(self._data) > self._size:
            try:
                self._data.popitem(last=False)
            except KeyError:  # emptied meanwhile by another thread of a test
                break

    def drop(self, table: str, account_id: str) -> None:
        self._data.pop((table, account_id), None)


# --------------------------------------------------------------------------- unit of work


def floor_need(before: Account, movements: list[Any]) -> int | None:
    """The lowest starting balance for which every debit in ``movements`` (applied in order) keeps
    its floor: ``balance + cumulative_delta_i >= floor_i``  <=>  ``balance >= floor_i - cumulative_delta_i``.
    None when no movement has a floor to keep."""
    need: int | None = None
    cumulative = 0
    for m in movements:
        cumulative += m.amount.amount
        if m.amount.amount < 0:
            floor = ledger.minimum_balance(before, m.floor)
            if floor is not None:
                need = floor - cumulative if need is None else max(need, floor - cumulative)
    return need


class DynamoUnitOfWork(UnitOfWork):
    def __init__(self, store: DynamoStore) -> None:
        super().__init__()
        self.store = store

    # -- building the transaction

    def _account_update(self, before: Account, version: int, after: Account, need: int | None) -> dict[str, Any]:
        delta = after.balance - before.balance
        names = {"#b": "balance", "#s": "seq", "#v": "version", "#u": "updated_at"}
        values: dict[str, Any] = {
            ":d": to_attr(delta),
            ":n": to_attr(after.seq - before.seq),
            ":one": to_attr(1),
            ":v": to_attr(version),
            ":now": to_attr(iso(utc_now())),
        }
        condition = "#v = :v"
        # The floor, stated in the database too (see floor_need).
        if need is not None:
            values[":need"] = to_attr(need)
            condition += " AND #b >= :need"
        expression = "SET #b = #b + :d, #s = #s + :n, #v = #v + :one, #u = :now"
        low = items.low_balance_keys(after)  # settings are exact: the version condition covers them
        if low is None:
            expression += " REMOVE gsi1pk, gsi1sk"
        else:
            expression += ", gsi1pk = :lowpk, gsi1sk = :lowsk"
            values[":lowpk"] = to_attr(low["gsi1pk"])
            values[":lowsk"] = to_attr(low["gsi1sk"])
        return {
            "Update": {
                "TableName": self.store.table,
                "Key": _key(keys.account_pk(before.account_id), keys.ACCOUNT_SK),
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _put(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.store.table,
                "Item": to_item(item),
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _record_update(self, upd: Any) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets = []
        for i, (k, v) in enumerate(upd.changes.items()):
            names[f"#c{i}"] = k
            values[f":c{i}"] = to_attr(v)
            sets.append(f"#c{i} = :c{i}")
        conds = ["attribute_exists(pk)"]
        for i, (k, v) in enumerate(upd.expect.items()):
            names[f"#e{i}"] = k
            values[f":e{i}"] = to_attr(v)
            conds.append(f"#e{i} = :e{i}")
        return {
            "Update": {
                "TableName": self.store.table,
                "Key": _key(upd.pk, upd.sk),
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": " AND ".join(conds),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    # -- committing

    def commit(self, claim: IdempotencyClaim | None, respond: Responder) -> CommitResult:
        store = self.store
        account_ids = sorted({m.account_id for m in self.movements})
        max_attempts = settings().max_write_attempts
        states = {a: store.cache.get(store.table, a) for a in account_ids}
        confirmed = False  # states were read consistently during this commit
        last_error: Exception | None = None
        # Two budgets: transient failures (throttling, timeouts, transaction conflicts) get
        # ``max_attempts`` with jittered backoff; refreshes after a failed version condition
        # mean another writer committed (global progress), so they get a larger budget.
        transient = refreshes = 0
        while transient < max_attempts and refreshes < 8 * max_attempts:
            missing = [a for a, s in states.items() if s is None]
            if missing:
                states.update(store._read_accounts(missing))
                confirmed = True
            accounts = {a: s[0] for a, s in states.items() if s is not None}
            try:
                posting = self.plan(accounts, claim)
            except InsufficientFunds:
                # Decide a decline on confirmed data only, and never decline a replay.
                replay = self._fresh_look(claim, account_ids, states)
                if replay is not None:
                    return replay
                if confirmed:
                    raise
                confirmed = True
                continue
            status, body = respond(posting)
            body = canonical(body)
            transact = self._transaction(posting, states, claim, status, body)
            try:
                store.client.transact_write_items(TransactItems=transact)
            except Exception as exc:  # noqa: BLE001 - classified below, re-raised if unknown
                last_error = exc
                outcome = self._after_failure(exc, transact, claim, account_ids, states)
                if isinstance(outcome, CommitResult):
                    return outcome
                if outcome == "refreshed":
                    confirmed = True
                    refreshes += 1
                    if refreshes > 2:
                        _backoff(min(refreshes - 2, 5), base=0.002)  # a herd on one account: spread it
                else:
                    confirmed = False
                    _backoff(transient)
                    transient += 1
                continue
            for a, acct in posting.accounts.items():
                store.cache.put(store.table, acct, states[a][1] + 1)  # type: ignore[index]
            return CommitResult(status=status, body=body, replayed=False, posting=posting)
        if last_error is not None and _error_code(last_error) in _RETRYABLE_CODES:
            raise ServiceUnavailable("the database is throttling; nothing was written, retry with the same key")
        raise ConcurrentUpdate("too much contention on this account; nothing was written, retry with the same key")

    def _transaction(
        self,
        posting: Posting,
        states: dict[str, tuple[Account, int] | None],
        claim: IdempotencyClaim | None,
        status: int,
        body: dict[str, Any],
    ) -> list[dict[str, Any]]:
        transact: list[dict[str, Any]] = []
        for a, after in posting.accounts.items():
            before, version = states[a]  # type: ignore[misc]
            need = floor_need(before, [m for m in self.movements if m.account_id == a])
            transact.append(self._account_update(before, version, after, need))
        transact.extend(self._put(i) for i in self.entry_items(posting))
        transact.extend(self._put(r.item()) for r in self.records)
        transact.extend(self._record_update(u) for u in self.updates)
        if claim is not None:
            transact.append(self._put(self.idempotency_item(claim, status, body)))
        return transact

    def _fresh_look(
        self,
        claim: IdempotencyClaim | None,
        account_ids: list[str],
        states: dict[str, tuple[Account, int] | None],
    ) -> CommitResult | None:
        """One consistent BatchGetItem of the accounts and the idempotency record."""
        wanted = [(keys.account_pk(a), keys.ACCOUNT_SK) for a in account_ids]
        if claim is not None:
            wanted.append((claim.pk, claim.sk))
        found = self.store._batch_get(wanted)
        if claim is not None and (claim.pk, claim.sk) in found:
            return stored_response(found[(claim.pk, claim.sk)], claim)
        for a in account_ids:
            item = found.get((keys.account_pk(a), keys.ACCOUNT_SK))
            if item is None:
                raise NotFound(f"account {a} not found")
            states[a] = (items.account_from_item(item), int(item["version"]))
            self.store.cache.put(self.store.table, states[a][0], states[a][1])  # type: ignore[index]
        return None

    def _after_failure(
        self,
        exc: Exception,
        transact: list[dict[str, Any]],
        claim: IdempotencyClaim | None,
        account_ids: list[str],
        states: dict[str, tuple[Account, int] | None],
    ) -> CommitResult | str:
        """Classify a failed TransactWriteItems: replay answer, refreshed state, or retry."""
        code = _error_code(exc)
        if code == "TransactionCanceledException":
            reasons = exc.response.get("CancellationReasons", [])  # type: ignore[attr-defined]
            # The idempotency record is last: a replay wins over everything else.
            if claim is not None and reasons and reasons[-1].get("Code") == "ConditionalCheckFailed":
                raw = reasons[-1].get("Item")
                # Without ALL_OLD (an older emulator) read the record instead.
                old = from_item(raw) if raw is not None else self.store.get_item(claim.pk, claim.sk)
                if old is not None:
                    return stored_response(old, claim)
            refreshed = False
            for i, a in enumerate(account_ids):
                r = reasons[i] if i < len(reasons) else {}
                if r.get("Code") == "ConditionalCheckFailed":
                    if "Item" not in r:
                        self.store.cache.drop(self.store.table, a)
                        states[a] = None
                        refreshed = True
                        continue
                    old = from_item(r["Item"])
                    states[a] = (items.account_from_item(old), int(old["version"]))
                    self.store.cache.put(self.store.table, states[a][0], states[a][1])  # type: ignore[index]
                    refreshed = True
            if refreshed:
                # Plan again on the fresh state before judging records and updates, so the
                # floor is checked before them whether this container was warm or stale.
                return "refreshed"
            # Layout: accounts, entries, records, updates, idempotency record.
            offset = len(transact) - len(self.records) - len(self.updates) - (1 if claim else 0)
            for j, rec in enumerate(self.records):
                r = reasons[offset + j] if offset + j < len(reasons) else {}
                if r.get("Code") == "ConditionalCheckFailed":
                    raise rec.on_exists(from_item(r["Item"]) if "Item" in r else {})
            base = offset + len(self.records)
            for j, upd in enumerate(self.updates):
                r = reasons[base + j] if base + j < len(reasons) else {}
                if r.get("Code") == "ConditionalCheckFailed":
                    raise upd.on_mismatch(from_item(r["Item"]) if "Item" in r else None)
            if any(r.get("Code") in _RETRYABLE_REASONS for r in reasons):
                return "retry"
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                # An entry key collided (same timestamp and seq): plan again.
                return "retry"
            raise exc
        if code in _RETRYABLE_CODES or _is_transient_io(exc):
            # A timeout may hide a committed write: the retry meets our own idempotency
            # record and answers with it.
            return "retry"
        raise exc


# --------------------------------------------------------------------------- store


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
        """A single-item call, retried with jitter on throttling (not on condition failures)."""
        attempts = settings().max_write_attempts
        for attempt in range(attempts):
            try:
                return getattr(self.client, op)(**kwargs)
            except Exception as exc:
                if (_error_code(exc) in _RETRYABLE_CODES or _is_transient_io(exc)) and attempt + 1 < attempts:
                    _backoff(attempt)
                    continue
                if _error_code(exc) in _RETRYABLE_CODES or _is_transient_io(exc):
                    raise ServiceUnavailable("the database did not answer in time; retry") from exc
                raise
        raise AssertionError("unreachable")

    def _read_accounts(self, account_ids: list[str]) -> dict[str, tuple[Account, int]]:
        found = self._batch_get([(keys.account_pk(a), keys.ACCOUNT_SK) for a in account_ids])
        out: dict[str, tuple[Account, int]] = {}
        for a in account_ids:
            item = found.get((keys.account_pk(a), keys.ACCOUNT_SK))
            if item is None:
                raise NotFound(f"account {a} not found")
            out[a] = (items.account_from_item(item), int(item["version"]))
            self.cache.put(self.table, out[a][0], out[a][1])
        return out

    def _batch_get(self, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        if len(wanted) == 1:
            got = self._call("get_item", TableName=self.table, Key=_key(*wanted[0]), ConsistentRead=True)
            return {wanted[0]: from_item(got["Item"])} if "Item" in got else {}
        request = {self.table: {"Keys": [_key(pk, sk) for pk, sk in wanted], "ConsistentRead": True}}
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for attempt in range(settings().max_write_attempts):
            got = self._call("batch_get_item", RequestItems=request)
            for raw in got.get("Responses", {}).get(self.table, []):
                item = from_item(raw)
                out[(item["pk"], item["sk"])] = item
            request = got.get("UnprocessedKeys") or {}
            if not request:
                return out
            _backoff(attempt)
        raise ServiceUnavailable("the database is throttling reads; retry")

    def create_account(self, account: Account) -> None:
        self._call(
            "put_item",
            TableName=self.table,
            Item=to_item(items.account_to_item(account)),
            ConditionExpression="attribute_not_exists(pk)",
        )
        self.cache.put(self.table, account, 0)

    def get_account(self, account_id: str) -> Account | None:
        item = self.get_item(keys.account_pk(account_id), keys.ACCOUNT_SK)
        if item is None:
            return None
        account = items.account_from_item(item)
        self.cache.put(self.table, account, int(item["version"]))
        return account

    def known_account(self, account_id: str) -> Account | None:
        cached = self.cache.get(self.table, account_id)
        return cached[0] if cached is not None else self.get_account(account_id)

    def get_item(self, pk: str, sk: str) -> dict[str, Any] | None:
        got = self._call("get_item", TableName=self.table, Key=_key(pk, sk), ConsistentRead=True)
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
                Key=_key(keys.account_pk(account_id), keys.ACCOUNT_SK),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except Exception as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
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
            "Key": _key(keys.account_pk(account.account_id), keys.ACCOUNT_SK),
            "UpdateExpression": expression,
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": to_attr(int(item["version"]))},
        }
        if want is not None:
            kwargs["ExpressionAttributeValues"].update({":p": to_attr(want["gsi1pk"]), ":s": to_attr(want["gsi1sk"])})
        try:
            self._call("update_item", **kwargs)
        except Exception as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":
                raise

    def delete_record(self, pk: str, sk: str, *, older_than: int | None = None) -> bool:
        if sk.startswith(("ACCOUNT", "ENTRY#", "IDEM#")):
            raise ValueError("money items are never deleted")
        kwargs: dict[str, Any] = {"TableName": self.table, "Key": _key(pk, sk), "ReturnValues": "ALL_OLD"}
        if older_than is not None:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk) OR #v < :v"
            kwargs["ExpressionAttributeNames"] = {"#v": "version"}
            kwargs["ExpressionAttributeValues"] = {":v": to_attr(older_than)}
        try:
            return "Attributes" in self._call("delete_item", **kwargs)
        except Exception as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
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
        self, pk: str, sk_prefix: str, *, limit: int = 100, newest_first: bool = False
    ) -> list[dict[str, Any]]:
        got = self._call(
            "query",
            TableName=self.table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues={":p": to_attr(pk), ":s": to_attr(sk_prefix)},
            ConsistentRead=True,
            ScanIndexForward=not newest_first,
            Limit=limit,
        )
        return [from_item(i) for i in got.get("Items", [])]

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
                ":lo": to_attr("ENTRY#" + low),
                ":hi": to_attr("ENTRY#" + high),
            }
        if cursor:
            kwargs["ExclusiveStartKey"] = to_item(decode_cursor(cursor, keys.account_pk(account_id)))
        got = self._call("query", **kwargs)
        entries = [items.entry_from_item(from_item(i)) for i in got.get("Items", [])]
        last = got.get("LastEvaluatedKey")
        return Page(items=entries, next_cursor=encode_cursor(from_item(last)) if last else None)


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, expected_pk: str | None) -> dict[str, Any]:
    """Parse a cursor we issued; refuse one that is malformed or belongs to another account."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("cursor is not valid", field="cursor") from None
    if (
        not isinstance(raw, dict)
        or (expected_pk is not None and raw.get("pk") != expected_pk)
        or not all(isinstance(v, str) for v in raw.values())
    ):
        raise InvalidInput("cursor is not valid for this account", field="cursor")
    return raw


__all__ = ["DomainError", "DynamoStore", "DynamoUnitOfWork", "client", "decode_cursor", "encode_cursor"]
