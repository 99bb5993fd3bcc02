"""Powertools logger, metrics and tracer, shared by every function.

The tracer wraps the X-Ray SDK, whose import costs about as much as importing boto3
and creating a client. It is built on the first invocation that needs it rather than
at import, so a function's module imports fast; configuration comes from the usual
POWERTOOLS_* environment variables set in template.yaml's Globals.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()

_tracer: Any = None
_lock = threading.Lock()


def tracer() -> Any:
    global _tracer
    if _tracer is None:
        with _lock:
            if _tracer is None:
                from aws_lambda_powertools import Tracer

                _tracer = Tracer()
    return _tracer


def capture_lambda_handler[F: Callable[..., Any]](handler: F) -> F:
    """Like ``Tracer.capture_lambda_handler``, with the tracer built at the first call."""
    traced: list[Callable[..., Any]] = []

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        if not traced:
            traced.append(tracer().capture_lambda_handler(handler))
        return traced[0](event, context)

    return wrapper  # type: ignore[return-value]
