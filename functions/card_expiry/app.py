"""Card-expiry scan (a daily EventBridge schedule): each card about to expire that a subscription or the
account's default or alternate relies on is announced once (``card.expiring``; the notify function emails it).

``"today": "YYYY-MM-DD"`` runs as of that day (a local demo; the schedule never sets it). Safe to rerun.
"""

from datetime import UTC, date, datetime

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_credit.payment_methods import expiry
from account_credit.platform.observability import capture_lambda_handler, logger, metrics
from account_credit.platform.store.process import store


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    today = date.fromisoformat(str(event["today"])) if event.get("today") else datetime.now(UTC).date()
    result = expiry.scan(store(), today).as_dict()
    metrics.add_metric(name="CardExpiryNotices", unit=MetricUnit.Count, value=result["announced"])
    logger.info("card expiry scan done", extra={"result": result})
    return result
