"""Threshold scan (EventBridge schedule, hourly): alert low accounts that have no alert for their crossing."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_credit.notifications import service as notifications
from account_credit.notifications.mailer import from_env
from account_credit.platform.observability import capture_lambda_handler, logger, metrics
from account_credit.platform.store.process import store

mailer = from_env()


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    result = notifications.scan_low_balances(store(), mailer)
    metrics.add_metric(name="LowBalanceScanItemsRead", unit=MetricUnit.Count, value=result.items_read)
    metrics.add_metric(name="LowBalanceAlertsSent", unit=MetricUnit.Count, value=result.alerts_sent)
    logger.info("threshold scan done", extra=vars(result))
    return vars(result)
