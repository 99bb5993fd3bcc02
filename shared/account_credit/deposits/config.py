"""Configuration of deposits: plain settings from the environment, secrets from Secrets Manager.

Plain settings (template.yaml parameters -> environment variables):

* ``PAYMENT_PROVIDER``  adapter used for card top-ups (``stripe`` on AWS, ``sandbox`` locally)
* ``DEPOSIT_MIN_AMOUNT`` / ``DEPOSIT_MAX_AMOUNT``  top-up bounds in whole major units of the
  account's currency (like ``DEFAULT_CREDIT_LIMIT``): 10 = 10.00 EUR or 10 JPY
* ``SELLER_NAME``, ``SELLER_ADDRESS``, ``SELLER_IBAN``, ``SELLER_BIC``, ``SELLER_BANK_NAME``
  the seller's bank details printed on proforma invoices
* ``PROFORMA_DUE_DAYS``  days until a proforma is due

Secrets (``stripe_api_key``, ``stripe_webhook_secret``, ``sandbox_webhook_secret``,
``bank_webhook_secret``) are never in code or in plain environment variables on AWS: the
stack creates one Secrets Manager secret (JSON object with those keys) and passes its ARN
as ``PAYMENT_SECRETS_ARN``; it is read with Powertools' parameters utility and cached for
five minutes. Locally (and in tests) an environment variable of the upper-cased key name,
e.g. ``SANDBOX_WEBHOOK_SECRET``, takes precedence; the local server sets dev-only values
generated into ``.local/`` (tools/sandbox.py).
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from account_credit.kernel.money import Money
from account_credit.platform.secrets import SECRET_MAX_AGE_SECONDS, secret  # noqa: F401 - used here


class DepositSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    payment_provider: str = Field(default="sandbox", alias="PAYMENT_PROVIDER")
    min_amount_major: int = Field(default=10, ge=1, alias="DEPOSIT_MIN_AMOUNT")
    max_amount_major: int = Field(default=100_000, ge=1, alias="DEPOSIT_MAX_AMOUNT")
    seller_name: str = Field(default="", alias="SELLER_NAME")
    seller_address: str = Field(default="", alias="SELLER_ADDRESS")
    seller_iban: str = Field(default="", alias="SELLER_IBAN")
    seller_bic: str = Field(default="", alias="SELLER_BIC")
    seller_bank_name: str = Field(default="", alias="SELLER_BANK_NAME")
    proforma_due_days: int = Field(default=14, ge=0, le=365, alias="PROFORMA_DUE_DAYS")
    payment_secrets_arn: str = Field(default="", alias="PAYMENT_SECRETS_ARN")

    def bounds(self, currency: str) -> tuple[Money, Money]:
        """Smallest and largest top-up in ``currency`` (minor units)."""
        return Money.of_major(self.min_amount_major, currency), Money.of_major(self.max_amount_major, currency)

    def seller(self) -> dict[str, str]:
        return {
            "name": self.seller_name,
            "address": self.seller_address,
            "iban": self.seller_iban.replace(" ", ""),
            "bic": self.seller_bic,
            "bank_name": self.seller_bank_name,
        }


@lru_cache(maxsize=1)
def deposit_settings() -> DepositSettings:
    return DepositSettings.model_validate(dict(os.environ))
