"""Statements function: the accounting summary and the export routes (API), and the export jobs (the table stream:
a new export item runs its job, pages through the entries and archives the file). One function for both: the same
table and archive prefix, and an export never needs the API's time limit."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_credit.bootstrap import make_app
from account_credit.platform.archive import archive
from account_credit.platform.observability import capture_lambda_handler, logger, metrics
from account_credit.platform.store.process import store
from account_credit.statements.router import router
from account_credit.statements.service import on_stream_record

app = make_app(router)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    result = on_stream_record(store(), archive(), record.raw_event)
    if result is not None:
        logger.info("export", extra={"export_id": result["export_id"], "entries": result["done"]})
        metrics.add_metric(name="ExportEntries", unit=MetricUnit.Count, value=result["done"])


def _stream(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if "Records" in event:  # the table stream: export jobs
        return _stream(event, context)
    return app.resolve(event, context)
