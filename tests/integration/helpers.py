"""Helpers for integration tests."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from account_credit.platform.store.cache import AccountCache
from account_credit.platform.store.dynamo import DynamoStore


class CallCounter:
    """Counts DynamoDB API calls made by a client, with botocore's own event hooks."""

    def __init__(self, dynamo_client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        dynamo_client.meta.events.register("before-call.dynamodb.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def containers(table_name: str, dynamo_client: Any, n: int) -> list[DynamoStore]:
    """n stores with separate caches: n Lambda containers racing on the same table."""
    return [DynamoStore(table_name, dynamo_client=dynamo_client, cache=AccountCache()) for _ in range(n)]
