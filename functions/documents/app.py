"""Documents function: the table's stream -> billing documents.

A ledger entry placed by the sequencer: issue the document it calls for (a deposit's tax document, a card order's
invoice, a credit note). A ``document.issued`` event: render the UBL e-invoice and the PDF, archive both once, and
announce ``document.stored`` (the notify function emails the PDF). The PDF and XML libraries come from the
documents layer and load only here. Idempotent throughout, with partial batch failures.
"""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_credit.billing.files import Renderers
from account_credit.billing.stream import on_stream_record
from account_credit.platform.archive import archive
from account_credit.platform.observability import capture_lambda_handler, logger, metrics
from account_credit.platform.peppol import delivery
from account_credit.platform.store.process import store
from account_credit.rendering.pdf import to_pdf
from account_credit.rendering.ubl import to_ubl

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
renderers = Renderers(ubl=to_ubl, pdf=to_pdf)
peppol = delivery()  # the folder adapter locally; none on AWS until an access point is configured


def record_handler(record: DynamoDBRecord) -> None:
    numbers = on_stream_record(store(), archive(), renderers, record.raw_event, peppol)
    if numbers:
        logger.info("documents", extra={"numbers": numbers})
        metrics.add_metric(name="DocumentsHandled", unit=MetricUnit.Count, value=len(numbers))


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
