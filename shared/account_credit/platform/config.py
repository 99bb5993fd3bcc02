"""Settings from the environment (pydantic), read once per process."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Environment variables, validated. Unknown variables are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    table_name: str = Field(default="account-credit", alias="TABLE_NAME")
    dynamodb_endpoint: str | None = Field(default=None, alias="DYNAMODB_ENDPOINT")
    aws_region: str = Field(default="us-east-1", alias="AWS_REGION")
    # Whole major units in the account's own currency: 2000 -> 2,000.00 USD, 2,000 JPY.
    default_credit_limit: int = Field(default=2000, ge=0, alias="DEFAULT_CREDIT_LIMIT")
    environment: str = Field(default="dev", alias="ENVIRONMENT")
    # Money movements retry conflicts/throttling this many times before answering 409/503.
    max_write_attempts: int = Field(default=12, ge=1, alias="MAX_WRITE_ATTEMPTS")


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
