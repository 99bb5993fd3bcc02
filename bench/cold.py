"""Cold first invocation of every function, as Lambda runs it: ``python -m bench.cold [--repeats N]``.

For each function of template.yaml, pairs of fresh interpreters (``sys.executable``), interleaved A, B, A, B...:

A. the handler: ``/opt/python`` (shared/) and ``/var/task`` (the function's folder) on ``sys.path``,
   ``LAMBDA_TASK_ROOT`` set, the function's environment as the local server sets it (template.yaml's
   variables; tracing configured as deployed, none of the benchmark's own switches), then import the
   handler module and run its FIRST invocation with a real event: an API Gateway HTTP API v2 event with
   the JWT authorizer's claims for API functions, a DynamoDB stream batch of real table items for the
   notify function, a signed provider webhook for the webhooks function, the schedule's event for the
   scans, an account item's change through its auto top-up level (both images) for the auto top-up
   function, the renewal run on a subscription's renewal day. What each invocation needs (account, product,
   pending deposit, card, subscription) is seeded before, untimed, through the functions' own routes.
   ``EVENTS`` names every function's event (tests/unit/test_bench_events.py keeps it complete).
B. the floor: ``import boto3``, create the DynamoDB client and make the same first DynamoDB call the
   handler makes (operation and parameters recorded from an untimed run of A; nothing if it makes none).

Whole-process wall time of each; the row is the median of A_i / B_i (and its min-max) per function,
target <= 1.3. Every timed invocation must succeed (2xx, no failed stream record) or the row fails.
``cold_start_rows(repeats)`` returns the benchmark table's rows; it expects the environment bench sets
up (DynamoDB Local, ``tools.local_server.prepare``); run as a module it sets that up itself.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import template
from tools.template import ROOT

Row = tuple[str, str, str, bool]
TARGET = 1.3
OPERATOR = {"sub": "bench-operator", "custom:role": "operator"}
# Switches the benchmark (or a test) sets for its own in-process handlers; a cold child gets the template's.
_OWN_SWITCHES = ("POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_LOG_LEVEL", "PYTHONPATH")

# The handler side. argv: shared folder, function folder, module, attribute, event file, record file ("" = no).
_HANDLER = r"""
import sys
shared, folder, module, attr, event_file, record = sys.argv[1:7]
sys.path[:0] = [folder, shared]
if record:
    import json
    import botocore.client

    calls = []
    real = botocore.client.BaseClient._make_api_call

    def spy(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb" and not calls:
            calls.append({"operation": operation, "params": params})
            with open(record, "w") as f:
                json.dump(calls[0], f)
        return real(self, operation, params)

    botocore.client.BaseClient._make_api_call = spy
import importlib
handler = getattr(importlib.import_module(module), attr)
import json


class Context:
    function_name = "bench-cold"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench-cold"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/bench-cold"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self):
        return 10_000


with open(event_file) as f:
    event = json.load(f)
result = handler(event, Context())
summary = {k: result[k] for k in ("statusCode", "batchItemFailures") if isinstance(result, dict) and k in result}
print("BENCH-COLD-RESULT " + json.dumps(summary), file=sys.stderr)
"""

# The floor. argv: operation's method name ("" = none), parameters file.
_BARE = r"""
import sys, os
method, params_file = sys.argv[1:3]
import boto3
client = boto3.client("dynamodb", endpoint_url=os.environ.get("DYNAMODB_ENDPOINT") or None)
if method:
    import json
    with open(params_file) as f:
        params = json.load(f)
    try:
        getattr(client, method)(**params)
    except client.exceptions.ClientError:
        pass  # a write repeated from the recorded run may fail its condition: still one call, answered
"""


# --------------------------------------------------------------------------- in-process seeding (untimed)


class _Ctx:
    function_name = "bench-seed"
    memory_limit_in_mb = 512
    invoked_function_arn = ""
    aws_request_id = "seed"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _route(method: str, path: str) -> template.Route:
    for r in template.routes():
        if r.method == method and r.path == path:
            return r
    raise LookupError(f"{method} {path} is not in template.yaml")


def api_event(
    method: str,
    path_template: str,
    params: dict[str, str] | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    claims: dict[str, Any] | None = OPERATOR,
    raw: bytes | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API v2 event as the local server builds it (after the JWT authorizer)."""
    from tools.local_server import build_event

    r = _route(method, path_template)
    path = path_template
    for k, v in (params or {}).items():
        path = path.replace("{" + k + "}", v)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    hdrs = {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}}
    return build_event(method, r, path, "", hdrs, data, params or {}, None if r.public else claims)


def _call(event: dict[str, Any]) -> dict[str, Any]:
    """Run an API event through its function in this process (seeding); 2xx or an error."""
    from tools.local_server import load_function

    route_key = event["routeKey"].split(" ", 1)
    r = _route(route_key[0], route_key[1])
    got = dict(load_function(r.function, r.code_uri, r.handler)(event, _Ctx()))
    if got.get("statusCode", 500) >= 300:
        raise RuntimeError(f"seeding {event['routeKey']} answered {got.get('statusCode')}: {got.get('body')}")
    return got


def _open_account(balance: int) -> str:
    body = {"currency": "USD", "company": {"name": "Bench cold"}, "billing_emails": ["cold@bench.test"]}
    account_id = str(json.loads(_call(api_event("POST", "/accounts", body=body))["body"])["account_id"])
    if balance:
        _call(_adjustment(account_id, balance))
    return account_id


def _adjustment(account_id: str, amount: int, kind: str = "credit") -> dict[str, Any]:
    return api_event(
        "POST",
        "/accounts/{account_id}/adjustments",
        {"account_id": account_id},
        {"type": kind, "amount": amount, "reason": "bench cold start"},
        {"idempotency-key": uuid.uuid4().hex},
    )


def _customer(account_id: str) -> dict[str, Any]:
    return {"sub": "bench-customer", "custom:role": "customer", "custom:account_id": account_id}


_PRODUCT = "bench-cold-dv-1y"
_product_ready: list[bool] = []


def _product() -> str:
    if not _product_ready:
        body = {"name": "Bench cold DV 1y", "term_months": 12, "prices": {"USD": 100, "EUR": 100}}
        _call(api_event("PUT", "/catalog/products/{code}", {"code": _PRODUCT}, body))
        _product_ready.append(True)
    return _PRODUCT


def _accounts_event() -> dict[str, Any]:
    return _adjustment(_open_account(0), 5_000)


def _order_event() -> dict[str, Any]:
    product = _product()
    account_id = _open_account(100_000)
    body = {"order_id": uuid.uuid4().hex, "channel": "api", "lines": [{"product_code": product, "quantity": 1}]}
    return api_event(
        "POST", "/accounts/{account_id}/orders", {"account_id": account_id}, body, claims=_customer(account_id)
    )


def _catalog_event() -> dict[str, Any]:
    _product()
    return api_event("GET", "/catalog/products", claims=_customer("acc_bench_cold"))


def _deposit_event() -> dict[str, Any]:
    account_id = _open_account(0)
    return api_event(
        "POST",
        "/accounts/{account_id}/deposits",
        {"account_id": account_id},
        {"method": "card", "amount": 5_000},
        {"idempotency-key": uuid.uuid4().hex},
        claims=_customer(account_id),
    )


def _webhook_event() -> dict[str, Any]:
    """A signed ``payment_intent.succeeded`` for a pending card deposit (created through the deposit function)."""
    from account_credit.kernel.money import Money
    from account_credit.platform.payments import sandbox
    from tools.sandbox import local_secrets

    deposit = json.loads(_call(_deposit_event())["body"])
    account_id = deposit["account_id"]
    event = sandbox.payment_succeeded(
        deposit["payment_id"],
        Money(deposit["amount"], deposit["currency"]),
        {"purpose": "deposit", "account_id": account_id, "deposit_id": deposit["deposit_id"]},
    )
    payload, headers = sandbox.SandboxProvider(webhook_secret=local_secrets()["sandbox_webhook_secret"]).signed(event)
    return api_event("POST", "/webhooks/{provider}", {"provider": "sandbox"}, headers=headers, raw=payload)


def _stream_record(
    table: str, new: dict[str, Any], old: dict[str, Any] | None, number: int, name: str
) -> dict[str, Any]:
    """One record as the event source mapping delivers it (images in DynamoDB JSON)."""
    images = {"NewImage": new, **({"OldImage": old} if old is not None else {})}
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": int(time.time()),
            "Keys": {"pk": new["pk"], "sk": new["sk"]},
            **images,
            "SequenceNumber": str(number).zfill(21),
            "SizeBytes": len(json.dumps(new)),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": f"arn:aws:dynamodb:us-east-1:000000000000:table/{table}/stream/bench",
    }


def _stream_event() -> dict[str, Any]:
    """A DynamoDB stream batch as the event source mapping delivers it: the items a card deposit credited
    by its webhook just wrote (the account and its ``deposit.received`` event), with their new images."""
    from account_credit.platform.config import settings
    from account_credit.platform.store.codec import client

    webhook = _webhook_event()
    _call(webhook)
    account_id = json.loads(webhook["body"])["data"]["object"]["metadata"]["account_id"]
    table = settings().table_name
    items = client().query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{account_id}"}},
        ConsistentRead=True,
    )["Items"]
    records: list[dict[str, Any]] = []
    for item in items:
        kind = item.get("kind", {}).get("S")
        if kind not in ("event", "account"):
            continue  # the template's FilterCriteria
        records.append(_stream_record(table, item, None, len(records) + 1, "MODIFY" if kind == "account" else "INSERT"))
    if not any(r["eventName"] == "INSERT" for r in records):
        raise RuntimeError(f"a credited deposit wrote no domain event item: {items}")
    return {"Records": records}


def _sequencer_event() -> dict[str, Any]:
    """The stream record of the account item a card deposit's webhook credit just wrote, with both images (the
    account before it and after, carrying the write's ``last_commit``): the sequencer places its entry."""
    from account_credit.platform.config import settings
    from account_credit.platform.store.codec import client, from_item, to_attr

    webhook = _webhook_event()
    _call(webhook)
    account_id = json.loads(webhook["body"])["data"]["object"]["metadata"]["account_id"]
    table = settings().table_name
    new = client().get_item(
        TableName=table, Key={"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}}, ConsistentRead=True
    )["Item"]
    after = from_item(new)
    last = after["last_commit"]
    old = {
        **new,
        "balance": to_attr(after["balance"] - sum(e["amount"] for e in last)),
        "seq": to_attr(after["seq"] - len(last)),
    }
    return {"Records": [_stream_record(table, new, old, 1, "MODIFY")]}


def _document_event() -> dict[str, Any]:
    """The stream record of a ``document.issued`` event: a tax document just issued for an account; its first
    invocation renders the UBL XML and the PDF and archives both (the documents layer's whole path)."""
    from datetime import date

    from account_credit.billing.document import Document, Kind, Line, Party
    from account_credit.billing.issuing import issue
    from account_credit.billing.tax import Category, Treatment
    from account_credit.platform.config import settings
    from account_credit.platform.store.codec import client
    from account_credit.platform.store.process import store

    account_id = _open_account(0)
    seller = Party(name="Bench seller s.r.o.", country="SK", vat_id="SK2020273893", endpoint="9950:SK2020273893")
    draft = Document(
        number="",
        kind=Kind.TAX_DOCUMENT,
        account_id=account_id,
        currency="USD",
        language="sk",
        issue_date=date.today().isoformat(),
        seller=seller,
        buyer=Party(name="Bench cold", country="SK", email="cold@bench.test"),
        treatment=Treatment(Category.STANDARD, 2300),
        lines=(Line(description="Prepayment received (bank transfer)", quantity=1, net=4_065, vat=935),),
        prepaid=5_000,
    )
    doc, _ = issue(store(), draft, f"bench#{uuid.uuid4().hex}")
    table = settings().table_name
    items = client().query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :e)",
        ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{account_id}"}, ":e": {"S": "EVENT#"}},
        ConsistentRead=True,
    )["Items"]
    issued = [i for i in items if i.get("type", {}).get("S") == "document.issued"]
    if not issued:
        raise RuntimeError(f"issuing {doc.number} wrote no document.issued event")
    return {"Records": [_stream_record(table, issued[0], None, 1, "INSERT")]}


def _documents_api_event() -> dict[str, Any]:
    account_id = _open_account(0)
    return api_event(
        "GET", "/accounts/{account_id}/documents", {"account_id": account_id}, claims=_customer(account_id)
    )


def _purchase_order_event() -> dict[str, Any]:
    account_id = _open_account(0)
    return api_event(
        "POST",
        "/accounts/{account_id}/purchase-orders",
        {"account_id": account_id},
        {"po_number": f"PO-{uuid.uuid4().hex[:8]}", "amount": 10_000},
        {"idempotency-key": uuid.uuid4().hex},
        claims=_customer(account_id),
    )


def _statements_event() -> dict[str, Any]:
    account_id = _open_account(0)
    body = {"from": "2026-01-01", "to": "2026-12-31", "format": "csv", "kind": "summary"}
    return api_event(
        "POST", "/accounts/{account_id}/exports", {"account_id": account_id}, body, {}, claims=_customer(account_id)
    )


def _subscribe(account_id: str) -> dict[str, Any]:
    """A 12-month subscription of the bench product paid from the balance (its first term charged now)."""
    body = {
        "term_months": 12,
        "lines": [{"product_code": _product(), "quantity": 1}],
        "payment_method_id": "balance",
    }
    return api_event(
        "POST",
        "/accounts/{account_id}/subscriptions",
        {"account_id": account_id},
        body,
        {"idempotency-key": uuid.uuid4().hex},
        claims=_customer(account_id),
    )


def _subscriptions_event() -> dict[str, Any]:
    """Create a subscription: its first term is an order paid from the balance (the money-moving route)."""
    return _subscribe(_open_account(100_000))


def _renewals_event() -> dict[str, Any]:
    """The daily renewal run on the day a subscription (created through the subscriptions function, paid from the
    balance) renews: the run walks the renewal index and renews it from the balance. ``today`` and ``account_id``
    are the run's documented inputs (the schedule sets neither): the day its term ends, and its account only, so
    every timed run renews exactly one subscription however many earlier runs left in the table."""
    account_id = _open_account(100_000)
    created = json.loads(_call(_subscribe(account_id))["body"])
    return {"today": created["term_end"], "account_id": account_id}


def _card(account_id: str, exp_month: int = 12, exp_year: int = 2030) -> str:
    """A card the provider holds (sandbox token), registered through the payment-methods route and made the
    account's default; its id."""
    body = {"token": "pm_card_visa", "brand": "visa", "last4": "4242", "exp_month": exp_month, "exp_year": exp_year}
    path = "/accounts/{account_id}/payment-methods"
    added = json.loads(_call(api_event("POST", path, {"account_id": account_id}, body))["body"])
    pm_id = str(added["payment_method_id"])
    prefs = {"default": pm_id, "alternate": "balance"}
    _call(api_event("PUT", path + "/preferences", {"account_id": account_id}, prefs))
    return pm_id


def _auto_top_up_setting(account_id: str) -> dict[str, Any]:
    return api_event(
        "PUT",
        "/accounts/{account_id}/auto-top-up",
        {"account_id": account_id},
        {"enabled": True, "below": 5_000, "amount": 20_000},
        claims=_customer(account_id),
    )


def _auto_top_up_api_event() -> dict[str, Any]:
    """Turn auto top-up on for an account whose default is a card (the setting's write)."""
    account_id = _open_account(0)
    _card(account_id)
    return _auto_top_up_setting(account_id)


def _auto_top_up_event() -> dict[str, Any]:
    """The stream record of an account item whose balance a debit took below its auto top-up level (10,000 to
    4,000, level 5,000), both images: the first invocation charges the default card (sandbox) and credits it as a
    card top-up, in one transaction."""
    from account_credit.platform.config import settings
    from account_credit.platform.store.codec import client

    account_id = _open_account(10_000)
    _card(account_id)
    _call(_auto_top_up_setting(account_id))
    table = settings().table_name

    def account_item() -> dict[str, Any]:
        key = {"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}}
        return dict(client().get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])

    old = account_item()
    _call(_adjustment(account_id, 6_000, "debit"))
    return {"Records": [_stream_record(table, account_item(), old, 1, "MODIFY")]}


def _card_expiry_event() -> dict[str, Any]:
    """The daily scan as its schedule fires it, with a card that expires this month relied on as an account's
    default: the first invocation reads the expiry index and announces that card (a marker and its event)."""
    today = time.gmtime()
    _card(_open_account(0), today.tm_mon, today.tm_year)
    return _schedule_event()


def _billing_run_event() -> dict[str, Any]:
    """The daily run as EventBridge Scheduler delivers its input: the overdue scan and the previous month's
    catch-up (over the billing registry)."""
    return {"run": "overdue"}


def _reconciliation_event() -> dict[str, Any]:
    """The nightly run for one account (as an on-demand run gives it): reads its item, ledger, holds, documents
    and billing runs, and writes its report."""
    return {"account_id": _open_account(0)}


def _reconciliation_api_event() -> dict[str, Any]:
    """An operator reads a day's report (seeded: one run of that day for a fresh account)."""
    from account_credit.platform.store.process import store
    from account_credit.reconciliation import service

    day = service.run(store(), "2026-01-15", _open_account(0)).day
    return api_event("GET", "/reconciliation/reports/{day}", {"day": day})


def _openapi_event() -> dict[str, Any]:
    return api_event("GET", "/openapi.json")


def _portal_event() -> dict[str, Any]:
    return api_event("GET", "/portal", claims=None)


def _schedule_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:000000000000:rule/bench"],
        "detail": {},
    }


# The first request each function is measured with: the money-moving route where it has one.
EVENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "AccountsFunction": _accounts_event,
    "AutoTopUpApiFunction": _auto_top_up_api_event,
    "AutoTopUpFunction": _auto_top_up_event,
    "BillingFunction": _documents_api_event,
    "BillingRunFunction": _billing_run_event,
    "CardExpiryFunction": _card_expiry_event,
    "CatalogFunction": _catalog_event,
    "DepositFunction": _deposit_event,
    "DocumentsFunction": _document_event,
    "NotifyFunction": _stream_event,
    "OpenApiFunction": _openapi_event,
    "PortalFunction": _portal_event,
    "OrderFunction": _order_event,
    "PurchaseOrdersFunction": _purchase_order_event,
    "StatementsFunction": _statements_event,
    "ReconciliationFunction": _reconciliation_event,
    "ReconciliationApiFunction": _reconciliation_api_event,
    "RenewalsFunction": _renewals_event,
    "SequencerFunction": _sequencer_event,
    "SubscriptionsFunction": _subscriptions_event,
    "ThresholdScanFunction": _schedule_event,
    "WebhooksFunction": _webhook_event,
}


def _event_for(name: str, props: dict[str, Any]) -> Callable[[], dict[str, Any]] | None:
    """The function's first event: the table above, else by its event source (a GET route without
    parameters, a stream, a schedule)."""
    if name in EVENTS:
        return EVENTS[name]
    sources = [e.get("Type") for e in (props.get("Events") or {}).values()]
    if "DynamoDB" in sources:
        return _stream_event
    if "Schedule" in sources or "ScheduleV2" in sources:
        return _schedule_event
    for r in template.routes():
        if r.function == name and r.method == "GET" and "{" not in r.path:
            return functools.partial(api_event, "GET", r.path)
    return None


# --------------------------------------------------------------------------- the cold processes


@dataclass(frozen=True)
class Function:
    name: str
    folder: Path
    module: str
    attr: str
    environment: dict[str, str]
    event: Callable[[], dict[str, Any]] | None


def functions(only: list[str] | None = None) -> list[Function]:
    """The functions of template.yaml (``only``: these logical ids)."""
    out = []
    params = {k: str(v.get("Default", "")) for k, v in template.load().get("Parameters", {}).items()}
    for name, props in sorted(template.functions().items()):
        if only and name not in only:
            continue
        module, attr = props["Handler"].rsplit(".", 1)
        env: dict[str, str] = {}
        for key, value in props["EnvironmentVariables"].items():
            value = template.resolve_if(value, {"IsProd": False, "CreateUserPool": True})
            if isinstance(value, dict) and "Ref" in value:
                value = os.environ.get(key, params.get(value["Ref"], ""))
            env[key] = str(value)
        out.append(Function(name, ROOT / props["CodeUri"], module, attr, env, _event_for(name, props)))
    return out


def child_environment(fn: Function, pycache: Path) -> dict[str, str]:
    """This process's environment (the local server's, after ``prepare``) without the benchmark's own
    switches, plus the function's template variables that concern the runtime and what Lambda sets.

    Bytecode is cached (in ``pycache``, not next to the sources): on Lambda the layer and the runtime's
    boto3 ship compiled (pip compiles what it installs), and without it every cold process here would
    spend most of its time compiling source, on both sides."""
    env = {k: v for k, v in os.environ.items() if k not in (*_OWN_SWITCHES, "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    for key in _OWN_SWITCHES:
        if key in fn.environment:
            env[key] = fn.environment[key]
    env.update(
        {
            "LAMBDA_TASK_ROOT": str(fn.folder),
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "_X_AMZN_TRACE_ID": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};"
            f"Parent={uuid.uuid4().hex[:16]};Sampled=1",
        }
    )
    return env


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(code: str, args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of one fresh interpreter running ``code``, and its stderr."""
    c0, t0 = _cpu(), time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=tempfile.gettempdir()
    )
    took, cpu = time.perf_counter() - t0, _cpu() - c0
    if done.returncode != 0:
        raise RuntimeError(f"cold process failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return took, cpu, done.stderr


def _succeeded(stderr: str) -> bool:
    for line in reversed(stderr.splitlines()):
        if line.startswith("BENCH-COLD-RESULT "):
            text = line.removeprefix("BENCH-COLD-RESULT ")
            try:
                result = json.loads(text)
            except ValueError:
                return False
            if "statusCode" in result:
                return int(result["statusCode"]) < 300
            return not result.get("batchItemFailures")
    return False


@dataclass
class Measured:
    function: Function
    ratios: list[float]  # wall time, handler ÷ floor, per pair
    handler_s: list[float]
    bare_s: list[float]
    cpu_ratios: list[float]  # CPU time (user + system), handler ÷ floor, per pair: steadier on a busy machine
    first_call: str
    failures: int


def measure(fn: Function, repeats: int, work: Path) -> Measured:
    """``repeats`` interleaved pairs after one untimed run of each (A's records its first DynamoDB call)."""
    assert fn.event is not None
    env = child_environment(fn, work / "pycache")
    event_file, record_file, params_file = work / "event.json", work / "first-call.json", work / "params.json"
    record_file.unlink(missing_ok=True)

    def handler_args(record: str = "") -> list[str]:
        event_file.write_text(json.dumps(fn.event()))  # type: ignore[misc]
        return [str(ROOT / "shared"), str(fn.folder), fn.module, fn.attr, str(event_file), record]

    _, _, out = _run(_HANDLER, handler_args(str(record_file)), env)
    failures = 0 if _succeeded(out) else 1
    method, first_call = "", "no DynamoDB call"
    if record_file.exists():
        from botocore import xform_name

        first = json.loads(record_file.read_text())
        method, first_call = xform_name(first["operation"]), first["operation"]
        params_file.write_text(json.dumps(first["params"]))
    bare_args = [method, str(params_file)]
    _run(_BARE, bare_args, env)  # untimed: fills the bytecode cache and the OS's file cache, as for A

    m = Measured(fn, [], [], [], [], first_call, failures)
    for _ in range(repeats):
        args = handler_args()
        a, a_cpu, out = _run(_HANDLER, args, env)
        m.failures += 0 if _succeeded(out) else 1
        b, b_cpu, _ = _run(_BARE, bare_args, env)
        m.handler_s.append(a)
        m.bare_s.append(b)
        m.ratios.append(a / b)
        m.cpu_ratios.append(a_cpu / b_cpu)
    return m


def cold_start_rows(repeats: int, only: list[str] | None = None) -> list[Row]:
    """One row per function of template.yaml: (label, measured, target, passed)."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        for fn in functions(only):
            label = f"Cold first invocation: {fn.name} ({fn.folder.relative_to(ROOT)}/{fn.module}.py)"
            if fn.event is None:
                rows.append((label, "no first event known (bench/cold.py EVENTS)", f"<= {TARGET}", False))
                continue
            m = measure(fn, repeats, Path(tmp))
            ratio = statistics.median(m.ratios)
            measured = (
                f"{ratio:.2f} ({min(m.ratios):.2f}-{max(m.ratios):.2f}; "
                f"{statistics.median(m.handler_s) * 1000:.0f} ms ÷ {statistics.median(m.bare_s) * 1000:.0f} ms, "
                f"floor: boto3 + client + {m.first_call}; CPU {statistics.median(m.cpu_ratios):.2f})"
            )
            if m.failures:
                measured += f"; {m.failures} invocation(s) FAILED"
            rows.append(
                (
                    f"{label} ÷ import boto3 + client + its first call, {repeats} interleaved pairs",
                    measured,
                    f"<= {TARGET}",
                    ratio <= TARGET and not m.failures,
                )
            )
    return rows


# --------------------------------------------------------------------------- standalone


def _standalone(repeats: int, only: list[str]) -> list[Row]:
    """DynamoDB Local and the functions' environment, as ``python -m bench`` sets them up."""
    from tools import ddb_local

    port = ddb_local.free_port()
    proc = ddb_local.start(port)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "DYNAMODB_ENDPOINT": endpoint,
            "TABLE_NAME": "bench",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "EMAIL_OUTBOX_DIR": str(ROOT / ".local" / "bench-outbox"),
            "LOCAL_DOCUMENTS_DIR": str(ROOT / ".local" / "bench-documents"),
            "PEPPOL_OUTBOX_DIR": str(ROOT / ".local" / "bench-peppol-outbox"),
        }
    )
    from tools.local_server import prepare

    try:
        prepare(memory=False, ddb_port=port, start_ddb=False)
        return cold_start_rows(repeats, only)
    finally:
        proc.terminate()
        proc.wait(20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9, help="interleaved pairs per function (default 9)")
    parser.add_argument("functions", nargs="*", help="only these functions (logical ids), default all")
    args = parser.parse_args(argv)
    rows = _standalone(args.repeats, args.functions)
    print("| measurement | measured | target | result |\n| --- | --- | --- | --- |")
    for label, measured, target, ok in rows:
        print(f"| {label} | {measured} | {target} | {'pass' if ok else 'MISS'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
