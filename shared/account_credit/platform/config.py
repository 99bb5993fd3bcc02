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
    # PORTAL_URL: the web portal's address (https://host/portal, no trailing slash); Stripe Checkout sends the
    # browser back there after a card top-up. None: card top-ups through Stripe Checkout are refused.
    portal_url: str | None = None


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


def _portal_url(env: Mapping[str, str], name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    url = raw.rstrip("/")
    scheme, sep, rest = url.partition("://")
    if scheme not in ("https", "http") or not sep or not rest or any(c in url for c in "?# "):
        raise ConfigurationError(f"{name} must be an absolute http(s) URL without query or fragment, not {raw!r}")
    return url


def from_environment(env: Mapping[str, str]) -> Settings:
    """The settings ``env`` describes (ConfigurationError naming the variable for a malformed one)."""
    return Settings(
        table_name=_text(env, "TABLE_NAME", Settings.table_name),
        dynamodb_endpoint=env.get("DYNAMODB_ENDPOINT") or None,
        aws_region=_text(env, "AWS_REGION", Settings.aws_region),
        default_credit_limit=_whole(env, "DEFAULT_CREDIT_LIMIT", Settings.default_credit_limit, 0),
        environment=_text(env, "ENVIRONMENT", Settings.environment),
        max_write_attempts=_whole(env, "MAX_WRITE_ATTEMPTS", Settings.max_write_attempts, 1),
        portal_url=_portal_url(env, "PORTAL_URL"),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return from_environment(os.environ)


@dataclass(frozen=True)
class Seller:
    """Who issues the documents, and its tax rules (SELLER_*, VAT_*, DOCUMENT_LANGUAGES, INVOICE_DUE_DAYS).

    Not VAT-registered by default: documents then carry no VAT (category O), as before documents existed.
    Registered (``VAT_REGISTERED=true``) needs the seller's country and a valid VAT id, and ``VAT_RATE`` is its
    standard rate as a percent (``23``, ``19.5``)."""

    name: str = ""
    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    vat_id: str | None = None
    company_id: str | None = None
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None
    email: str | None = None
    peppol_endpoint: str | None = None  # "<EAS scheme>:<id>"
    vat_registered: bool = False
    vat_rate_bp: int = 0  # basis points: 2300 = 23 %
    languages: tuple[str, ...] = ("en", "sk")
    invoice_due_days: int = 14
    po_payment_terms_days: int = 30  # PO_PAYMENT_TERMS_DAYS: a purchase order's invoice is due this many days later
    po_reminder_days: tuple[int, ...] = (0, 7, 30)  # PO_REMINDER_DAYS: reminders at due, +7, +30 days
    operator_email: str | None = None  # OPERATOR_EMAIL: where new purchase orders are announced


_LANGUAGES = ("en", "sk")


def _optional(env: Mapping[str, str], name: str) -> str | None:
    return (env.get(name) or "").strip() or None


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "false").strip().lower()
    if raw not in ("true", "false"):
        raise ConfigurationError(f"{name} must be true or false, not {env.get(name)!r}")
    return raw == "true"


def _percent_bp(env: Mapping[str, str], name: str) -> int:
    """A percent with at most two decimals (``23``, ``19.5``) as basis points; never through a float."""
    raw = (env.get(name) or "0").strip()
    whole, _, frac = raw.partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        raise ConfigurationError(f"{name} must be a percent like 23 or 19.5, not {raw!r}")
    bp = int(whole) * 100 + int(frac.ljust(2, "0") or 0)
    if bp > 10_000:
        raise ConfigurationError(f"{name} must be at most 100, not {raw!r}")
    return bp


def seller_from_environment(env: Mapping[str, str]) -> Seller:
    """The seller ``env`` describes (ConfigurationError naming the variable for a malformed or missing one)."""
    from account_credit.kernel.taxid import check_vat_id

    registered = _flag(env, "VAT_REGISTERED")
    country = _optional(env, "SELLER_COUNTRY")
    if country is not None and not (len(country) == 2 and country.isalpha() and country.isupper()):
        raise ConfigurationError(f"SELLER_COUNTRY must be an ISO 3166 alpha-2 code like SK, not {country!r}")
    vat_id = _optional(env, "SELLER_VAT_ID")
    if vat_id is not None:
        try:
            vat_id = check_vat_id(vat_id, country)
        except ValueError as exc:
            raise ConfigurationError(f"SELLER_VAT_ID: {exc}") from None
    rate = _percent_bp(env, "VAT_RATE")
    if registered and (country is None or vat_id is None or rate == 0):
        raise ConfigurationError("VAT_REGISTERED=true needs SELLER_COUNTRY, SELLER_VAT_ID and a VAT_RATE above 0")
    languages = tuple(x.strip() for x in (env.get("DOCUMENT_LANGUAGES") or "en,sk").split(",") if x.strip())
    if not languages or any(x not in _LANGUAGES for x in languages):
        raise ConfigurationError(f"DOCUMENT_LANGUAGES must list some of {', '.join(_LANGUAGES)}")
    endpoint = _optional(env, "SELLER_PEPPOL_ENDPOINT")
    if endpoint is not None:
        scheme, _, ident = endpoint.partition(":")
        if not (len(scheme) == 4 and scheme.isdigit() and ident):
            raise ConfigurationError("SELLER_PEPPOL_ENDPOINT must be <EAS scheme>:<id> like 9950:SK2020273893")
    return Seller(
        name=(env.get("SELLER_NAME") or "").strip(),
        street=_optional(env, "SELLER_STREET") or _optional(env, "SELLER_ADDRESS"),
        city=_optional(env, "SELLER_CITY"),
        postal_code=_optional(env, "SELLER_POSTAL_CODE"),
        country=country,
        vat_id=vat_id,
        company_id=_optional(env, "SELLER_COMPANY_ID"),
        iban=(_optional(env, "SELLER_IBAN") or "").replace(" ", "") or None,
        bic=_optional(env, "SELLER_BIC"),
        bank_name=_optional(env, "SELLER_BANK_NAME"),
        email=_optional(env, "SELLER_EMAIL"),
        peppol_endpoint=endpoint,
        vat_registered=registered,
        vat_rate_bp=rate if registered else 0,
        languages=languages,
        invoice_due_days=_whole(env, "INVOICE_DUE_DAYS", Seller.invoice_due_days, 0),
        po_payment_terms_days=_whole(env, "PO_PAYMENT_TERMS_DAYS", Seller.po_payment_terms_days, 0),
        po_reminder_days=_days(env, "PO_REMINDER_DAYS", Seller.po_reminder_days),
        operator_email=_optional(env, "OPERATOR_EMAIL"),
    )


def _days(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """A comma list of whole days >= 0, ascending without repeats (``0,7,30``)."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    parts = [p.strip() for p in raw.split(",")]
    if not all(p.isdigit() for p in parts) or sorted({int(p) for p in parts}) != [int(p) for p in parts]:
        raise ConfigurationError(f"{name} must list whole days in ascending order like 0,7,30, not {raw!r}")
    return tuple(int(p) for p in parts)


@lru_cache(maxsize=1)
def seller() -> Seller:
    return seller_from_environment(os.environ)
