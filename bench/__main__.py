"""Benchmarks against DynamoDB Local: ``python -m bench [--write docs/PERFORMANCE.md]`` (or ``make bench``).

Prints one table: measured value, target, pass/fail. Exits non-zero only when a run
breaks, never for a missed target. Ratios come from one run on one machine; absolute
times on a shared machine are noise.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from tools import ddb_local
from tools.template import ROOT


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    py = platform.python_version()
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores {cpu}, Python {py}, {java}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", help="also write the results as markdown to this file")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = parser.parse_args()

    port = ddb_local.free_port()
    proc = ddb_local.start(port)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "DYNAMODB_ENDPOINT": endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,  # the bare boto3 clients of the comparisons
            "TABLE_NAME": "bench",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "EMAIL_OUTBOX_DIR": str(ROOT / ".local" / "bench-outbox"),
        }
    )
    from tools.local_server import prepare

    prepare(memory=False, ddb_port=port, start_ddb=False)  # the functions' environment, as the local server sets it
    from bench import measures

    started = time.perf_counter()
    try:
        rows = measures.run_all(endpoint, quick=args.quick)
    finally:
        proc.terminate()
        proc.wait(20)
    table = measures.render(rows)
    print(table)
    print(f"\n(one run, {time.perf_counter() - started:.0f} s)")
    if args.write:
        Path(args.write).write_text(measures.document(table, machine(), " ".join(["python -m bench", *sys.argv[1:]])))
        print(f"written to {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
