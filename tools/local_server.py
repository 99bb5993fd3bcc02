"""The whole service on this machine: DynamoDB Local + the HTTP API of template.yaml.

    python -m tools.local_server [--port 3000] [--memory]

Routes, handlers and environment come from template.yaml. Each request is verified
like API Gateway's JWT authorizer would (local RS256 key, see tools/localauth.py),
turned into an API Gateway HTTP API v2 event and given to the real handler in-process.
``DYNAMODB_ENDPOINT`` points it at any DynamoDB instead of starting DynamoDB Local.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tools import ddb_local, localauth, sandbox, template

ROOT = template.ROOT
LOCAL = ROOT / ".local"
OUTBOX = LOCAL / "outbox"  # emails land here as .eml files
TABLE = "account-credit-local"


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    aws_request_id: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def function_environment(table: str) -> dict[str, str]:
    """Environment variables of the functions as template.yaml sets them, resolved for local dev."""
    params = {k: str(v.get("Default", "")) for k, v in template.load().get("Parameters", {}).items()}
    conditions = {"IsProd": False, "CreateUserPool": True}
    env: dict[str, str] = {}
    for props in template.functions().values():
        for key, value in props["EnvironmentVariables"].items():
            value = template.resolve_if(value, conditions)
            if isinstance(value, dict) and "Ref" in value:
                value = table if value["Ref"] == "Table" else params.get(value["Ref"], "")
            env[key] = str(value)
    return env


_import_lock = threading.Lock()


def load_function(function: str, code_uri: str, handler: str) -> Any:
    """Import a function's handler module by path (several functions have an app.py), once."""
    module_name, func_name = handler.rsplit(".", 1)
    key = f"fn_{function}_{module_name}"
    with _import_lock:
        module: ModuleType | None = sys.modules.get(key)
        if module is None:
            spec = importlib.util.spec_from_file_location(key, ROOT / code_uri / f"{module_name}.py")
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[key] = module
    return getattr(module, func_name)


def load_handler(route: template.Route) -> Any:
    return load_function(route.function, route.code_uri, route.handler)


def parse_rate(expression: str) -> float:
    """Seconds of an EventBridge ``rate(n unit)`` expression (cron is not run locally)."""
    m = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not m:
        raise ValueError(f"unsupported schedule {expression!r}")
    n, unit = int(m.group(1)), m.group(2).rstrip("s")
    return float(n * {"minute": 60, "hour": 3600, "day": 86400}[unit])


def run_schedules(stop: threading.Event) -> None:
    """Fire every schedule of template.yaml on its cadence (first run one interval after start)."""
    from tools.schedule import fire

    due = {s["event"]: time.monotonic() + parse_rate(s["expression"]) for s in template.schedules()}
    by_name = {s["event"]: s for s in template.schedules()}
    while not stop.wait(1.0):
        for name, at in due.items():
            if time.monotonic() >= at:
                due[name] = at + parse_rate(by_name[name]["expression"])
                try:
                    print(f"schedule {name}: {fire(by_name[name])}", flush=True)
                except Exception as exc:  # noqa: BLE001 - a failed run is reported, the next one still runs
                    print(f"schedule {name} failed: {exc!r}", file=sys.stderr, flush=True)


def invoke_stream_function(fn: dict[str, Any], event: dict[str, Any]) -> Any:
    handler = load_function(fn["function"], fn["code_uri"], fn["handler"])
    return handler(event, LambdaContext(function_name=fn["function"]))


def build_event(
    method: str,
    route: template.Route,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    params: dict[str, str],
    claims: dict[str, Any] | None,
) -> dict[str, Any]:
    qs: dict[str, str] = {}
    for k, v in parse_qsl(query, keep_blank_values=True):
        qs[k] = f"{qs[k]},{v}" if k in qs else v  # API Gateway v2 joins repeated keys with commas
    text_body: str | None
    is_b64 = False
    try:
        text_body = body.decode("utf-8") if body else None
    except UnicodeDecodeError:
        text_body, is_b64 = base64.b64encode(body).decode(), True
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": f"{method} {route.path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "queryStringParameters": qs or None,
        "pathParameters": params or None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{method} {route.path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
            **({"authorizer": {"jwt": {"claims": claims, "scopes": None}}} if claims is not None else {}),
        },
        "body": text_body,
        "isBase64Encoded": is_b64,
    }


class Api:
    def __init__(self) -> None:
        self.routes = template.routes()

    def match(self, method: str, path: str) -> tuple[template.Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            m = route.regex.match(path)
            if m:
                return route, m.groupdict()
        return None

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        found = self.match(method, parts.path)
        if found is None:
            return 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'
        route, params = found
        claims = None
        if not route.public:
            try:
                claims = localauth.verify(headers.get("Authorization") or headers.get("authorization"))
            except ValueError:
                return (
                    401,
                    {"content-type": "application/json", "www-authenticate": "Bearer"},
                    b'{"message":"Unauthorized"}',
                )
        event = build_event(method, route, parts.path, parts.query, headers, body, params, claims)
        ctx = LambdaContext(
            function_name=route.function,
            aws_request_id=event["requestContext"]["requestId"],
            invoked_function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:{route.function}",
        )
        try:
            result = load_handler(route)(event, ctx)
        except Exception as exc:  # noqa: BLE001 - API Gateway answers 500 when the function crashes
            print(f"function {route.function} failed: {exc!r}", file=sys.stderr)
            return 500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
        if not isinstance(result, dict) or "statusCode" not in result:
            return 200, {"content-type": "application/json"}, json.dumps(result).encode()
        out_headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        raw = result.get("body") or ""
        data = (
            base64.b64decode(raw)
            if result.get("isBase64Encoded")
            else (raw if isinstance(raw, str) else json.dumps(raw)).encode()
        )
        return int(result["statusCode"]), out_headers, data


def make_http_server(api: Api, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, data = api.handle(self.command, self.path, dict(self.headers.items()), body)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, fmt: str, *args: Any) -> None:
            if os.environ.get("LOCAL_SERVER_QUIET") != "1":
                sys.stderr.write(f"{self.address_string()} {fmt % args}\n")

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def prepare(memory: bool, ddb_port: int, start_ddb: bool = True) -> Any:
    """Point the functions at a DynamoDB (given, or a DynamoDB Local started here) and set their env."""
    proc = None
    sys.path.insert(0, str(ROOT / "shared"))
    os.environ.setdefault("EMAIL_OUTBOX_DIR", str(OUTBOX))
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_REGION", "us-east-1")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # Deposits: the sandbox provider and dev-only webhook secrets / seller details (before the template's defaults).
    for key, value in sandbox.local_environment().items():
        os.environ.setdefault(key, value)
    for key, value in function_environment(TABLE).items():
        os.environ.setdefault(key, value)
    if memory:
        os.environ["STORE"] = "memory"
        return None
    endpoint = os.environ.get("DYNAMODB_ENDPOINT")
    if not endpoint and start_ddb:
        proc = ddb_local.start(ddb_port, str(LOCAL / "ddb"))
        endpoint = f"http://127.0.0.1:{ddb_port}"
        os.environ["DYNAMODB_ENDPOINT"] = endpoint
    if not endpoint:
        raise SystemExit("set DYNAMODB_ENDPOINT (or let the server start DynamoDB Local)")
    ddb_local.ensure_table(endpoint, os.environ["TABLE_NAME"])
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--ddb-port", type=int, default=int(os.environ.get("DDB_PORT", "8000")))
    parser.add_argument("--memory", action="store_true", help="in-memory store instead of DynamoDB (nothing kept)")
    parser.add_argument("--no-schedules", action="store_true", help="do not fire the schedules on their cadence")
    parser.add_argument("--no-streams", action="store_true", help="do not feed the table stream to functions")
    args = parser.parse_args()
    proc = prepare(args.memory, args.ddb_port)
    stop = threading.Event()
    if not args.memory and not args.no_streams:
        from tools.streams import StreamPoller

        poller = StreamPoller(
            os.environ["DYNAMODB_ENDPOINT"],
            os.environ["TABLE_NAME"],
            invoke_stream_function,
            LOCAL / f"stream-checkpoint-{os.environ['TABLE_NAME']}.json",
        )
        poller.start()
    if not args.no_schedules:
        threading.Thread(target=run_schedules, args=(stop,), daemon=True, name="schedules").start()
    api = Api()
    server = make_http_server(api, args.host, args.port)
    base = f"http://{args.host}:{args.port}"
    backend = (
        "in-memory store"
        if args.memory
        else f"DynamoDB at {os.environ['DYNAMODB_ENDPOINT']}, table {os.environ['TABLE_NAME']}"
    )
    token = localauth.mint("operator")
    print(f"Account Credit API listening on {base} ({backend})", flush=True)
    print(f"{len(api.routes)} routes from template.yaml; emails land in {os.environ['EMAIL_OUTBOX_DIR']}", flush=True)
    print(
        "Schedules on their cadence; fire one now with: .venv/bin/python -m tools.schedule LowBalanceScan", flush=True
    )
    print("Try:", flush=True)
    print(f"  curl -s {base}/openapi.json | head -c 300", flush=True)
    print("  TOKEN=$(.venv/bin/python -m tools.localauth operator)   # or: make token ROLE=operator", flush=True)
    print(
        f"  curl -s -X POST {base}/accounts -H \"Authorization: Bearer $TOKEN\" -H 'content-type: application/json' "
        '-d \'{"currency":"USD","company":{"name":"Acme"},"billing_emails":["billing@acme.test"]}\'',
        flush=True,
    )
    del token
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.shutdown()
        if proc is not None:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
