"""Helpers for integration tests."""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from pathlib import Path
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


_checkpoints = Path(tempfile.mkdtemp(prefix="sequencer-checkpoints-"))
_sequence_lock = threading.Lock()


def sequence(store: DynamoStore) -> int:
    """Run the ledger sequencer over everything new on the table's stream, as its function does on AWS: DynamoDB
    Local's real stream delivered as the local server delivers it (tools.streams: the template's FilterCriteria,
    a checkpoint per table), the real placement rule and store write. Returns how many entries it placed."""
    from account_credit.platform.store.sequencing import from_stream_record
    from tools.streams import StreamPoller

    placed = 0

    def invoke(fn: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
        nonlocal placed
        if fn["function"] == "SequencerFunction":
            for record in event["Records"]:
                pk, placements = from_stream_record(record)
                if pk is not None:
                    store.place_entries(pk, placements)
                    placed += len(placements)
        return {}

    with _sequence_lock:
        endpoint = store.client.meta.endpoint_url
        StreamPoller(endpoint, store.table, invoke, _checkpoints / f"{store.table}.json").poll_once()
    return placed
