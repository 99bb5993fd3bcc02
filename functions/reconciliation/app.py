"""Reconciliation (a daily EventBridge schedule, 02:00 UTC): every account whose money changed the day before is
checked (balance = its entries, holds, documents, attribution, no gap in the document series it uses). Findings
go to the report (``RECON#<day>``) and the ``ReconciliationMismatches`` metric, whose alarm tells the operators;
nothing here ever changes money.

``{"day": "YYYY-MM-DD"}`` reconciles that day instead of yesterday, ``{"account_id": "..."}`` just that account
(on demand: ``python -m tools.schedule Reconciliation --input '{...}'``). Safe to rerun: each run is its own report.
"""

from datetime import UTC, datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_credit.platform.observability import capture_lambda_handler, logger, metrics
from account_credit.platform.store.process import store
from account_credit.reconciliation import service


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    day = str(event.get("day") or (datetime.now(UTC).date() - timedelta(days=1)).isoformat())
    account_id = event.get("account_id")
    result = service.run(store(), day, str(account_id) if account_id else None)
    metrics.add_metric(name="ReconciliationMismatches", unit=MetricUnit.Count, value=result.mismatches)
    metrics.add_metric(name="ReconciliationAccounts", unit=MetricUnit.Count, value=result.accounts)
    out = result.as_dict()
    if result.mismatches:
        logger.error("reconciliation found mismatches", extra={"result": out})
    else:
        logger.info("reconciliation done", extra={"result": result.summary()})
    return out
