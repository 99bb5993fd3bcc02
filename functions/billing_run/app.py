"""Billing run (EventBridge schedules): the monthly documents on the 1st, the overdue scan every day.

Input ``{"run": "monthly"}``: first the subscription inventory charged "on the next invoice" is paid (each pending
charge once, ``subscriptions.service.settle_pending``), then every account's statements, credit invoice and credit
notes for the month just over (``"month": "YYYY-MM"`` and ``"account_id"`` narrow it: an operator's run on demand).
``{"run": "overdue"}``: credit invoices and purchase-order invoices past due, announced once each (per reminder
stage), and the previous month completed for any account it missed (not ready on the 1st, or a run that stopped
halfway). Everything is issued once per purpose, so any rerun is safe.
``"today": "YYYY-MM-DD"`` runs as of that day (a local demo closing the current month; the schedules never set it).
"""

from datetime import UTC, date, datetime

from aws_lambda_powertools.utilities.typing import LambdaContext

from account_credit.billing import service as billing
from account_credit.platform.observability import capture_lambda_handler, logger, metrics
from account_credit.platform.store.process import store
from account_credit.purchase_orders import service as purchase_orders
from account_credit.subscriptions import service as subscriptions


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    today = date.fromisoformat(str(event["today"])) if event.get("today") else datetime.now(UTC).date()
    run = event.get("run", "monthly")
    month = billing.parse_month(event["month"]) if event.get("month") else billing.previous_month(today)
    if run == "overdue":
        result = {
            **billing.overdue_scan(store(), today),
            "purchase_orders": purchase_orders.remind(store(), today),
            "catch_up": billing.run_all(store(), month, today),
        }
    elif event.get("account_id"):
        account_id = str(event["account_id"])
        settled = subscriptions.settle_pending(store(), account_id, today)
        result = {**billing.run_month(store(), account_id, month, today).as_dict(), "inventory_charged": settled}
    else:
        settled = [o for a in billing.registered(store()) for o in subscriptions.settle_pending(store(), a, today)]
        result = {**billing.run_all(store(), month, today), "inventory_charged": settled}
    logger.info("billing run done", extra={"run": run, "result": result})
    return result
