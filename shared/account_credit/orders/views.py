"""Orders, read side: an account's orders, newest first, with filters and cursor paging.

Every order item carries ``gsi1pk = ACCOUNT#<account_id>#ORDERS`` and ``gsi1sk = keys.orders_index_sk(created_at,
order_id)`` (the digits of ``created_at`` inverted, so the ascending index reads newest first). ``from`` is the
index's upper bound (``gsi1sk <= ...``: orders made at or after it), ``to`` the start of the first page (an
exclusive start key just before the orders made at it). ``state`` and ``channel`` are filters over what the index
returns: one request reads at most ``MAX_READS`` index pages, so a rare filter may answer fewer than ``limit``
orders with a ``next_cursor`` (like a DynamoDB filter expression): follow it until it is null.

Orders paid before the index existed carry no gsi1 keys and are not listed until ``backfill_index`` gave them theirs
(idempotent; run it once per account after the deployment, see docs/DATA_MODEL.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from account_credit.kernel.errors import InvalidInput, NotFound
from account_credit.orders.records import view_of
from account_credit.platform.store import Store, keys
from account_credit.platform.store.base import RecordUpdate
from account_credit.platform.store.codec import decode_cursor, encode_cursor

MAX_READS = 5  # index pages one request reads at most (a filter that matches rarely returns a cursor early)
_CURSOR_KEYS = {"gsi1pk", "gsi1sk", "pk", "sk"}


@dataclass(frozen=True)
class OrderPage:
    items: list[dict[str, Any]]  # OrderView dicts
    next_cursor: str | None


def _position(item: dict[str, Any]) -> str:
    return encode_cursor({k: item[k] for k in sorted(_CURSOR_KEYS)})


def _start(account_id: str, cursor: str | None, until: str | None) -> str | None:
    """The exclusive start of the first index page: the caller's cursor (checked: ours, for this account's
    orders), else just before the orders made at ``until``, else the newest."""
    index = keys.orders_index(account_id)
    if cursor is not None:
        raw = decode_cursor(cursor, keys.account_pk(account_id))
        if set(raw) != _CURSOR_KEYS or raw["gsi1pk"] != index or not raw["sk"].startswith(keys.ORDER_PREFIX):
            raise InvalidInput("cursor is not valid for this account's orders", field="cursor")
        return cursor
    if until is not None:
        pk = keys.account_pk(account_id)
        return encode_cursor(
            {"gsi1pk": index, "gsi1sk": keys.orders_index_sk(until), "pk": pk, "sk": keys.ORDER_PREFIX}
        )
    return None


def list_orders(
    store: Store,
    account_id: str,
    *,
    since: str | None,
    until: str | None,
    state: str | None,
    channel: str | None,
    cursor: str | None,
    limit: int,
) -> OrderPage:
    """The account's orders made from ``since`` to ``until`` (inclusive ISO 8601 instants, like ``created_at``),
    newest first; ``state`` / ``channel``: only those. NotFound for a missing account."""
    if store.known_account(account_id) is None:
        raise NotFound(f"account {account_id} not found")
    index = keys.orders_index(account_id)
    stop = keys.orders_index_sk(since, "\uffff") if since is not None else None
    start = _start(account_id, cursor, until)
    if stop is not None and start is not None and decode_cursor(start, None)["gsi1sk"] > stop:
        # Nothing lies between the start (``to`` or the cursor) and ``from``; DynamoDB refuses such a start key.
        return OrderPage([], None)
    found: list[dict[str, Any]] = []
    for _ in range(MAX_READS):
        page, following = store.index_page(index, until=stop, cursor=start, limit=limit)
        for n, item in enumerate(page):
            if (
                (state is None or item.get("state") == state)
                and (channel is None or item.get("channel") == channel)
                and (until is None or item["created_at"] <= until)
            ):
                found.append(view_of(item))
                if len(found) == limit:
                    more = n < len(page) - 1 or following is not None
                    return OrderPage(found, _position(item) if more else None)
        if following is None:
            return OrderPage(found, None)
        start = following
    return OrderPage(found, start)


def backfill_index(store: Store, account_id: str, *, batch: int = 100) -> int:
    """Give the account's orders paid before the orders index existed their gsi1 keys (idempotent: an order that
    has them is left alone). Returns how many were indexed now."""
    pk, prefix = keys.order(account_id, "")
    done, after = 0, None
    while True:
        rows = store.query_prefix(pk, prefix, limit=batch, after=after)
        for row in rows:
            if "gsi1pk" in row or "created_at" not in row:
                continue
            store.update_record(
                RecordUpdate(
                    row["pk"],
                    row["sk"],
                    changes=keys.order_index_keys(account_id, row["created_at"], row["order_id"]),
                    expect={"created_at": row["created_at"]},
                )
            )
            done += 1
        if len(rows) < batch:
            return done
        after = rows[-1]["sk"]
