from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from account_credit.platform.store.cache import AccountCache
from account_credit.platform.store.dynamo import DynamoStore
from tests.integration.helpers import CallCounter


@pytest.fixture
def dynamo_client(ddb_endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=ddb_endpoint,
        region_name="us-east-1",
        config=Config(retries={"total_max_attempts": 1}, max_pool_connections=64, read_timeout=20),
    )


@pytest.fixture
def store(table_name: str, dynamo_client: Any) -> DynamoStore:
    """A store with its own account cache, like one warm Lambda container."""
    return DynamoStore(table_name, dynamo_client=dynamo_client, cache=AccountCache())


@pytest.fixture
def own_table(ddb_endpoint: str) -> str:
    """A table of its own (from template.yaml), for a test that writes items no ledger write made (seeded ledgers,
    tampering) or needs its partitions to hold only its own data: the shared table's stream readers never see them."""
    from tools import ddb_local

    name = f"own-{uuid.uuid4().hex[:12]}"
    ddb_local.ensure_table(ddb_endpoint, name)
    return name


@pytest.fixture
def counter(dynamo_client: Any) -> Iterator[CallCounter]:
    yield CallCounter(dynamo_client)
