"""Benchmarks against DynamoDB Local: ``python -m bench`` (``make bench``); ``--write docs/PERFORMANCE.md``
also writes the results there (nothing is written without it); ``--quick`` is a short smoke run.

Prints one table (measured value, target, pass/fail) and the detail tables, all from one run. Exits
non-zero only when a run breaks (an exception, an agent process that dies, or a broken invariant such as
an overdraft or a balance that is not the sum of its entries), never for a missed target. Ratios come
from one run on one machine; absolute times on a shared machine are noise.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from tools import ddb_local


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
    parser.add_argument("--write", help="also write the results as markdown to this file (docs/PERFORMANCE.md)")
    parser.add_argument("--quick", action="store_true", help="shorter windows and smaller sizes (a smoke run)")
    args = parser.parse_args()

    started = time.perf_counter()
    port = ddb_local.free_port()
    proc = ddb_local.start(port)
    endpoint = f"http://127.0.0.1:{port}"
    outbox = tempfile.mkdtemp(prefix="bench-outbox-")
    from bench.containers import agent_environment

    env = agent_environment(endpoint, "bench", outbox)
    os.environ.update({**env, "AWS_ENDPOINT_URL_DYNAMODB": endpoint})
    warnings.filterwarnings("ignore", message="No application metrics to publish")  # metrics are off here
    from tools.local_server import prepare

    prepare(memory=False, ddb_port=port, start_ddb=False)  # the functions' environment, as the local server sets it
    try:
        report = run(env, Path(outbox), quick=args.quick)
    finally:
        proc.terminate()
        proc.wait(20)
        shutil.rmtree(outbox, ignore_errors=True)
    from bench.measures import document, render

    text = render(report)
    print(text)
    print(f"\n(one run, {time.perf_counter() - started:.0f} s)")
    if args.write:
        command = " ".join(["python -m bench", *sys.argv[1:]])
        Path(args.write).write_text(document(text, machine(), command))
        print(f"written to {args.write}")
    if report.broken:
        print("\nBROKEN RUN: " + "; ".join(report.broken), file=sys.stderr)
        return 1
    return 0


def run(env: dict[str, str], outbox: Path, quick: bool) -> Any:
    """Every measurement, in one run, with one fleet of agent processes (the largest N)."""
    from bench import hot, measures, wcu
    from bench.containers import Fleet

    # --quick: one short window per side and no N = 32 (spawning 32 interpreters alone takes ~20 s here).
    ns = (1, 8) if quick else (1, 8, 32)
    windows, seconds = (1, 1.5) if quick else (2, 3.0)
    measures.ensure_product()
    phase(f"starting {max(ns)} agent processes")
    with Fleet(max(ns), env) as fleet:
        phase("1. calls per operation (fresh agents)")
        calls = measures.calls_per_operation(fleet, list(range(2 * len(measures.OPERATIONS))))
        phase("2. cold start")
        cold = cold_rows(3 if quick else 9)
        phase("3. handler ÷ bare, one at a time")
        overhead = measures.handler_vs_bare(60 if quick else 400)
        phase("5. hot account across containers")
        hot_report, under = hot.hot_account(fleet, ns, windows, seconds, conflict_rate=0.10)
    report = measures.calls_report(calls, under)
    report += measures.Report(rows=cold)
    report += overhead
    phase("4. threshold scan")
    report += measures.scan_cost(1_000 if quick else 10_000, 10 if quick else 100, outbox)
    report += hot_report
    phase("6. WCU by design")
    report += wcu.wcu_by_design()
    phase("7. layer (built as sam build builds it)")
    report += measures.Report(rows=layer_rows())
    phase("done")
    return report


_phase = [time.perf_counter()]


def phase(name: str) -> None:
    """Progress on stderr (the results go to stdout): what starts now, and how long the last step took."""
    now = time.perf_counter()
    print(f"[{now - _phase[0]:5.0f} s] {name}", file=sys.stderr, flush=True)


def layer_rows() -> list[tuple[str, str, str, bool]]:
    """The layer's size and contents, built by shared/Makefile exactly as ``sam build`` runs it (tools/layer.py)."""
    from tools import layer

    label = "7. Layer: shared/Makefile's build (python -m tools.layer), zipped"
    target = (
        f"<= {layer.mb(layer.BUDGET_BYTES)} zipped besides dependencies justified by name; "
        "no boto3/botocore/s3transfer/aws_xray_sdk; bytecode for every module"
    )
    python_version, arch = layer.layer_spec()
    with tempfile.TemporaryDirectory(prefix="bench-layer-") as tmp:
        root = Path(tmp) / "layer"
        root.mkdir()
        try:
            built = layer.build(root, python_version, arch)
        except (OSError, subprocess.CalledProcessError) as exc:  # no package index, no Python 3.13 with pip
            return [(label, f"not measured: {exc}", target, False)]
    justified = ", ".join(f"{name} {layer.mb(built.packages.get(name, (0, 0))[0])}" for name in layer.JUSTIFIED)
    measured = (
        f"{layer.mb(built.zipped)} ({layer.mb(built.budgeted_bytes)} without the justified: {justified}); "
        f"{layer.mb(built.unpacked)} unpacked; runtime SDK inside: {', '.join(built.forbidden) or 'none'}; "
        f"modules without bytecode: {len(built.uncompiled)}"
    )
    ok = not built.forbidden and not built.uncompiled and built.budgeted_bytes <= layer.BUDGET_BYTES
    return [(label, measured, target, ok)]


def cold_rows(repeats: int) -> list[tuple[str, str, str, bool]]:
    """The cold-start rows (``bench/cold.py``: import + first invocation, per function)."""
    from bench import cold

    return cold.cold_start_rows(repeats)


if __name__ == "__main__":
    sys.exit(main())
