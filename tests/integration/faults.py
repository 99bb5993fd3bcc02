"""A fault-injecting wrapper around a real boto3 DynamoDB client, using botocore's event hooks.

Before a write it may raise a transaction conflict, ProvisionedThroughputExceeded or a
throttle (nothing written); after a write it may raise a read timeout although the write
committed. Seeded, so a failing run can be replayed.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError, ReadTimeoutError

WRITES = ("TransactWriteItems", "PutItem", "UpdateItem")


class FaultInjector:
    def __init__(self, client: Any, seed: int, rate: float = 0.15) -> None:
        self.rng = random.Random(seed)
        self.rate = rate
        self.lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.enabled = True
        for op in WRITES:
            client.meta.events.register(f"before-call.dynamodb.{op}", self._before)
            client.meta.events.register(f"after-call.dynamodb.{op}", self._after)

    def _roll(self) -> float:
        with self.lock:
            return self.rng.random()

    def _before(self, model: Any, **_: Any) -> None:
        if not self.enabled:
            return
        r = self._roll()
        if r < self.rate * 0.4:
            self.injected["TransactionConflict"] += 1
            if model.name == "TransactWriteItems":
                raise ClientError(
                    {
                        "Error": {"Code": "TransactionCanceledException", "Message": "injected"},
                        "CancellationReasons": [{"Code": "TransactionConflict", "Message": "injected"}],
                    },
                    model.name,
                )
            raise ClientError({"Error": {"Code": "TransactionConflictException", "Message": "injected"}}, model.name)
        if r < self.rate * 0.6:
            self.injected["ProvisionedThroughputExceeded"] += 1
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, model.name)
        if r < self.rate * 0.8:
            self.injected["Throttling"] += 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"}}, model.name)

    def _after(self, model: Any, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if not self.enabled or http_response.status_code != 200:
            return
        if self._roll() < self.rate * 0.2:
            self.injected["TimeoutAfterCommit"] += 1
            raise ReadTimeoutError(endpoint_url="injected-after-commit")
