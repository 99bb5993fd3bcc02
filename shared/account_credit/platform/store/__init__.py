"""Data access. Only ``dynamo.py``, ``transaction.py`` and ``codec.py`` touch boto3; ``memory.py`` is the
in-memory fake; ``keys.py`` has every key shape of the table."""

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
from account_credit.platform.store.codec import stream_images

__all__ = [
    "CommitResult",
    "IdempotencyClaim",
    "Page",
    "Posting",
    "Record",
    "RecordUpdate",
    "Store",
    "UnitOfWork",
    "stream_images",
]
