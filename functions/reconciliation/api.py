"""Reconciliation reports API function: the operators' read of the nightly runs (GET /reconciliation/reports...);
decorators plus app.resolve, the routes live in the layer. Reads only. The nightly job is app.py of this folder."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_credit.bootstrap import make_app
from account_credit.platform.observability import capture_lambda_handler, logger, metrics
from account_credit.reconciliation.router import router

app = make_app(router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
