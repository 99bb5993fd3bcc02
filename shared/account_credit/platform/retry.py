"""Retrying with full-jitter backoff: the one sleep between attempts, and the one retry loop.

The store retries throttling, timeouts and transaction conflicts with it; capabilities retry
their optimistic writes with it (a deposit that changed since it was read, a proforma number
taken meanwhile, a product edited concurrently), each with its own limit and the error it
answers when the limit is reached.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable


def backoff(attempt: int, *, base: float = 0.01, cap: float = 0.5) -> None:
    """Full jitter: sleep uniformly in [0, min(cap, base * 2**attempt)] (``attempt`` counts from 0)."""
    time.sleep(random.uniform(0, min(cap, base * (2**attempt))))


def retry[T](
    attempt: Callable[[], T],
    *,
    on: tuple[type[Exception], ...],
    attempts: int,
    exhausted: Exception | None = None,
) -> T:
    """``attempt()`` up to ``attempts`` times while it raises one of ``on``, with a backoff between tries.

    Anything else it raises goes through at once. When every attempt failed: ``exhausted`` if
    given (chained to the last failure), else the last failure itself.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for n in range(attempts):
        try:
            return attempt()
        except on as exc:
            if n + 1 == attempts:
                if exhausted is not None:
                    raise exhausted from exc
                raise
        backoff(n)
    raise AssertionError("unreachable")
