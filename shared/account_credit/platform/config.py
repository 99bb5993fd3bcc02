"""Settings from the environment, validated once per process.

A frozen dataclass rather than a pydantic model: every function reads these, and the stream and schedule
functions need pydantic for nothing else, so importing it only for six variables cost their cold start about a
fifth of ``import boto3`` + client (docs/PERFORMANCE.md, "Cold start and layer"). Unknown variables are ignored;
a malformed one fails the first use with the variable's name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache


class ConfigurationError(ValueError):
    """An environment variable the functions read is malformed (a deployment mistake, not a caller's)."""


@dataclass(frozen=True)
class Settings:
    table_name: str = "account-credit"  # TABLE_NAME
    dynamodb_endpoint: str | None = None  # DYNAMODB_ENDPOINT (local runs only)
    aws_region: str = "us-east-1"  # AWS_REGION
    # DEFAULT_CREDIT_LIMIT, whole major units in the account's own currency: 2000 -> 2,000.00 USD, 2,000 JPY.
    default_credit_limit: int = 2000
    environment: str = "dev"  # ENVIRONMENT
    # MAX_WRITE_ATTEMPTS: money movements retry conflicts/throttling this many times before answering 409/503.
    max_write_attempts: int = 12


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, default).strip()
    if not value:
        raise ConfigurationError(f"{name} must not be empty")
    return value


def _whole(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not text.lstrip("-").isdigit() or int(text) < minimum:
        raise ConfigurationError(f"{name} must be a whole number >= {minimum}, not {raw!r}")
    return int(text)


def from_environment(env: Mapping[str, str]) -> Settings:
    """The settings ``env`` describes (ConfigurationError naming the variable for a malformed one)."""
    return Settings(
        table_name=_text(env, "TABLE_NAME", Settings.table_name),
        dynamodb_endpoint=env.get("DYNAMODB_ENDPOINT") or None,
        aws_region=_text(env, "AWS_REGION", Settings.aws_region),
        default_credit_limit=_whole(env, "DEFAULT_CREDIT_LIMIT", Settings.default_credit_limit, 0),
        environment=_text(env, "ENVIRONMENT", Settings.environment),
        max_write_attempts=_whole(env, "MAX_WRITE_ATTEMPTS", Settings.max_write_attempts, 1),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return from_environment(os.environ)
