"""Identifiers and timestamps."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def _b32(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        out.append(_CROCKFORD[rem])
    return "".join(reversed(out))


_last = [0, 0]  # (millis, random part) of the last id made by this process
_lock = threading.Lock()


def new_id(prefix: str) -> str:
    """``prefix_`` + a ULID-style id: 48-bit millisecond time then 80 random bits, sortable by time.

    Monotonic within a process (ULID's rule): ids made in the same millisecond increment the random part, so
    entries a process writes with the same timestamp still list in the order it made them."""
    millis = time.time_ns() // 1_000_000
    with _lock:
        if millis <= _last[0]:
            millis, rand = _last[0], (_last[1] + 1) % (1 << 80)
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1  # room to increment within the millisecond
        _last[0], _last[1] = millis, rand
    return f"{prefix}_{_b32(millis, 10)}{_b32(rand, 16)}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    """Fixed-width UTC ISO 8601 (sorts lexicographically): 2026-11-22T02:30:07.123456Z."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
