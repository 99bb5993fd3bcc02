"""GET /openapi.json: the API document, generated from the routers and pydantic models that validate requests."""

import json

from aws_lambda_powertools.utilities.typing import LambdaContext

from account_credit.openapi import document


def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "cache-control": "public, max-age=300"},
        "body": json.dumps(document()),
    }
