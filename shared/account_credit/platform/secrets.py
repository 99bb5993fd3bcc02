"""Secrets (payment provider and bank webhook keys), from the one Secrets Manager secret of the stack."""

from __future__ import annotations

import os

SECRET_MAX_AGE_SECONDS = 300


def secret(key: str) -> str:
    """A payment secret by key (``stripe_webhook_secret``...); empty string when not configured.

    An environment variable named like the key in upper case wins (local stack, tests);
    otherwise the JSON secret named by ``PAYMENT_SECRETS_ARN`` (Powertools caches it).
    """
    direct = os.environ.get(key.upper())
    if direct:
        return direct
    arn = os.environ.get("PAYMENT_SECRETS_ARN", "")
    if not arn:
        return ""
    from aws_lambda_powertools.utilities import parameters

    values = parameters.get_secret(arn, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
    value = values.get(key, "") if isinstance(values, dict) else ""
    return str(value or "")
