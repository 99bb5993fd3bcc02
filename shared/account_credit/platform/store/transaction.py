"""The one ``TransactWriteItems`` of a unit of work, and what its failure means.

Layout of the transaction (the cancellation reasons come back in the same order):

1. one ``Update`` per account: ``ADD balance :delta, seq :n, version :one`` (and ``held :change`` when a hold is
   placed, used up or released) and ``SET last_commit = :entries``
   (the ledger sequencer reads it from the stream), with the sparse low-balance keys set or removed; conditioned
   on what the plan relies on (``reliance.py``): the balance range that keeps every floor and the planned answer,
   the credit limit when a floor uses it, the low-balance threshold. Never on a version: movements commute;
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

from account_credit.kernel.ids import iso, utc_now
from account_credit.platform.store import keys
from account_credit.platform.store.base import (
    CommitResult,
    IdempotencyClaim,
    Posting,
    RecordUpdate,
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
from account_credit.platform.store.reliance import Reliance

# --------------------------------------------------------------------------- building


def account_update(
    table: str,
    account_id: str,
    delta: int,
    count: int,
    last_commit: list[dict[str, Any]],
    rely: Reliance,
    held_delta: int = 0,
) -> dict[str, Any]:
    names = {"#b": "balance", "#s": "seq", "#v": "version", "#u": "updated_at", "#lc": "last_commit"}
    values: dict[str, Any] = {
        ":d": to_attr(delta),
        ":n": to_attr(count),
        ":one": to_attr(1),
        ":now": to_attr(iso(utc_now())),
        ":lc": to_attr(last_commit),
    }
    sets = ["#u = :now", "#lc = :lc"]
    remove = ""
    if rely.below:
        sets += ["gsi1pk = :lowpk", "gsi1sk = :lowsk"]
        values[":lowpk"] = to_attr(keys.LOW_BALANCE_PK)
        values[":lowsk"] = to_attr(account_id)
    else:
        remove = " REMOVE gsi1pk, gsi1sk"
    adds = "#b :d, #s :n, #v :one"
    if held_delta:
        names["#h"] = "held"
        values[":hd"] = to_attr(held_delta)
        adds += ", #h :hd"
    conditions = ["attribute_exists(pk)"]
    if rely.held is not None:
        names["#h"] = "held"
        values[":h"] = to_attr(rely.held)
        # An account written before holds existed has no ``held``: that is nothing held.
        conditions.append("(#h = :h" + (" OR attribute_not_exists(#h))" if rely.held == 0 else ")"))
    if rely.low is not None:
        values[":lo"] = to_attr(rely.low)
        conditions.append("#b >= :lo")
    if rely.high is not None:
        values[":hi"] = to_attr(rely.high)
        conditions.append("#b <= :hi")
    if rely.credit_limit is not None:
        names["#cl"] = "credit_limit"
        values[":cl"] = to_attr(rely.credit_limit)
        conditions.append("#cl = :cl")
    names["#st"], names["#th"] = "settings", "low_balance_threshold"
    if rely.threshold is None:
        conditions.append("attribute_not_exists(#st.#th)")
    else:
        values[":th"] = to_attr(rely.threshold)
        conditions.append("#st.#th = :th")
    for i, (name, value) in enumerate(rely.settings):
        names[f"#sv{i}"] = name
        values[f":sv{i}"] = to_attr(value)
        conditions.append(f"#st.#sv{i} = :sv{i}")
    return {
        "Update": {
            "TableName": table,
            "Key": key(*keys.account(account_id)),
            "UpdateExpression": "SET " + ", ".join(sets) + " ADD " + adds + remove,
            "ConditionExpression": " AND ".join(conditions),
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
    removes = []
    for i, k in enumerate(upd.remove):
        names[f"#r{i}"] = k
        removes.append(f"#r{i}")
    conds = ["attribute_exists(pk)"]
    for i, (k, v) in enumerate(upd.expect.items()):
        names[f"#e{i}"] = k
        values[f":e{i}"] = to_attr(v)
        conds.append(f"#e{i} = :e{i}")
    return {
        "Update": {
            "TableName": table,
            "Key": key(upd.pk, upd.sk),
            "UpdateExpression": "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""),
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
    claim: IdempotencyClaim | None,
    body: dict[str, Any],
) -> list[dict[str, Any]]:
    """Everything ``uow`` collected, planned as ``posting``, in the layout above."""
    transact: list[dict[str, Any]] = []
    for a, rely in uow.reliances(posting).items():
        before, after = posting.accounts_before[a], posting.accounts[a]
        last = uow.last_commit(posting, a)
        transact.append(
            account_update(
                table, a, after.balance - before.balance, len(last), last, rely, held_delta=after.held - before.held
            )
        )
    transact.extend(put(table, i) for i in uow.entry_items(posting))
    transact.extend(put(table, r.item()) for r in uow.all_records())
    transact.extend(record_update(table, u) for u in uow.all_updates())
    if claim is not None:
        transact.append(put(table, uow.idempotency_item(claim, body)))
    return transact


# --------------------------------------------------------------------------- a failed transaction


def is_conflict(exc: Exception) -> bool:
    """Another transaction was working on one of the items (real DynamoDB cancels overlapping transactions)."""
    if error_code(exc) == "TransactionConflictException":
        return True
    reasons = getattr(exc, "response", {}).get("CancellationReasons", []) if error_code(exc) else []
    return any(r.get("Code") == "TransactionConflict" for r in reasons)


@dataclass(frozen=True)
class Refreshed:
    """Accounts whose condition failed: the current item (ALL_OLD), or None where it must be read."""

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
            # An entry key collided (it would take the same time and id twice): plan again.
            return "retry"
        raise exc
    # Throttling or a timeout: a timeout may hide a committed write; the retry meets our own
    # idempotency record and answers with it.
    if is_retryable(exc):
        return "retry"
    raise exc
