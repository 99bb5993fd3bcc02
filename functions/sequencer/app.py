"""Sequencer function: the table's stream -> each ledger entry's ``seq`` and ``balance_after``.

Every change of an account item that posted entries carries them in ``last_commit``; the images before and after
place them exactly (``account_credit.platform.store.sequencing``). Idempotent, so redelivery is harmless; a ledger
mismatch fails the record, which ends in the on-failure queue and its alarm.

It also marks the account touched on the day of the change (``keys.touched``, once per account and day): the sparse
index the nightly reconciliation reads (docs/RECONCILIATION.md).
"""

import time

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_credit.platform.observability import capture_lambda_handler, logger, metrics
from account_credit.platform.store import keys
from account_credit.platform.store.process import store
from account_credit.platform.store.sequencing import from_stream_record, touched

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
TOUCHED_DAYS = 35  # how long a touched marker lives (a missed night can be reconciled within it)
_marked: set[tuple[str, str]] = set()  # (account, day) this container marked already (the marker is idempotent)


def record_handler(record: DynamoDBRecord) -> None:
    pk, placed = from_stream_record(record.raw_event)
    if pk is not None:
        store().place_entries(pk, placed)
        metrics.add_metric(name="EntriesPlaced", unit=MetricUnit.Count, value=len(placed))
    mark = touched(record.raw_event)
    if mark is not None and mark not in _marked:
        account_id, day = mark
        store().put_if_absent(
            keys.touched(day, account_id),
            {
                "kind": "touched",
                "account_id": account_id,
                "day": day,
                "expires_at": int(time.time()) + TOUCHED_DAYS * 86_400,
            },
        )
        _marked.add(mark)


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
