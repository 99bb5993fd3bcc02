"""Powertools logger and metrics shared by every function, and the handler's X-Ray tracing.

Tracing is Lambda's active tracing (``Tracing: Active`` in template.yaml's Globals): the service records
every invocation's segment (initialization, invocation, overhead) with no SDK in the function. The X-Ray
SDK behind Powertools' Tracer would add a subsegment per AWS call, but importing it and patching botocore
costs a cold start 0.2-0.4 s and it drags botocore into the layer, so it is off: ``capture_lambda_handler``
returns the handler itself and nothing imports the SDK. The stack's ``XRaySdkTracing`` parameter turns it
on (it sets ``POWERTOOLS_TRACE_DISABLED=false``; the variable unset counts as off), and then the Tracer is
built at the first invocation; the layer does not carry the SDK, so a stack that enables it supplies
``aws-xray-sdk`` too (see docs/PERFORMANCE.md) - without it the handler runs untraced and says so once.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()

_tracer: Any = None
_lock = threading.Lock()
_OFF = object()


def sdk_tracing() -> bool:
    """The X-Ray SDK is used only when POWERTOOLS_TRACE_DISABLED says explicitly that tracing is not disabled."""
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in {"false", "0", "no", "off"}


def tracer() -> Any:
    """Powertools' Tracer, built once; None when the SDK is not in this deployment."""
    global _tracer
    if _tracer is None:
        with _lock:
            if _tracer is None:
                try:
                    from aws_lambda_powertools import Tracer

                    _tracer = Tracer()
                except ImportError as exc:  # the layer carries no X-Ray SDK unless the stack adds it
                    logger.warning("XRaySdkTracing is on but the X-Ray SDK is missing; not traced", exc_info=exc)
                    _tracer = _OFF
    return None if _tracer is _OFF else _tracer


def capture_lambda_handler[F: Callable[..., Any]](handler: F) -> F:
    """The handler itself (Lambda's active tracing needs no SDK); with SDK tracing on, ``Tracer.capture_lambda_handler``
    with the tracer built at the first call."""
    if not sdk_tracing():
        return handler
    traced: list[Callable[..., Any]] = []

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        if not traced:
            t = tracer()
            traced.append(t.capture_lambda_handler(handler) if t is not None else handler)
        return traced[0](event, context)

    return wrapper  # type: ignore[return-value]
