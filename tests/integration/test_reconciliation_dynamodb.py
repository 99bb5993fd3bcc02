"""The reconciliation on DynamoDB Local: the fault harness's history (1,000 operations under injected conflicts,
throttling and timeouts-after-commit) reconciles with zero mismatches, its accounts found through the touched
index the real sequencer handler writes from the table's stream; a tampered item is a finding."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import tests.integration.test_faults as fault_harness
from account_credit.platform.store import keys
from account_credit.platform.store.cache import AccountCache
from account_credit.platform.store.codec import to_attr
from account_credit.platform.store.dynamo import DynamoStore
from account_credit.reconciliation import service

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _sequencer_app() -> ModuleType:
    name = "sequencer_app"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / "sequencer" / "app.py")
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


def _run_sequencer_function(store: DynamoStore, monkeypatch: pytest.MonkeyPatch) -> int:
    """The table's whole stream through the real sequencer handler, filtered as the template filters it."""
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    from tools.streams import StreamPoller

    app = _sequencer_app()
    monkeypatch.setattr(app, "store", lambda: store)
    app._marked.clear()
    seen = 0

    def invoke(fn: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
        nonlocal seen
        if fn["function"] == "SequencerFunction":
            for record in event["Records"]:
                app.record_handler(DynamoDBRecord(record))
                seen += 1
        return {}

    checkpoint = Path(tempfile.mkdtemp(prefix="recon-")) / "checkpoint.json"
    StreamPoller(store.client.meta.endpoint_url, store.table, invoke, checkpoint).poll_once()
    return seen


def test_the_fault_harness_history_reconciles_with_zero_mismatches_and_a_tampered_entry_is_found(
    own_table: str, dynamo_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fault_harness.test_random_operations_under_faults_keep_the_ledger_exact(own_table, dynamo_client)
    store = DynamoStore(own_table, dynamo_client=dynamo_client, cache=AccountCache())
    assert _run_sequencer_function(store, monkeypatch) > 0
    day = datetime.now(UTC).date().isoformat()

    result = service.run(store, day)

    assert result.accounts == 3, "the three accounts of the harness, found through the touched index"
    assert result.skipped == [] and result.as_dict()["findings"] == []
    assert service.report(store, day)["mismatches"] == 0

    # Tamper: an entry disappears (only a broken store or a hand edit could do this).
    account_id = str(store.query_prefix(*keys.touched_prefix(day), limit=1)[0]["account_id"])
    victim = store.query_prefix(keys.account_pk(account_id), keys.ENTRY_PREFIX, limit=1)[0]
    balance = store.get_item(*keys.account(account_id))
    assert balance is not None
    dynamo_client.delete_item(TableName=own_table, Key={"pk": to_attr(victim["pk"]), "sk": to_attr(victim["sk"])})

    again = service.run(store, day, account_id)

    assert {f.check for f in again.findings} == {"balance"}
    assert f"sum of entries {int(balance['balance']) - int(victim['amount'])}" in again.findings[0].detail
    assert store.get_item(*keys.account(account_id)) == balance, "a finding never changes money"
    assert service.report(store, day)["mismatches"] == len(again.findings)
