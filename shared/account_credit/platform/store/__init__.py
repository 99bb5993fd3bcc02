"""Data access. Only ``dynamo.py`` touches boto3; ``memory.py`` is the in-memory fake."""

from account_credit.platform.store.base import (
    CommitResult,
    IdempotencyClaim,
    Page,
    Posting,
    Record,
    RecordUpdate,
    Store,
    UnitOfWork,
)

__all__ = [
    "CommitResult",
    "IdempotencyClaim",
    "Page",
    "Posting",
    "Record",
    "RecordUpdate",
    "Store",
    "UnitOfWork",
]
