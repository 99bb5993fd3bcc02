"""The process-wide store: one per Lambda container, for every kind of function (HTTP, stream, schedule).

Kept apart from the HTTP edge so a stream or schedule function gets its store without importing the resolver,
pydantic and the route models it never uses (its cold start pays only for what it runs).
"""

from __future__ import annotations

import os
from functools import lru_cache

from account_credit.platform.store.base import Store


@lru_cache(maxsize=1)
def store() -> Store:
    """DynamoDB, or the in-memory fake when STORE=memory (local only)."""
    if os.environ.get("STORE") == "memory":
        from account_credit.platform.store.memory import MemoryStore

        return MemoryStore()
    from account_credit.platform.store.dynamo import DynamoStore

    return DynamoStore()
