"""Feed DynamoDB Local's table stream to the stream-triggered functions of template.yaml, like Lambda's
event source mapping: batches, FilterCriteria, partial batch failures (retried), and a checkpoint per
shard (the local server keeps it in its state dir, LOCAL_STATE_DIR) so a restarted server resumes where
it stopped and loses nothing. ``invoke(fn, event)`` runs the function: the local server passes one that
goes through the function's instances; an exception leaves the batch undelivered (it is retried).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from tools import template


def matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style content filter: dicts recurse, a list is any-of exact values."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches(p, value[k]) for k, p in pattern.items())
    if isinstance(pattern, list):
        return value in pattern
    return bool(pattern == value)


def stream_functions() -> list[dict[str, Any]]:
    out = []
    for name, props in template.functions().items():
        for event in (props.get("Events") or {}).values():
            if event.get("Type") == "DynamoDB":
                ep = event["Properties"]
                filters = [json.loads(f["Pattern"]) for f in (ep.get("FilterCriteria") or {}).get("Filters", [])]
                out.append(
                    {
                        "function": name,
                        "code_uri": props["CodeUri"],
                        "handler": props["Handler"],
                        "batch_size": int(ep.get("BatchSize", 100)),
                        "filters": filters,
                    }
                )
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


class StreamPoller(threading.Thread):
    def __init__(
        self,
        endpoint: str,
        table: str,
        invoke: Callable[[dict[str, Any], dict[str, Any]], Any],
        checkpoint_file: Path,
        interval: float = 0.5,
    ) -> None:
        super().__init__(daemon=True, name="stream-poller")
        import boto3

        self.ddb = boto3.client("dynamodb", endpoint_url=endpoint)
        self.streams = boto3.client("dynamodbstreams", endpoint_url=endpoint)
        self.table = table
        self.invoke = invoke
        self.checkpoint_file = checkpoint_file
        self.interval = interval
        self.functions = stream_functions()
        self.stop = threading.Event()
        self._state = self._load()

    def _load(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.checkpoint_file.read_text()))
        except (OSError, ValueError):
            return {}

    def _save(self) -> None:
        self.checkpoint_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._state))
        tmp.replace(self.checkpoint_file)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001 - keep polling; report
                print(f"stream poller: {exc!r}", file=sys.stderr, flush=True)
                time.sleep(2)
            self.stop.wait(self.interval)

    def poll_once(self) -> int:
        """Deliver everything new on the stream; returns how many records were delivered."""
        arn = self.ddb.describe_table(TableName=self.table)["Table"].get("LatestStreamArn")
        if not arn:
            return 0
        if self._state.get("stream") != arn:
            self._state = {"stream": arn, "shards": {}}
        delivered = 0
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        for shard in shards:
            sid = shard["ShardId"]
            last = self._state["shards"].get(sid)
            kwargs: dict[str, Any] = {"StreamArn": arn, "ShardId": sid}
            if last:
                kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=last)
            else:
                kwargs["ShardIteratorType"] = "TRIM_HORIZON"
            iterator = self.streams.get_shard_iterator(**kwargs)["ShardIterator"]
            while iterator:
                got = self.streams.get_records(ShardIterator=iterator, Limit=100)
                records = got.get("Records", [])
                if not records:
                    break
                for i in range(0, len(records), 25):
                    if self.stop.is_set():  # stopping: the checkpoint is at the last delivered batch
                        return delivered
                    batch = [self._lambda_record(r, arn) for r in records[i : i + 25]]
                    self._deliver(batch)
                    self._state["shards"][sid] = batch[-1]["dynamodb"]["SequenceNumber"]
                    self._save()
                    delivered += len(batch)
                iterator = got.get("NextShardIterator")
        return delivered

    def _lambda_record(self, r: dict[str, Any], arn: str) -> dict[str, Any]:
        return {
            "eventID": r["eventID"],
            "eventName": r["eventName"],
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": _jsonable(r["dynamodb"]),
            "eventSourceARN": arn,
        }

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        for fn in self.functions:
            wanted = [r for r in batch if not fn["filters"] or any(matches(p, r) for p in fn["filters"])]
            for attempt in range(5):
                if not wanted:
                    break
                result = self.invoke(fn, {"Records": wanted}) or {}
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
                if not failed:
                    break
                # Like Lambda: retry from the first failed record on.
                first = next(i for i, r in enumerate(wanted) if r["dynamodb"]["SequenceNumber"] in failed)
                wanted = wanted[first:]
                time.sleep(0.2 * (attempt + 1))
            else:
                print(f"stream poller: {fn['function']} kept failing on {len(wanted)} records", file=sys.stderr)
