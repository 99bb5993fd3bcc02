"""Notify function: the table's DynamoDB stream -> emails (SES), with partial batch failures."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_credit.notifications import service as notifications
from account_credit.notifications.mailer import from_env
from account_credit.platform.archive import archive
from account_credit.platform.observability import capture_lambda_handler, logger, metrics
from account_credit.platform.store.process import store

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
mailer = from_env()


def record_handler(record: DynamoDBRecord) -> None:
    outcome = notifications.on_stream_record(store(), mailer, record.raw_event, files=archive().get)
    for notification_id in outcome.sent:
        logger.info("notification sent", extra={"notification_id": notification_id})
        metrics.add_metric(name="NotificationsSent", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
