"""Shared fixtures: DynamoDB Local (started once per session unless DYNAMODB_ENDPOINT is set)
and tables built from template.yaml's own definition."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "AccountCreditTests")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "account-credit")


@pytest.fixture(scope="session")
def ddb_endpoint() -> Iterator[str]:
    from tools import ddb_local

    given = os.environ.get("DYNAMODB_ENDPOINT")
    if given:
        ddb_local.wait_ready(given)
        yield given
        return
    port = ddb_local.free_port()
    proc = ddb_local.start(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture(scope="session")
def table_name(ddb_endpoint: str) -> str:
    """One table per test session, created from template.yaml."""
    from tools import ddb_local

    name = f"test-{uuid.uuid4().hex[:12]}"
    ddb_local.ensure_table(ddb_endpoint, name)
    return name
