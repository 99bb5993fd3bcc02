"""The API document describes the API: schemathesis against the running local stack, as each role.

Every route, every check schemathesis has (configuration and its few, stated exceptions in
tests/e2e/schemathesis.toml), a fixed seed and a bounded number of examples so it fits CI. Any 5xx, any
status or content type the document does not list, any body that violates its schema, any invalid request
accepted or valid one refused fails the test, with schemathesis' own report in the message.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tools import localauth

from .conftest import Api

CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = "20261130"
MAX_EXAMPLES = os.environ.get("CONTRACT_MAX_EXAMPLES", "12")


def _setup(api: Api, operator: str, partner_id: str) -> str:
    """An account managed by ``partner_id``, with money, a product priced in its currency and a card."""
    opened = api.call(
        "POST",
        "/accounts",
        operator,
        json={
            "currency": "USD",
            "company": {"name": "Contract Test Ltd"},
            "billing_emails": ["contract@example.test"],
            "partner_id": partner_id,
        },
    )
    assert opened.status_code == 201, opened.text
    account_id = str(opened.json()["account_id"])
    funded = api.call(
        "POST",
        f"/accounts/{account_id}/adjustments",
        operator,
        json={"type": "credit", "amount": 10_000_000, "reason": "contract test funds"},
        headers={"Idempotency-Key": f"contract-{account_id}"},
    )
    assert funded.status_code == 201, funded.text
    product = api.call(
        "PUT", "/catalog/products/0", operator, json={"name": "Contract SSL", "term_months": 12, "prices": {"USD": 900}}
    )
    assert product.status_code in (200, 201), product.text
    return account_id


def _schemathesis(base: str, token: str, account_id: str, phases: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    return subprocess.run(
        [
            str(exe),
            "--config-file",
            str(CONFIG),
            "--no-color",
            "run",
            f"{base}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--exclude-checks",
            "unsupported_method,allow_header_conformance",
            "--seed",
            SEED,
            "--max-examples",
            MAX_EXAMPLES,
            "--workers",
            "1",  # one at a time: deterministic for the seed (2 threads tripped an ast.parse race in hypothesis)
            "--request-timeout",
            "60",
            "--generation-database",
            "none",
            "--phases",
            phases,
            # Free text is stated as a pattern with its trimmed length; generating Company's eight such
            # fields filters many examples, which is slow, not wrong.
            "--suppress-health-check",
            "filter_too_much",
        ],
        env={**os.environ, "ST_ACCOUNT_ID": account_id},
        cwd=cwd,  # schemathesis keeps a crash cache in .schemathesis/ of its working directory
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.parametrize("role", ["operator", "customer", "partner"])
def test_every_answer_is_in_the_api_document(api: Api, operator: str, role: str, tmp_path: Path) -> None:
    partner_id = f"p-contract-{uuid.uuid4().hex[:8]}"
    account_id = _setup(api, operator, partner_id)
    token = {
        "operator": operator,
        "customer": localauth.mint("customer", account_id=account_id, subject=f"contract-{role}"),
        "partner": localauth.mint("partner", partner_id=partner_id, subject=f"contract-{role}"),
    }[role]
    operations = sum(
        1
        for ops in api.call("GET", "/openapi.json").json()["paths"].values()
        for method in ops
        if method in {"get", "post", "put", "patch", "delete"}
    )
    # The coverage phase (every boundary of every parameter) is the same sweep for every role and takes most
    # of the time: the operator, who may call every route, runs it; every role runs the others.
    phases = "examples,coverage,fuzzing,stateful" if role == "operator" else "examples,fuzzing,stateful"
    result = _schemathesis(api.base, token, account_id, phases, tmp_path)
    report = (result.stdout + result.stderr)[-20_000:]
    assert result.returncode == 0, f"schemathesis found problems as {role}:\n{report}"
    # Every route was exercised (schemathesis leaves out the route that serves the document itself).
    assert f"Selected: {operations - 1}/{operations - 1}" in report, report
    assert f"Tested: {operations - 1}" in report, report
