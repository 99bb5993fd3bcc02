"""Routers, one module per capability. Each exposes ``router``; functions/<capability>/app.py serves it."""

from __future__ import annotations

import importlib
import pkgutil

from aws_lambda_powertools.event_handler.api_gateway import Router


def all_routers() -> list[Router]:
    """Every capability's router (for the OpenAPI document)."""
    out = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, Router):
            out.append(router)
    return out
