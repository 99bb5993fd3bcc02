"""Settings of the orders and catalog capability, from the environment (read once per process)."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_validator


class OrderSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    # Channels that may pay only from the balance (never a card). DigiCert: the Azure Key
    # Vault integration cannot pay by card. Comma-separated, case-insensitive.
    balance_only_channels: frozenset[str] = Field(default=frozenset({"azure-key-vault"}), alias="BALANCE_ONLY_CHANNELS")
    # How long a function keeps the catalog in memory before reading it again.
    catalog_cache_seconds: float = Field(default=60, ge=0, le=3600, alias="CATALOG_CACHE_SECONDS")

    @field_validator("balance_only_channels", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            return frozenset(c.strip().lower() for c in v.split(",") if c.strip())
        return v

    def accepts_cards(self, channel: str) -> bool:
        return channel.lower() not in self.balance_only_channels


@lru_cache(maxsize=1)
def order_settings() -> OrderSettings:
    return OrderSettings.model_validate(dict(os.environ))
