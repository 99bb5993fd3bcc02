"""The ledger sequencer: where each entry falls in its account's order, and the exact balance right after it.

Money writes are commutative increments (``ADD balance :delta, seq :n``), so the writer does not know the state
its write will meet. DynamoDB does: every write of an account item appears on the table's stream, in the order
the item was written, with the item before (``OldImage``: the balance and entry count the write met) and after
(``NewImage``: ``last_commit``, the write's own entries in order). One stream record therefore places the entries
of one write exactly: ``seq = old.seq + i``, ``balance_after = old.balance + the amounts up to i``. Each record is
self-contained, so redelivery, retries and out-of-order processing all give the same placements; writing them is
idempotent (``Store.place_entries``).

The in-memory store places entries as it writes them (its stream is delivered at once); on DynamoDB the
``sequencer`` function does it from the stream (template.yaml), normally within a second of the commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from account_credit.platform.store.codec import from_item


class LedgerMismatch(Exception):
    """An account item's change does not add up to the entries it lists, or an entry was placed differently
    before: a broken invariant, never retried away (the record goes to the on-failure queue and its alarm)."""


@dataclass(frozen=True)
class Placement:
    sk: str  # the entry's sort key (its pk is the account's)
    seq: int
    balance_after: int


def placements(before: Mapping[str, Any], last_commit: Sequence[Mapping[str, Any]]) -> list[Placement]:
    """The entries of one write (``last_commit``, in order) placed after the account state it met."""
    balance, seq = int(before["balance"]), int(before["seq"])
    out = []
    for entry in last_commit:
        seq += 1
        balance += int(entry["amount"])
        out.append(Placement(sk=str(entry["sk"]), seq=seq, balance_after=balance))
    return out


def from_images(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[Placement]:
    """The placements one change of an account item carries (none for a change that posted no entry)."""
    if old is None or new is None or new.get("kind") != "account":
        return []
    count = int(new.get("seq", 0)) - int(old.get("seq", 0))
    if count <= 0:
        return []  # details, settings, credit limit: no entry
    last = list(new.get("last_commit") or [])
    placed = placements(old, last)
    if len(last) != count or placed[-1].balance_after != int(new["balance"]):
        raise LedgerMismatch(
            f"account {new.get('account_id')}: seq {old.get('seq')} -> {new.get('seq')} and balance "
            f"{old.get('balance')} -> {new.get('balance')} do not match the entries it lists ({last})"
        )
    return placed


_READ = ("pk", "kind", "account_id", "balance", "seq", "last_commit")


def _image(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The attributes the sequencer reads, decoded from DynamoDB JSON (and only those: nothing else matters here)."""
    if not raw:
        return None
    return from_item({k: raw[k] for k in _READ if k in raw})


def from_stream_record(record: Mapping[str, Any]) -> tuple[str | None, list[Placement]]:
    """(pk, placements) of one DynamoDB stream record in Lambda's format (images in DynamoDB JSON)."""
    ddb = record.get("dynamodb") or {}
    new = _image(ddb.get("NewImage"))
    if new is None or new.get("kind") != "account":
        return None, []
    placed = from_images(_image(ddb.get("OldImage")), new)
    return (str(new["pk"]) if placed else None), placed


_MONEY = ("balance", "held", "seq")


def touched(record: Mapping[str, Any]) -> tuple[str, str] | None:
    """(account id, day) of a stream record that changed an account's money state (balance, held, entries), for
    the reconciliation's sparse "touched" index; None for any other change. The day is when DynamoDB made the
    change (``ApproximateCreationDateTime``), so a backlog processed after midnight still names the right day."""
    ddb = record.get("dynamodb") or {}
    new, old = ddb.get("NewImage") or {}, ddb.get("OldImage") or {}
    if (new.get("kind") or {}).get("S") != "account" or "account_id" not in new:
        return None
    if all(new.get(k) == old.get(k) for k in _MONEY):
        return None
    at = ddb.get("ApproximateCreationDateTime")
    when = datetime.fromtimestamp(float(at), UTC) if isinstance(at, int | float) else datetime.now(UTC)
    return str(from_item({"a": new["account_id"]})["a"]), when.date().isoformat()
