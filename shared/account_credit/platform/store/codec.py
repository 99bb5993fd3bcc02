"""DynamoDB's wire format and client: attribute values, keys, cursors, stream images, the boto3 client
and how its errors are classified. With ``transaction.py`` and ``dynamo.py``, the only boto3 code."""

from __future__ import annotations

import base64
import json
from typing import Any

from account_credit.kernel.errors import InvalidInput
from account_credit.platform.config import settings

# Error codes of a call that may succeed when tried again (nothing was written).
RETRYABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
}
# Cancellation reasons of a transaction that may succeed when tried again.
RETRYABLE_REASONS = {"TransactionConflict", "ProvisionedThroughputExceeded", "ThrottlingError"}

# --------------------------------------------------------------------------- values


def to_attr(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, dict):
        return {"M": {k: to_attr(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [to_attr(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__} (floats are never stored)")


def from_attr(attr: dict[str, Any]) -> Any:
    if not attr:  # DynamoDB Local's stream images carry an empty map as {} instead of {"M": {}}
        return {}
    ((kind, value),) = attr.items()
    if kind == "S":
        return value
    if kind == "N":
        return int(value)
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "L":
        return [from_attr(v) for v in value]
    raise TypeError(f"unsupported attribute type {kind}")


def to_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: to_attr(v) for k, v in item.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def stream_images(record: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The old and new item of one DynamoDB stream record (Lambda's format), as plain values."""
    data = record.get("dynamodb", {})
    old = from_item(data["OldImage"]) if data.get("OldImage") else None
    new = from_item(data["NewImage"]) if data.get("NewImage") else None
    return old, new


# --------------------------------------------------------------------------- cursors


def encode_cursor(last_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, expected_pk: str | None) -> dict[str, Any]:
    """Parse a cursor we issued; refuse one that is malformed or belongs to another account."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("cursor is not valid", field="cursor") from None
    if (
        not isinstance(raw, dict)
        or (expected_pk is not None and raw.get("pk") != expected_pk)
        or not all(isinstance(v, str) for v in raw.values())
    ):
        raise InvalidInput("cursor is not valid for this account", field="cursor")
    return raw


# --------------------------------------------------------------------------- client

_clients: dict[tuple[str | None, str], Any] = {}


def client(endpoint: str | None = None, region: str | None = None) -> Any:
    """A shared low-level DynamoDB client (botocore retries off: we retry with jitter ourselves).

    botocore's client-side parameter validation is off: every request is built here from
    ``to_attr`` values (which refuse anything unstorable), DynamoDB validates it again, and
    walking a six-item order transaction cost ~0.4 ms of CPU per call.
    """
    cfg = settings()
    endpoint = endpoint if endpoint is not None else cfg.dynamodb_endpoint
    region = region or cfg.aws_region
    found = _clients.get((endpoint, region))
    if found is None:
        import boto3
        from botocore.config import Config

        found = boto3.session.Session().client(
            "dynamodb",
            endpoint_url=endpoint or None,
            region_name=region,
            config=Config(
                # One attempt per call: the store retries itself (platform/retry.py, platform/commit.py), so botocore
                # must not retry underneath it ({"max_attempts": 1} would still allow botocore one retry).
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=2,
                read_timeout=5,
                max_pool_connections=64,
                parameter_validation=False,
            ),
        )
        # setdefault: should two threads of a test get here at once, both keep the same client.
        found = _clients.setdefault((endpoint, region), found)
    return found


def error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def is_transient_io(exc: Exception) -> bool:
    from botocore.exceptions import (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    return isinstance(exc, (ReadTimeoutError, ConnectTimeoutError, EndpointConnectionError, ConnectionClosedError))


def is_retryable(exc: Exception) -> bool:
    """Throttling, a transaction conflict, a timeout: nothing was written (or our own write was, and a
    retry meets its idempotency record), so the same call may be tried again."""
    return error_code(exc) in RETRYABLE_CODES or is_transient_io(exc)
