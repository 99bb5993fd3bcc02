"""Subscriptions function: create (first term charged, prorated when backdated), read, change, add inventory,
suspend, reactivate; decorators plus app.resolve, the routes live in the layer."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_credit.bootstrap import make_app
from account_credit.platform.observability import capture_lambda_handler, logger, metrics
from account_credit.subscriptions.router import router

app = make_app(router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
