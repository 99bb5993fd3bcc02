"""Auto top-up function: the table's stream (account items only) -> a charge of the default card once per fall
of the balance below the account's auto top-up level, credited as a card top-up; partial batch failures."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_credit.auto_top_up import service as auto_top_up
from account_credit.platform.observability import capture_lambda_handler, logger, metrics
from account_credit.platform.store.process import store

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
METRICS = {"succeeded": "AutoTopUpsCharged", "declined": "AutoTopUpsDeclined", "no_card": "AutoTopUpsWithoutCard"}


def record_handler(record: DynamoDBRecord) -> None:
    outcome = auto_top_up.on_stream_record(store(), record.raw_event)
    if outcome != "no_crossing":
        logger.info("auto top-up", extra={"outcome": outcome, "event_id": record.event_id})
    if outcome in METRICS:
        metrics.add_metric(name=METRICS[outcome], unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
