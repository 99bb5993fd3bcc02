"""Fire an EventBridge schedule of template.yaml on demand, against the local DynamoDB.

python -m tools.schedule              # list the schedules
python -m tools.schedule LowBalanceScan
python -m tools.schedule MonthlyBilling --input '{"run": "monthly", "month": "2026-11", "account_id": "acc_x"}'

The function gets what EventBridge Scheduler sends it: the schedule's Input (JSON) when the template gives one,
``--input`` replacing it, else a scheduled event. It runs in this process, with the local server's settings:
DYNAMODB_ENDPOINT, else the DynamoDB Local recorded in the state directory (LOCAL_STATE_DIR, default .local/),
else DDB_PORT (8000); emails land in EMAIL_OUTBOX_DIR (default $LOCAL_STATE_DIR/outbox), documents in
LOCAL_DOCUMENTS_DIR (default $LOCAL_STATE_DIR/documents). The running server fires the rate(...) schedules on their
cadence through its function instances; cron(...) ones (monthly billing, overdue scan) only run from here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tools import template


def scheduled_event(name: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:scheduler:us-east-1:000000000000:schedule/default/{name}"],
        "detail": {},
    }


def schedule_payload(schedule: dict[str, Any], given: Any = None) -> Any:
    """What the schedule's function receives: ``given`` (``--input``), else the schedule's Input - Scheduler
    delivers it as the whole event - else a scheduled event."""
    if given is not None:
        return given
    if schedule.get("input") is not None:
        return json.loads(schedule["input"])
    return scheduled_event(schedule["event"])


def fire(schedule: dict[str, Any], invoke: Callable[[str, Any], Any] | None = None, payload: Any = None) -> Any:
    """Run the schedule's function once (with ``payload`` instead of the schedule's Input, if given): through
    ``invoke(function, event)`` (the server's instances) or, without it, in this process."""
    event = schedule_payload(schedule, payload)
    if invoke is not None:
        return invoke(schedule["function"], event)
    from tools.local_server import LambdaContext, load_function

    handler = load_function(schedule["function"], schedule["code_uri"], schedule["handler"])
    return handler(event, LambdaContext(function_name=schedule["function"]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", help="event name in template.yaml (e.g. LowBalanceScan)")
    parser.add_argument("--input", help="JSON the function receives instead of the schedule's Input")
    args = parser.parse_args(argv)
    schedules = {s["event"]: s for s in template.schedules()}
    if not args.name:
        if args.input is not None:
            parser.error("--input needs a schedule name")
        for s in schedules.values():
            print(f"{s['event']:24} {s['expression']:22} {s['function']:24} {s['input'] or ''}".rstrip())
        return
    if args.name not in schedules:
        sys.exit(f"no schedule {args.name!r}; known: {', '.join(schedules)}")
    payload = None
    if args.input is not None:
        try:
            payload = json.loads(args.input)
        except ValueError as exc:
            parser.error(f"--input is not JSON: {exc}")
    from tools import ddb_local
    from tools.local_server import local_endpoint, prepare

    endpoint = os.environ["DYNAMODB_ENDPOINT"] = local_endpoint()
    try:
        ddb_local.wait_ready(endpoint, timeout=3)
    except SystemExit:
        sys.exit(
            f"no DynamoDB answers at {endpoint}: start the local stack with `make run` "
            "(or set DYNAMODB_ENDPOINT / DDB_PORT / LOCAL_STATE_DIR as for the server)"
        )
    prepare(memory=False, ddb_port=0, start_ddb=False)
    print(fire(schedules[args.name], payload=payload))


if __name__ == "__main__":
    main()
