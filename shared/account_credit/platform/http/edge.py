"""What the edge refuses before any route runs: a request body must be one JSON object, sent as JSON.

API Gateway hands the function whatever the caller sent. Powertools would parse a form or a multipart
body, answer 500 on a body that is not UTF-8 and take the first element of a JSON array, so the body
is checked here, once, for every JSON route (the signed webhooks read their raw body themselves).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Refusal:
    status: int
    slug: str
    title: str
    detail: str
    field: str


def _is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def normalised(event: dict[str, Any]) -> dict[str, Any]:
    """The event with a JSON Content-Type spelled ``application/json`` (media types are case-insensitive; Powertools
    compares them as written)."""
    headers = event.get("headers") or {}
    for key, value in headers.items():
        if key.lower() == "content-type" and _is_json(str(value)) and not str(value).startswith("application/json"):
            return {**event, "headers": {**headers, key: "application/json"}}
    return event


def check_body(event: dict[str, Any]) -> Refusal | None:
    """None when the body is absent or one JSON object sent as JSON; else why it is refused."""
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method") or "").upper()
    raw = event.get("body")
    if method not in METHODS_WITH_BODY or raw in (None, ""):
        return None
    content_type = _header(event, "content-type")
    if content_type is not None and not _is_json(content_type):
        return Refusal(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"the body must be JSON (Content-Type: application/json), not {content_type.split(';')[0].strip()!r}",
            "Content-Type",
        )
    data: bytes
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(str(raw), validate=True)
        except (binascii.Error, ValueError):
            return Refusal(422, "validation-error", "Request is not valid", "body: not valid base64", "body")
    else:
        data = str(raw).encode("utf-8", "surrogatepass")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Refusal(
            422,
            "validation-error",
            "Request is not valid",
            f"body: not valid UTF-8 (byte {exc.start}); JSON must be UTF-8",
            "body",
        )
    try:
        parsed = json.loads(text)
    except ValueError:
        return Refusal(422, "validation-error", "Request is not valid", "body: JSON decode error", "body")
    if not isinstance(parsed, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(parsed), "a number")
        return Refusal(
            422, "validation-error", "Request is not valid", f"body: must be one JSON object, not {kind}", "body"
        )
    return None
