"""The per-function alarms of template.yaml, generated: Errors and Throttles of every function, IteratorAge of every
stream consumer, and the HTTP API's 5xx answers.

Dozens of near-identical alarm blocks written by hand drift (a new function without its alarms, a copy naming the
wrong function), so they live in one marked section of template.yaml that this tool rewrites from the functions
the template declares:

    .venv/bin/python -m tools.alarms --write    # after adding or removing a function
    .venv/bin/python -m tools.alarms --check    # exit 1 when the section is not what the template needs

tests/unit/test_template.py fails while the section is stale. The failure queues' depth alarms and the
reconciliation mismatch alarm stay hand-written next to what they watch (each says what to do about it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tools import template

BEGIN = "  # BEGIN generated alarms (python -m tools.alarms --write rewrites this section; do not edit it by hand)\n"
END = "  # END generated alarms\n"
ALARM_ACTIONS = "!If [HasAlarmTopic, [!Ref AlarmTopicArn], !If [HasAlarmEmail, [!Ref AlarmTopic], !Ref AWS::NoValue]]"
# A stream record older than this (milliseconds) means the consumer falls behind or keeps retrying a batch; the
# table's stream keeps records for 24 hours.
ITERATOR_AGE_MS = 900_000
PERIOD_SECONDS = 300


def stream_consumers(functions: dict[str, dict[str, Any]]) -> list[str]:
    """The functions a stream feeds (DynamoDB or Kinesis events): the ones Lambda reports an IteratorAge for."""
    out = []
    for name, props in functions.items():
        events = props.get("Events") or {}
        if any(e.get("Type") in {"DynamoDB", "Kinesis"} for e in events.values()):
            out.append(name)
    return sorted(out)


def _alarm(
    logical_id: str,
    description: str,
    namespace: str,
    metric: str,
    dimension: tuple[str, str],
    statistic: str,
    threshold: int,
) -> str:
    name, ref = dimension
    return (
        f"  {logical_id}:\n"
        "    Type: AWS::CloudWatch::Alarm\n"
        "    Properties:\n"
        f"      AlarmDescription: {description}\n"
        f"      Namespace: {namespace}\n"
        f"      MetricName: {metric}\n"
        "      Dimensions:\n"
        f"        - Name: {name}\n"
        f"          Value: !Ref {ref}\n"
        f"      Statistic: {statistic}\n"
        f"      Period: {PERIOD_SECONDS}\n"
        "      EvaluationPeriods: 1\n"
        f"      Threshold: {threshold}\n"
        "      ComparisonOperator: GreaterThanThreshold\n"
        "      TreatMissingData: notBreaching\n"
        f"      AlarmActions: {ALARM_ACTIONS}\n"
    )


def blocks(functions: Iterable[str], consumers: Iterable[str], api: str = "HttpApi") -> list[str]:
    out = []
    for fn in sorted(functions):
        out.append(
            _alarm(
                f"{fn}ErrorsAlarm",
                f"{fn} failed (an unhandled exception or a timeout) in the last 5 minutes; its log group says why.",
                "AWS/Lambda",
                "Errors",
                ("FunctionName", fn),
                "Sum",
                0,
            )
        )
        out.append(
            _alarm(
                f"{fn}ThrottlesAlarm",
                f"{fn} was throttled in the last 5 minutes (the account's or its reserved concurrency is used up).",
                "AWS/Lambda",
                "Throttles",
                ("FunctionName", fn),
                "Sum",
                0,
            )
        )
    for fn in sorted(consumers):
        out.append(
            _alarm(
                f"{fn}IteratorAgeAlarm",
                f"{fn} is more than 15 minutes behind the table's stream (slow, or retrying a batch); the stream "
                "keeps records 24 hours.",
                "AWS/Lambda",
                "IteratorAge",
                ("FunctionName", fn),
                "Maximum",
                ITERATOR_AGE_MS,
            )
        )
    out.append(
        _alarm(
            f"{api}5xxAlarm",
            "The HTTP API answered 5xx in the last 5 minutes (a function failed or timed out, or the integration "
            "did); the access log has the request ids.",
            "AWS/ApiGateway",
            "5xx",
            ("ApiId", api),
            "Sum",
            0,
        )
    )
    return out


def section() -> str:
    functions = template.functions()
    return BEGIN + "\n".join(blocks(functions, stream_consumers(functions))) + END


def replace_section(text: str, new_section: str) -> str:
    """``text`` with its generated section replaced (or, the first time, inserted before ``Outputs:``)."""
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        if END not in rest:
            raise SystemExit(f"template.yaml has {BEGIN.strip()!r} without {END.strip()!r}")
        tail = rest.split(END, 1)[1]
        return head + new_section + tail
    head, tail = text.split("\nOutputs:\n", 1)
    return head.rstrip("\n") + "\n\n" + new_section + "\nOutputs:\n" + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the generated section of template.yaml")
    mode.add_argument("--check", action="store_true", help="exit 1 when the section is stale")
    args = parser.parse_args(argv)
    path: Path = template.TEMPLATE
    text = path.read_text()
    wanted = replace_section(text, section())
    if args.check:
        if wanted != text:
            print("template.yaml's generated alarms are stale: run .venv/bin/python -m tools.alarms --write")
            return 1
        print("template.yaml's generated alarms are up to date")
        return 0
    if wanted != text:
        path.write_text(wanted)
        print(f"rewrote the generated alarms of {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
