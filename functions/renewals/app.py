"""Renewal run (EventBridge schedule, daily): holds for renewals in their window, renewals due (the assigned
method, then the alternate), retries within the grace period, suspensions after it, and the forecast alerts.

Every step is once per subscription and term (renewals/service.py), so a rerun, an overlapping run or a run after a
crash halfway is safe. ``"today": "YYYY-MM-DD"`` runs as of that day and ``"account_id"`` narrows the run to one
account (a local demo: ``python -m tools.schedule RenewalRun --input '{"today": "2027-01-10"}'``); the schedule sets
neither. A run that could not finish a subscription (a provider outage) fails after the others are done, so the
function's retries and then the alarmed failure queue see it; tomorrow's run catches up anyway.
"""

from datetime import UTC, date, datetime

from aws_lambda_powertools.utilities.typing import LambdaContext

from account_credit.platform.observability import capture_lambda_handler, logger, metrics
from account_credit.platform.store.process import store
from account_credit.renewals import service as renewals


class RenewalRunIncomplete(RuntimeError):
    """Some subscriptions could not be handled today (logged); the rest were."""


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    today = date.fromisoformat(str(event["today"])) if event.get("today") else datetime.now(UTC).date()
    account_id = str(event["account_id"]) if event.get("account_id") else None
    report = renewals.run_day(store(), today, account_id=account_id).as_dict()
    logger.info("renewal run done", extra={"result": report})
    if report["errors"]:
        raise RenewalRunIncomplete(f"{len(report['errors'])} subscriptions not done: {report['errors'][:5]}")
    return report
