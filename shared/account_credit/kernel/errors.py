"""Domain errors. Each one knows the RFC 9457 problem it becomes at the HTTP edge.

Route functions never choose status codes for failures: they raise one of these and
the single exception map in ``account_credit.platform.http.problems`` renders it.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class InvalidInput(DomainError):
    """Input that is well-formed JSON but breaks a business rule (e.g. wrong currency)."""

    status = 422
    slug = "validation-error"
    title = "Request is not valid"


class NotFound(DomainError):
    """Missing, or not visible to the caller (a foreign account answers exactly like a missing one)."""

    status = 404
    slug = "not-found"
    title = "Not found"


class Unauthorized(DomainError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"


class Forbidden(DomainError):
    """The caller can see the resource but its role may not do this (e.g. customer setting a credit limit)."""

    status = 403
    slug = "forbidden"
    title = "Not allowed for this role"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class ConcurrentUpdate(Conflict):
    """Contention did not settle within the retry budget. Nothing was written; retry with the same key."""

    slug = "concurrent-update"
    title = "Concurrent update, retry with the same Idempotency-Key"


class IdempotencyKeyReused(DomainError):
    """Same Idempotency-Key, different request body."""

    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency-Key was already used with a different request"


class IdempotencyKeyMissing(DomainError):
    status = 400
    slug = "idempotency-key-missing"
    title = "Idempotency-Key header is required"


class InsufficientFunds(DomainError):
    status = 402
    slug = "insufficient-funds"
    title = "Insufficient funds"


class CurrencyMismatchError(InvalidInput):
    slug = "currency-mismatch"
    title = "Currency does not match the account"


class ServiceUnavailable(DomainError):
    """The store kept throttling past the retry budget. Nothing was written; safe to retry."""

    status = 503
    slug = "service-unavailable"
    title = "Temporarily unavailable, retry later"


# --------------------------------------------------------------------------- deposits


class InvalidWebhookSignature(DomainError):
    """Webhook signature missing or wrong, or its timestamp more than the tolerance in the past or future."""

    status = 400
    slug = "invalid-signature"
    title = "Webhook signature is not valid"


class PaymentProviderError(DomainError):
    """The payment provider refused or failed a call (nothing was recorded here); retry with the same key."""

    status = 502
    slug = "payment-provider-error"
    title = "The payment provider did not complete the request"


class NotConfigured(DomainError):
    """A setting this operation needs (e.g. the seller's bank details) is missing in this deployment."""

    status = 503
    slug = "not-configured"
    title = "This operation is not configured in this deployment"
