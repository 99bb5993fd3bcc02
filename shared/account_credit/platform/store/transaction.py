"""The one ``TransactWriteItems`` of a unit of work, and what its failure means.

Layout of the transaction (the cancellation reasons come back in the same order):

1. one ``Update`` per account: ``SET balance = balance + :delta, seq = seq + :n, version = version + 1``
   conditioned on ``version = :v`` (so ``balance_after`` on every entry is exact) **and** on the
   floor (``balance >= :need``, i.e. ``balance - amount >= floor``);
2. one ``Put`` per ledger entry with ``attribute_not_exists``;
3. the records (``attribute_not_exists``) and record updates (expected values) the service added;
4. the idempotency record with ``attribute_not_exists`` (permanent, no TTL), last.

Every condition returns the item it failed on (``ReturnValuesOnConditionCheckFailure=ALL_OLD``),
so a stale account state is refreshed and a replay answered without another read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from account_credit.kernel import ledger
from account_credit.kernel.domain import Account, Movement
from account_credit.kernel.ids import iso, utc_now
from account_credit.platform.store import items, keys
from account_credit.platform.store.base import (
    CommitResult,
    IdempotencyClaim,
    Posting,
    RecordUpdate,
    States,
    UnitOfWork,
    stored_response,
)
from account_credit.platform.store.codec import (
    RETRYABLE_REASONS,
    error_code,
    from_item,
    is_retryable,
    key,
    to_attr,
    to_item,
)

# --------------------------------------------------------------------------- building


def floor_need(before: Account, movements: list[Movement]) -> int | None:
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


def account_update(table: str, before: Account, version: int, after: Account, need: int | None) -> dict[str, Any]:
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
            "TableName": table,
            "Key": key(*keys.account(before.account_id)),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def put(table: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": table,
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def record_update(table: str, upd: RecordUpdate) -> dict[str, Any]:
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
            "TableName": table,
            "Key": key(upd.pk, upd.sk),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": " AND ".join(conds),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def build(
    table: str,
    uow: UnitOfWork,
    posting: Posting,
    states: States,
    claim: IdempotencyClaim | None,
    body: dict[str, Any],
) -> list[dict[str, Any]]:
    """Everything ``uow`` collected, planned as ``posting`` on ``states``, in the layout above."""
    transact: list[dict[str, Any]] = []
    for a, after in posting.accounts.items():
        before, version = states[a]  # type: ignore[misc]
        need = floor_need(before, [m for m in uow.movements if m.account_id == a])
        transact.append(account_update(table, before, version, after, need))
    transact.extend(put(table, i) for i in uow.entry_items(posting))
    transact.extend(put(table, r.item()) for r in uow.all_records())
    transact.extend(record_update(table, u) for u in uow.all_updates())
    if claim is not None:
        transact.append(put(table, uow.idempotency_item(claim, body)))
    return transact


# --------------------------------------------------------------------------- a failed transaction


@dataclass(frozen=True)
class Refreshed:
    """Accounts whose version condition failed: the current item (ALL_OLD), or None where it must be read."""

    accounts: dict[str, dict[str, Any] | None]


def classify(
    exc: Exception,
    transact: list[dict[str, Any]],
    uow: UnitOfWork,
    claim: IdempotencyClaim | None,
    account_ids: list[str],
    read_item: Callable[[str, str], dict[str, Any] | None],
) -> CommitResult | Refreshed | Literal["retry"]:
    """What a failed TransactWriteItems means: the replayed answer, fresh account states, or try again.

    A record that exists or an update whose item changed raises that record's own error; an
    error that is none of these is raised as it is. ``read_item`` reads the idempotency record
    when the cancellation did not carry it (an emulator without ALL_OLD).
    """
    code = error_code(exc)
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons", [])  # type: ignore[attr-defined]
        # The idempotency record is last: a replay wins over everything else.
        if claim is not None and reasons and reasons[-1].get("Code") == "ConditionalCheckFailed":
            raw = reasons[-1].get("Item")
            old = from_item(raw) if raw is not None else read_item(claim.pk, claim.sk)
            if old is not None:
                return stored_response(old, claim)
        refreshed: dict[str, dict[str, Any] | None] = {}
        for i, a in enumerate(account_ids):
            r = reasons[i] if i < len(reasons) else {}
            if r.get("Code") == "ConditionalCheckFailed":
                refreshed[a] = from_item(r["Item"]) if "Item" in r else None
        if refreshed:
            # Plan again on the fresh state before judging records and updates, so the
            # floor is checked before them whether this container was warm or stale.
            return Refreshed(refreshed)
        records, updates = uow.all_records(), uow.all_updates()
        offset = len(transact) - len(records) - len(updates) - (1 if claim else 0)
        for j, rec in enumerate(records):
            r = reasons[offset + j] if offset + j < len(reasons) else {}
            if r.get("Code") == "ConditionalCheckFailed":
                raise rec.on_exists(from_item(r["Item"]) if "Item" in r else {})
        base = offset + len(records)
        for j, upd in enumerate(updates):
            r = reasons[base + j] if base + j < len(reasons) else {}
            if r.get("Code") == "ConditionalCheckFailed":
                raise upd.on_mismatch(from_item(r["Item"]) if "Item" in r else None)
        if any(r.get("Code") in RETRYABLE_REASONS for r in reasons):
            return "retry"
        if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
            # An entry key collided (same timestamp and seq): plan again.
            return "retry"
        raise exc
    # Throttling or a timeout: a timeout may hide a committed write; the retry meets our own
    # idempotency record and answers with it.
    if is_retryable(exc):
        return "retry"
    raise exc
