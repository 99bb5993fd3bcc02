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


_checkpoints: dict[str, dict[str, str]] = {}  # stream arn -> shard id -> last sequence number handled
_sequence_lock = threading.Lock()


def sequence(store: DynamoStore) -> int:
    """Run the ledger sequencer over everything new on the table's stream, as its function does on AWS: the
    real stream of DynamoDB Local, the real placement rule and store write. Returns how many entries it placed."""
    import boto3

    from account_credit.platform.store.sequencing import from_stream_record

    client = store.client
    streams = boto3.client(
        "dynamodbstreams", endpoint_url=client.meta.endpoint_url, region_name=client.meta.region_name
    )
    placed = 0
    with _sequence_lock:
        arn = client.describe_table(TableName=store.table)["Table"]["LatestStreamArn"]
        done = _checkpoints.setdefault(arn, {})
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            sid = shard["ShardId"]
            kwargs: dict[str, Any] = {"StreamArn": arn, "ShardId": sid, "ShardIteratorType": "TRIM_HORIZON"}
            if sid in done:
                kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=done[sid])
            iterator = streams.get_shard_iterator(**kwargs)["ShardIterator"]
            while iterator:
                got = streams.get_records(ShardIterator=iterator, Limit=1000)
                if not got.get("Records"):
                    break
                for record in got["Records"]:
                    if record["eventName"] == "MODIFY":
                        pk, placements = from_stream_record(record)
                        if pk is not None:
                            store.place_entries(pk, placements)
                            placed += len(placements)
                    done[sid] = record["dynamodb"]["SequenceNumber"]
                iterator = got.get("NextShardIterator")
    return placed
