"""6. Write capacity per operation by design, from the items the handler actually writes.

The transaction of each operation is captured from the store's client (warm, as it is sent), and each item
it writes is sized with DynamoDB's rules: attribute names and values in bytes (a number about one byte per
two significant digits plus one, a map or list 3 bytes plus one per element), rounded up to 1 KB per item.
A transactional write costs 2 WCU per KB; an item carrying the ``gsi1`` keys is also written to the index
(projection ALL, a standard write: 1 WCU per KB). An ``Update`` is sized by the item as it is afterwards
(read back). Real DynamoDB serves at most 1,000 WCU/s per item and per partition key (before it splits a
key's items by sort key for heat), so the account item and the account's partition key set a ceiling on
orders per second on one account.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from bench.measures import OPERATIONS, Report, Table, bare_client, capture_transaction, open_account

LIMIT = 1_000  # WCU per second, per item and per partition key


def attribute_size(value: dict[str, Any]) -> int:
    ((kind, v),) = value.items()
    if kind in {"S", "B"}:
        return len(v.encode() if isinstance(v, str) else v)
    if kind == "N":
        digits = Decimal(v).normalize().as_tuple().digits
        return math.ceil(len(digits) / 2) + 1
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(x) + 1 for k, x in v.items())
    if kind == "L":
        return 3 + sum(attribute_size(x) + 1 for x in v)
    if kind in {"SS", "NS", "BS"}:
        return sum(attribute_size({kind[0]: x}) for x in v)
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def kb(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def _label(key: dict[str, Any]) -> str:
    pk, sk = key["pk"]["S"], key["sk"]["S"]
    return sk.split("#", 1)[0].lower() if pk.startswith("ACCOUNT#") else pk.split("#", 1)[0].lower()


def written_items(transact: list[dict[str, Any]], client: Any, table: str) -> list[tuple[str, dict[str, Any], bool]]:
    """(label, the item as written, on the account's partition key) for every item of the transaction."""
    out = []
    for entry in transact:
        if "Put" in entry:
            item = entry["Put"]["Item"]
            key = {"pk": item["pk"], "sk": item["sk"]}
        elif "Update" in entry:
            key = entry["Update"]["Key"]
            item = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item", key)
        else:
            continue  # a ConditionCheck writes nothing
        out.append((_label(key), item, key["pk"]["S"].startswith("ACCOUNT#")))
    return out


def wcu_by_design() -> Report:
    from bench.measures import _table

    client = bare_client()
    table = _table()
    rows = []
    report = Report()
    for op in OPERATIONS:
        account = open_account(10**9)
        capture_transaction(op, account)  # warm
        transact = capture_transaction(op, account)
        written = written_items(transact, client, table)
        parts, base, on_key, gsi, item_wcu = [], 0, 0, 0, 0
        gsi_keys: dict[str, int] = {}
        for label, item, account_key in written:
            size = item_size(item)
            wcu = 2 * kb(size)
            base += wcu
            if account_key:
                on_key += wcu
            if label == "account":
                item_wcu = wcu
            index = ""
            if "gsi1pk" in item and "gsi1sk" in item:
                gsi += kb(size)
                gsi_keys[item["gsi1pk"]["S"]] = gsi_keys.get(item["gsi1pk"]["S"], 0) + kb(size)
                index = f" + {kb(size)} index"
            parts.append(f"{label} {size} B = {wcu}{index}")
        per_item = LIMIT / item_wcu if item_wcu else math.inf
        per_key = LIMIT / on_key if on_key else math.inf
        per_index_key = LIMIT / max(gsi_keys.values()) if gsi_keys else math.inf
        ceiling = min(per_item, per_key, per_index_key)
        rows.append(
            [
                op.name,
                "; ".join(parts),
                f"{base} + {gsi} = {base + gsi}",
                f"{per_item:.0f}",
                f"{per_key:.0f}",
                f"{per_index_key:.0f}" if gsi_keys else "-",
                f"**{ceiling:.0f}**",
            ]
        )
        report.rows.append(
            (
                f"6. WCU by design: {op.name} (one account, real DynamoDB)",
                f"{base + gsi} WCU ({base} table, {gsi} index); at most {ceiling:.0f}/s on one account",
                "reported (no target)",
                True,
            )
        )
    report.tables.append(
        Table(
            "6. Write capacity per operation by design, and the ceiling it sets on one account",
            [
                "operation",
                "items written (size, transactional WCU)",
                "WCU table + index",
                "/s, account item (1,000 WCU/s)",
                "/s, account partition key",
                "/s, busiest index key",
                "/s on one account",
            ],
            rows,
            "Sizes from the items of the captured transaction (an updated item as read back afterwards); the "
            "account item here is above its low-balance threshold, so the account update writes no index item. "
            "The partition-key ceiling holds until DynamoDB splits the key's items by sort key; the account "
            "item's cannot be split.",
        )
    )
    return report
