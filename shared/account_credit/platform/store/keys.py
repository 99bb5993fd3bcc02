"""Single-table key design (docs/DATA_MODEL.md has the access-pattern table)."""

from __future__ import annotations

Key = tuple[str, str]  # (pk, sk) of one item, or (pk, sk_prefix) of a collection

# --------------------------------------------------------------------------- accounts and the ledger

ACCOUNT_SK = "ACCOUNT"
ENTRY_PREFIX = "ENTRY#"
IDEMPOTENCY_PREFIX = "IDEM#"


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def account(account_id: str) -> Key:
    """The account item (the balance)."""
    return account_pk(account_id), ACCOUNT_SK


def entry_sk(created_at: str, seq: int) -> str:
    return f"{ENTRY_PREFIX}{created_at}#{seq:012d}"


def entries_between(low: str, high: str) -> tuple[str, str]:
    """Sort-key bounds of the ledger entries created from ``low`` to ``high`` (ISO 8601 prefixes)."""
    return ENTRY_PREFIX + low, ENTRY_PREFIX + high


def entry_type_pk(account_id: str, entry_type: str) -> str:
    return f"ACCOUNT#{account_id}#TYPE#{entry_type}"


def entry_type_sk(created_at: str, seq: int) -> str:
    return f"{created_at}#{seq:012d}"


def idempotency_sk(scope: str, key: str) -> str:
    return f"{IDEMPOTENCY_PREFIX}{scope}#{key}"


def is_money_sk(sk: str) -> bool:
    """The account item, a ledger entry or an idempotency record: never deleted."""
    return sk.startswith((ACCOUNT_SK, ENTRY_PREFIX, IDEMPOTENCY_PREFIX))


# Sparse index of accounts below their low-balance threshold: only such account items
# carry gsi1pk/gsi1sk, so the scheduled scan reads exactly the low accounts.
LOW_BALANCE_PK = "LOWBAL"
