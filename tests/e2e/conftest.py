"""Starts the local server (tools/local_server.py) as a real process on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tools import ddb_local, localauth
from tools.template import ROOT


class Api:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.base + path, headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="session")
def api(ddb_endpoint: str, table_name: str) -> Iterator[Api]:
    localauth.mint("operator")  # make sure the signing key exists before the server reads it
    port = ddb_local.free_port()
    env = {
        **os.environ,
        "DYNAMODB_ENDPOINT": ddb_endpoint,
        "TABLE_NAME": table_name,
        "LOCAL_SERVER_QUIET": "1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.local_server", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/openapi.json", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read() if proc.stdout else ""
            proc.kill()
            raise RuntimeError(f"local server did not start:\n{out}")
        time.sleep(0.2)
    try:
        yield Api(base)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def operator() -> str:
    return localauth.mint("operator", subject="e2e-operator")
