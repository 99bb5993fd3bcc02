"""Single-table key design (docs/DATA_MODEL.md has the access-pattern table)."""

from __future__ import annotations

ACCOUNT_SK = "ACCOUNT"


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def entry_sk(created_at: str, seq: int) -> str:
    return f"ENTRY#{created_at}#{seq:012d}"


def entry_type_pk(account_id: str, entry_type: str) -> str:
    return f"ACCOUNT#{account_id}#TYPE#{entry_type}"


def entry_type_sk(created_at: str, seq: int) -> str:
    return f"{created_at}#{seq:012d}"


def idempotency_sk(scope: str, key: str) -> str:
    return f"IDEM#{scope}#{key}"


# Sparse index of accounts below their low-balance threshold: only such account items
# carry gsi1pk/gsi1sk, so the scheduled scan reads exactly the low accounts.
LOW_BALANCE_PK = "LOWBAL"


# --------------------------------------------------------------------------- orders

ORDER_PREFIX = "ORDER#"


def order(account_id: str, order_id: str) -> tuple[str, str]:
    """An order of an account: ``ACCOUNT#<account_id>`` / ``ORDER#<order_id>``."""
    return account_pk(account_id), ORDER_PREFIX + order_id
