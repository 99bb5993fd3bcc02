"""The whole service on this machine: DynamoDB Local + the HTTP API of template.yaml.

    python -m tools.local_server [--port 3000] [--memory]   # make run / make run-memory
    python -m tools.local_server stop                        # make stop: stop DynamoDB Local (data kept)
    python -m tools.local_server status

Routes, handlers and environment come from template.yaml. Each request is verified like API Gateway's
JWT authorizer would (local RS256 key, see tools/localauth.py) and turned into an API Gateway HTTP API
v2 event. Like Lambda, every function runs in its own instances: worker processes started on demand
(a cold start), reused while idle (warm), each serving ONE invocation at a time, at most
``LOCAL_MAX_INSTANCES`` per function (more requests wait for an idle one). A crash or a run past the
function's Timeout kills the instance and answers 500 like API Gateway. This process never runs a
handler itself: the HTTP routes, the table stream (tools/streams.py) and the schedules all invoke
through the instances.

DynamoDB Local runs in its own session with its data in ``$LOCAL_STATE_DIR/ddb``: stopping or killing
the server leaves it running, the next run reuses it, ``stop`` ends it. ``--memory`` starts a private
in-memory DynamoDB Local that ends with the server (nothing kept). ``DYNAMODB_ENDPOINT`` points the
functions at any DynamoDB instead.

Schedules: rate(...) ones fire on their cadence; cron(...) ones (the monthly billing, the overdue scan) are not
fired locally - ``python -m tools.schedule <EventName> [--input JSON]`` fires any schedule on demand.

Environment: PORT (3000), DDB_PORT (8000), LOCAL_STATE_DIR (<repo>/.local: DynamoDB Local's data, its
pid record and log, stream checkpoints, the email outbox, the archived documents), EMAIL_OUTBOX_DIR
($LOCAL_STATE_DIR/outbox), LOCAL_DOCUMENTS_DIR ($LOCAL_STATE_DIR/documents: the archive of issued documents that
S3 is in AWS), LOCAL_MAX_INSTANCES (8), LOCAL_FUNCTION_TIMEOUT (seconds for every function instead of the
template's), LOCAL_DEV_LOGIN (true: the portal's development login and sandbox checkout, tools/devportal.py).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tools import ddb_local, devportal, localauth, sandbox, template

ROOT = template.ROOT
TABLE = "account-credit-local"
DEFAULT_MAX_INSTANCES = 8
IDLE_SECONDS = 600.0  # an instance idle this long is ended (memory back after a load test)
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
JSON = "application/json"


def state_dir() -> Path:
    """Where the local stack keeps what it runs on: ``LOCAL_STATE_DIR`` or <repo>/.local."""
    return Path(os.environ.get("LOCAL_STATE_DIR") or ROOT / ".local").expanduser().resolve()


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    aws_request_id: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"
    deadline_ms: float = 0.0  # epoch milliseconds the invocation times out at (0: 10 s from now)

    def get_remaining_time_in_millis(self) -> int:
        if not self.deadline_ms:
            return 10_000
        return max(0, int(self.deadline_ms - time.time() * 1000))


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


def parse_rate(expression: str) -> float:
    """Seconds of an EventBridge ``rate(n unit)`` expression (cron is not run locally)."""
    m = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not m:
        raise ValueError(f"unsupported schedule {expression!r}")
    n, unit = int(m.group(1)), m.group(2).rstrip("s")
    return float(n * {"minute": 60, "hour": 3600, "day": 86400}[unit])


def is_cron(expression: str) -> bool:
    """A ``cron(...)`` expression: fired on demand only (``python -m tools.schedule``), never on a cadence here."""
    return re.fullmatch(r"cron\(.+\)", expression.strip()) is not None


# --- function instances: one worker process per concurrent invocation, like Lambda ----------------


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    code_uri: str
    handler: str
    timeout: float = 10.0  # seconds, template.yaml's Timeout
    memory: int = 512


def function_specs() -> dict[str, FunctionSpec]:
    """Every function of template.yaml; ``LOCAL_FUNCTION_TIMEOUT`` replaces each Timeout (slow machines)."""
    override = os.environ.get("LOCAL_FUNCTION_TIMEOUT")
    out = {}
    for name, props in template.functions().items():
        timeout = float(override) if override else float(props.get("Timeout", 3))
        out[name] = FunctionSpec(name, props["CodeUri"], props["Handler"], timeout, int(props.get("MemorySize", 128)))
    return out


class InvokeError(Exception):
    """The invocation failed (crash, timeout, unhandled exception): API Gateway answers 500."""


def _watch_parent(ppid: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != ppid:  # the server is gone (even SIGKILLed): so is this instance
            os._exit(0)


def instance_main(fd: int, function: str, code_uri: str, handler: str) -> None:
    """One instance of a function: import it (init), then serve invocations one by one until EOF."""
    conn = Connection(fd)
    shared = str(ROOT / "shared")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C hits the terminal's whole group; the server ends us
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True, name="watch-parent").start()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if shared not in sys.path:
        sys.path.insert(0, shared)
    try:
        fn = load_function(function, code_uri, handler)
    except BaseException as exc:  # noqa: BLE001 - reported to the server as a failed init
        traceback.print_exc()
        with contextlib.suppress(OSError):
            conn.send(("init_error", repr(exc)))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            event, fields = conn.recv()
        except (EOFError, OSError):
            return  # the server closed the pipe or went away
        reply: tuple[str, Any]
        try:
            reply = ("ok", fn(event, LambdaContext(**fields)))
        except Exception as exc:  # noqa: BLE001 - like the Lambda runtime: log it, report an error
            traceback.print_exc()
            reply = ("error", repr(exc))
        try:
            conn.send(reply)
        except (BrokenPipeError, EOFError, OSError):
            return
        except Exception as exc:  # noqa: BLE001 - e.g. a result pickle cannot carry
            conn.send(("error", f"result not serialisable: {exc!r}"))


class _Instance:
    """A worker process (one warm execution environment of a function) and its end of a socket pair.

    The process is ``python -m tools.local_server instance ...`` (it shows as such in ps): it imports
    nothing of whoever started it, and inherits the environment and the terminal (its logs)."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        parent, child = socket.socketpair()
        fd = child.fileno()
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tools.local_server",
                    "instance",
                    str(fd),
                    spec.name,
                    spec.code_uri,
                    spec.handler,
                ],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                pass_fds=[fd],
            )
        finally:
            child.close()
        self.conn = Connection(parent.detach())
        self.idle_since = time.monotonic()

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout):
            raise InvokeError(f"init did not finish within {timeout:.0f} s")
        try:
            kind, detail = self.conn.recv()
        except (EOFError, OSError):
            raise InvokeError(f"init crashed ({self.exit_status()})") from None
        if kind != "ready":
            raise InvokeError(f"init failed: {detail}")

    def exit_status(self) -> str:
        try:
            code = self.proc.wait(2)
        except subprocess.TimeoutExpired:
            return "still running"
        return f"killed by signal {-code}" if code < 0 else f"exit code {code}"

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)

    def close(self) -> None:
        """Let the instance exit on its own (EOF on its socket)."""
        with contextlib.suppress(OSError):
            self.conn.close()


class FunctionPool:
    """The instances of one function: at most ``max_instances``, each serving one invocation at a time."""

    def __init__(self, spec: FunctionSpec, max_instances: int) -> None:
        self.spec = spec
        self.max_instances = max(1, max_instances)
        self.init_timeout = max(spec.timeout, 60.0)
        self._idle: list[_Instance] = []
        self._all: set[_Instance] = set()
        self._count = 0  # instances alive or starting
        self._cond = threading.Condition()
        self._closed = False
        self.cold_starts = 0

    def _acquire(self) -> _Instance:
        with self._cond:
            while True:
                if self._closed:
                    raise InvokeError("the server is stopping")
                if self._idle:
                    return self._idle.pop()  # the most recently used one: the warmest
                if self._count < self.max_instances:
                    self._count += 1
                    self.cold_starts += 1
                    break
                self._cond.wait()
        inst: _Instance | None = None
        try:
            inst = _Instance(self.spec)
            with self._cond:
                self._all.add(inst)
            inst.wait_ready(self.init_timeout)
            return inst
        except BaseException:
            self._discard(inst)
            raise

    def _discard(self, inst: _Instance | None) -> None:
        if inst is not None:
            inst.kill()
        with self._cond:
            if inst is not None:
                self._all.discard(inst)
            self._count -= 1
            self._cond.notify()

    def _release(self, inst: _Instance) -> None:
        with self._cond:
            if not self._closed:
                inst.idle_since = time.monotonic()
                self._idle.append(inst)
                self._cond.notify()
                return
        self._discard(inst)

    def invoke(self, event: Any, request_id: str | None = None) -> Any:
        """The handler's result, or InvokeError (it raised, crashed or ran past its timeout)."""
        inst = self._acquire()
        request_id = request_id or str(uuid.uuid4())
        fields = {
            "function_name": self.spec.name,
            "memory_limit_in_mb": self.spec.memory,
            "invoked_function_arn": f"arn:aws:lambda:us-east-1:000000000000:function:{self.spec.name}",
            "aws_request_id": request_id,
            "log_group_name": f"/aws/lambda/{self.spec.name}",
            "deadline_ms": time.time() * 1000 + self.spec.timeout * 1000,
        }
        healthy = False
        try:
            inst.conn.send((event, fields))
            if not inst.conn.poll(self.spec.timeout):
                raise InvokeError(f"timed out after {self.spec.timeout:g} s (instance killed)")
            kind, value = inst.conn.recv()
            healthy = True
        except (EOFError, OSError):
            raise InvokeError(f"the instance crashed ({inst.exit_status()})") from None
        finally:
            if healthy:
                self._release(inst)
            else:  # crashed, timed out, or the event could not even be sent: never reuse it
                self._discard(inst)
        if kind == "ok":
            return value
        raise InvokeError(f"unhandled error {value}")

    def reap_idle(self, max_idle: float) -> int:
        """End the instances idle for longer than ``max_idle`` seconds (Lambda recycles them too)."""
        now = time.monotonic()
        with self._cond:
            stale = [i for i in self._idle if now - i.idle_since > max_idle]
            self._idle = [i for i in self._idle if i not in stale]
        for inst in stale:
            self._discard(inst)
        return len(stale)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            instances = list(self._all)
            self._idle.clear()
            self._cond.notify_all()
        for inst in instances:
            inst.close()
        deadline = time.monotonic() + 5
        for inst in instances:
            with contextlib.suppress(subprocess.TimeoutExpired):
                inst.proc.wait(max(0.0, deadline - time.monotonic()))
            inst.kill()

    def pids(self) -> list[int]:
        with self._cond:
            return [i.proc.pid for i in self._all]


class Functions:
    """Every function of template.yaml, each with its own pool of instances (created on first use)."""

    def __init__(self, max_instances: int | None = None, specs: dict[str, FunctionSpec] | None = None) -> None:
        self.specs = specs if specs is not None else function_specs()
        env_max = os.environ.get("LOCAL_MAX_INSTANCES")
        self.max_instances = max_instances or (int(env_max) if env_max else DEFAULT_MAX_INSTANCES)
        self._pools: dict[str, FunctionPool] = {}
        self._lock = threading.Lock()

    def pool(self, function: str) -> FunctionPool:
        with self._lock:
            pool = self._pools.get(function)
            if pool is None:
                pool = self._pools[function] = FunctionPool(self.specs[function], self.max_instances)
            return pool

    def invoke(self, function: str, event: Any, request_id: str | None = None) -> Any:
        return self.pool(function).invoke(event, request_id)

    def reap_idle(self, max_idle: float = IDLE_SECONDS) -> int:
        with self._lock:
            pools = list(self._pools.values())
        return sum(pool.reap_idle(max_idle) for pool in pools)

    def close(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
        for pool in pools:
            pool.close()


# --- schedules and the table stream, invoked through the instances --------------------------------


def run_schedules(stop: threading.Event, invoke: Callable[[str, Any], Any]) -> None:
    """Fire every rate(...) schedule of template.yaml on its cadence (first run one interval after start). The
    cron(...) ones - calendar runs such as the monthly billing - are left to ``python -m tools.schedule``: a dev
    server is rarely up at 03:00 on the 1st, and a billing run should not start by surprise."""
    from tools.schedule import fire

    schedules = template.schedules()
    cron = [s["event"] for s in schedules if is_cron(s["expression"])]
    if cron:
        print(
            f"schedules {', '.join(cron)} (cron) are not fired locally; fire one with: "
            ".venv/bin/python -m tools.schedule <name> [--input JSON]",
            flush=True,
        )
    by_name = {s["event"]: s for s in schedules if s["event"] not in cron}
    due = {name: time.monotonic() + parse_rate(s["expression"]) for name, s in by_name.items()}
    while not stop.wait(1.0):
        for name, at in due.items():
            if time.monotonic() >= at:
                due[name] = at + parse_rate(by_name[name]["expression"])
                try:
                    print(f"schedule {name}: {fire(by_name[name], invoke)}", flush=True)
                except Exception as exc:  # noqa: BLE001 - a failed run is reported, the next one still runs
                    print(f"schedule {name} failed: {exc}", file=sys.stderr, flush=True)


# --- API Gateway HTTP API (payload format 2.0) ------------------------------------------------------


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
    lower = {k.lower(): v for k, v in headers.items()}
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": lower,
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
                "userAgent": lower.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
            **({"authorizer": {"jwt": {"claims": claims, "scopes": None}}} if claims is not None else {}),
        },
        "body": text_body,
        "isBase64Encoded": is_b64,
    }
    if "cookie" in lower:
        event["cookies"] = [c.strip() for c in lower["cookie"].split(";") if c.strip()]
    return event


Headers = list[tuple[str, str]]


def _message(status: int) -> tuple[int, Headers, bytes]:
    """API Gateway's own answers: {"message": "<reason phrase>"}."""
    body = json.dumps({"message": HTTPStatus(status).phrase}, separators=(",", ":"))
    return status, [("content-type", JSON)], body.encode()


class Api:
    def __init__(self, invoke: Callable[[str, Any, str], Any]) -> None:
        self.routes = template.routes()
        self.invoke = invoke  # (function, event, request id) -> result, or InvokeError

    def match(self, method: str, path: str) -> tuple[template.Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method not in (method, "ANY"):
                continue
            m = route.regex.match(path)
            if m:
                return route, m.groupdict()
        return None

    def handle(self, method: str, raw_path: str, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        parts = urlsplit(raw_path)
        joined: dict[str, str] = {}
        for k, v in headers:  # API Gateway lower-cases header names and joins repeated ones with commas
            k = k.lower()
            joined[k] = f"{joined[k]},{v}" if k in joined else v
        local = devportal.handle(method, parts.path, joined, body)  # the portal's dev login + sandbox checkout
        if local is not None:
            return local
        found = self.match(method, parts.path)
        if found is None:
            return _message(404)
        route, params = found
        claims = None
        if not route.public:
            try:
                claims = localauth.verify(joined.get("authorization"))
            except ValueError:
                status, hdrs, data = _message(401)
                return status, [*hdrs, ("www-authenticate", "Bearer")], data
        event = build_event(method, route, parts.path, parts.query, joined, body, params, claims)
        try:
            result = self.invoke(route.function, event, event["requestContext"]["requestId"])
        except InvokeError as exc:  # API Gateway answers 500 when the integration fails
            print(f"function {route.function} failed: {exc} ({method} {parts.path})", file=sys.stderr, flush=True)
            return _message(500)
        return response_of(result)


def response_of(result: Any) -> tuple[int, Headers, bytes]:
    """The HTTP answer API Gateway makes of a payload format 2.0 result."""
    if not isinstance(result, dict) or "statusCode" not in result:
        body = result if isinstance(result, str) else json.dumps(result)
        return 200, [("content-type", JSON)], body.encode()
    out: Headers = [(k.lower(), str(v)) for k, v in (result.get("headers") or {}).items()]
    for k, values in (result.get("multiValueHeaders") or {}).items():
        out += [(k.lower(), str(v)) for v in values]
    out += [("set-cookie", str(c)) for c in result.get("cookies") or []]
    raw = result.get("body") or ""
    if result.get("isBase64Encoded"):
        data = base64.b64decode(raw)
    else:
        data = (raw if isinstance(raw, str) else json.dumps(raw)).encode()
    return int(result["statusCode"]), out, data


class BadRequest(Exception):
    def __init__(self, status: int = 400) -> None:
        super().__init__(status)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "account-credit-local"
    timeout = 120  # a client that stops sending mid-request does not hold a thread forever
    api: Api

    def version_string(self) -> str:
        return self.server_version

    def __getattr__(self, name: str) -> Any:
        # Every method (TRACE, OPTIONS, HEAD, BREW...) goes through the routes: API Gateway answers
        # 404 {"message":"Not Found"} for one no route has, never 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        te = self.headers.get_all("Transfer-Encoding") or []
        if te:
            codings = [c.strip().lower() for v in te for c in v.split(",") if c.strip()]
            if codings != ["chunked"]:
                raise BadRequest(400)  # only chunked is supported (as by API Gateway)
            return self._read_chunked()
        lengths = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not lengths:
            return b""
        if len(lengths) != 1 or not next(iter(lengths)).isdigit():
            raise BadRequest(400)
        length = int(next(iter(lengths)))
        if length > MAX_BODY:
            raise BadRequest(413)
        body = self.rfile.read(length)
        if len(body) != length:
            raise ConnectionError("client closed the connection mid-body")
        return body

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(1026)
            if not line.endswith(b"\n"):
                raise BadRequest(400)
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadRequest(400) from None
            if size < 0 or size_text.startswith((b"-", b"+", b"0x", b"0X")):
                raise BadRequest(400)
            if size == 0:
                break
            if len(body) + size > MAX_BODY:
                raise BadRequest(413)
            chunk = self.rfile.read(size)
            if len(chunk) != size:
                raise ConnectionError("client closed the connection mid-chunk")
            body += chunk
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise BadRequest(400)
        for _ in range(100):  # trailer fields, then the empty line
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                return bytes(body)
        raise BadRequest(400)

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except BadRequest as exc:
            self.close_connection = True
            self._send(*_message(exc.status))
            return
        except (ConnectionError, TimeoutError):
            self.close_connection = True
            return
        try:
            status, headers, data = self.api.handle(self.command, self.path, list(self.headers.items()), body)
        except Exception:  # noqa: BLE001 - a bug here must not take the connection down without an answer
            traceback.print_exc()
            status, headers, data = _message(500)
        self._send(status, headers, data)

    def _send(self, status: int, headers: Headers, data: bytes) -> None:
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in {"content-length", "transfer-encoding", "connection"}:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The server's own errors (malformed request line, headers too long...) as API Gateway's JSON."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # not parsed (yet): answer with a status line all the same
            self.request_version = "HTTP/1.1"
        try:
            status, headers, data = _message(code)
        except ValueError:
            status, headers, data = _message(400)
        self.log_error("code %d, message %s", code, message)
        self._send(status, headers, data)

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("LOCAL_SERVER_QUIET") != "1":
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


class LocalHttpServer(ThreadingHTTPServer):
    request_queue_size = 1024  # the listen backlog: hundreds of concurrent clients are not refused
    daemon_threads = True
    allow_reuse_address = True


def make_http_server(api: Api, host: str, port: int) -> LocalHttpServer:
    handler = type("Handler", (_Handler,), {"api": api})
    return LocalHttpServer((host, port), handler)


# --- start, stop ------------------------------------------------------------------------------------


def local_endpoint(ddb_port: int | None = None) -> str:
    """The DynamoDB this machine's stack uses: DYNAMODB_ENDPOINT, else the recorded DynamoDB Local of the
    state directory, else DDB_PORT."""
    given = os.environ.get("DYNAMODB_ENDPOINT")
    if given:
        return given
    rec = ddb_local.running(state_dir())
    if rec is not None:
        return str(rec["endpoint"])
    return f"http://127.0.0.1:{ddb_port or int(os.environ.get('DDB_PORT', '8000'))}"


def prepare(memory: bool, ddb_port: int, start_ddb: bool = True) -> dict[str, Any] | None:
    """Point the functions at a DynamoDB and set their environment (inherited by every instance).

    Returns the DynamoDB Local in use ({pid, port, endpoint, started, ...}), None for a given endpoint."""
    state = state_dir()
    shared = str(ROOT / "shared")
    if shared not in sys.path:
        sys.path.insert(0, shared)
    os.environ.setdefault("EMAIL_OUTBOX_DIR", str(state / "outbox"))
    # The archive of issued documents (S3 in AWS): DOCUMENTS_BUCKET resolves to "" here, so this folder is used.
    os.environ.setdefault("LOCAL_DOCUMENTS_DIR", str(state / "documents"))
    os.environ.setdefault("LOCAL_DEV_LOGIN", "true")  # the portal's development login (tools/devportal.py)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_REGION", "us-east-1")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # Deposits: the sandbox provider and dev-only webhook secrets / seller details (before the template's defaults).
    for key, value in sandbox.local_environment().items():
        os.environ.setdefault(key, value)
    for key, value in function_environment(TABLE).items():
        os.environ.setdefault(key, value)
    info: dict[str, Any] | None = None
    if memory:
        # Each function instance is its own process, so "in memory" is a private DynamoDB Local without
        # a data directory that ends with this server.
        os.environ.pop("STORE", None)
        port = ddb_local.free_port()
        proc = ddb_local.start(port, None, die_with_parent=True)
        os.environ["DYNAMODB_ENDPOINT"] = f"http://127.0.0.1:{port}"
        info = {"pid": proc.pid, "port": port, "endpoint": os.environ["DYNAMODB_ENDPOINT"], "proc": proc}
    elif not os.environ.get("DYNAMODB_ENDPOINT") and start_ddb:
        rec, started = ddb_local.ensure_running(state, ddb_port)
        os.environ["DYNAMODB_ENDPOINT"] = rec["endpoint"]
        info = {**rec, "started": started}
    endpoint = os.environ.get("DYNAMODB_ENDPOINT")
    if not endpoint:
        raise SystemExit("set DYNAMODB_ENDPOINT (or let the server start DynamoDB Local)")
    ddb_local.ensure_table(endpoint, os.environ["TABLE_NAME"])
    return info


def _reap_idle(stop: threading.Event, functions: Functions) -> None:
    while not stop.wait(30):
        functions.reap_idle()


class _Stop(Exception):
    """SIGTERM: shut down like on Ctrl-C."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Stop()


def serve(args: argparse.Namespace) -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    started_at = time.monotonic()
    functions = Functions()
    api = Api(functions.invoke)
    try:
        server = make_http_server(api, args.host, args.port)
    except OSError as exc:
        raise SystemExit(f"cannot listen on {args.host}:{args.port}: {exc.strerror} (set PORT)") from None
    ddb: dict[str, Any] | None = None
    stop = threading.Event()
    poller = None
    thread: threading.Thread | None = None
    try:
        ddb = prepare(args.memory, args.ddb_port)
        table = os.environ["TABLE_NAME"]
        if not args.no_streams:
            from tools.streams import StreamPoller

            def deliver(fn: dict[str, Any], event: dict[str, Any]) -> Any:
                return functions.invoke(fn["function"], event)

            poller = StreamPoller(
                os.environ["DYNAMODB_ENDPOINT"], table, deliver, state_dir() / f"stream-checkpoint-{table}.json"
            )
            poller.start()
        if not args.no_schedules:
            threading.Thread(target=run_schedules, args=(stop, functions.invoke), daemon=True, name="schedules").start()
        threading.Thread(target=_reap_idle, args=(stop, functions), daemon=True, name="reaper").start()
        thread = threading.Thread(target=server.serve_forever, daemon=True, name="http")
        thread.start()
        banner(args, ddb, len(api.routes), functions, time.monotonic() - started_at)
        while thread.is_alive():
            thread.join(0.5)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop.set()
        if thread is not None:
            server.shutdown()  # waits for serve_forever: only once it runs
        server.server_close()
        if poller is not None:
            poller.stop.set()
            poller.join(5)  # let a delivery in flight finish (its checkpoint is saved after it)
        functions.close()
        if ddb and ddb.get("proc") is not None:
            ddb["proc"].terminate()
            with contextlib.suppress(Exception):
                ddb["proc"].wait(10)
            print("Stopped; the in-memory DynamoDB Local is gone with it.", flush=True)
        elif ddb:
            print(
                f"Stopped the API. DynamoDB Local (pid {ddb['pid']}, port {ddb['port']}) keeps running for the "
                "next `make run`; `make stop` stops it.",
                flush=True,
            )


def banner(args: argparse.Namespace, ddb: dict[str, Any] | None, routes: int, fns: Functions, took: float) -> None:
    base = f"http://{args.host}:{args.port}"
    endpoint, table = os.environ["DYNAMODB_ENDPOINT"], os.environ["TABLE_NAME"]
    if ddb is None:
        backend = f"DynamoDB at {endpoint}"
    elif ddb.get("proc") is not None:
        backend = f"in-memory DynamoDB Local at {endpoint} (nothing kept)"
    else:
        how = "started" if ddb.get("started") else "reused"
        backend = f"DynamoDB Local at {endpoint} ({how}, pid {ddb['pid']}, data in {ddb['data_dir']})"
    lines = [
        f"Account Credit API listening on {base} ({backend}, table {table}; ready in {took:.1f} s)",
        f"{routes} routes from template.yaml; up to {fns.max_instances} instances per function "
        "(LOCAL_MAX_INSTANCES); emails land in "
        + os.environ["EMAIL_OUTBOX_DIR"]
        + ", documents in "
        + os.environ["LOCAL_DOCUMENTS_DIR"],
        "rate() schedules on their cadence, cron() ones on demand; fire any now with: "
        ".venv/bin/python -m tools.schedule LowBalanceScan (list: .venv/bin/python -m tools.schedule)",
        f"Portal: {base}/portal (development login, local only: sign in as a customer, partner or operator)",
        "Try:",
        f"  curl -s {base}/openapi.json | head -c 300",
        "  TOKEN=$(.venv/bin/python -m tools.localauth operator)   # or: make token ROLE=operator",
        f"  curl -s -X POST {base}/accounts -H \"Authorization: Bearer $TOKEN\" -H 'content-type: application/json' "
        '-d \'{"currency":"USD","company":{"name":"Acme"},"billing_emails":["billing@acme.test"]}\'',
    ]
    if ddb is not None and ddb.get("proc") is None:
        lines.append("Ctrl-C stops the API; DynamoDB Local keeps running for the next `make run` (`make stop`).")
    print("\n".join(lines), flush=True)


def status() -> int:
    state = state_dir()
    rec = ddb_local.running(state)
    if rec is None:
        print(f"DynamoDB Local of {state} is not running")
        return 1
    answering = "answers" if ddb_local.answers(rec["endpoint"]) else "does NOT answer"
    print(f"DynamoDB Local of {state}: pid {rec['pid']}, {answering} on {rec['endpoint']}, data in {rec['data_dir']}")
    return 0


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["instance"]:  # a function instance started by a server (see _Instance)
        fd, function, code_uri, handler = argv[1:]
        instance_main(int(fd), function, code_uri, handler)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="run", choices=["run", "stop", "status"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--ddb-port", type=int, default=int(os.environ.get("DDB_PORT", "8000")))
    parser.add_argument("--memory", action="store_true", help="private in-memory DynamoDB Local (nothing kept)")
    parser.add_argument("--no-schedules", action="store_true", help="do not fire the schedules on their cadence")
    parser.add_argument("--no-streams", action="store_true", help="do not feed the table stream to functions")
    args = parser.parse_args(argv)
    if args.command == "stop":
        print(ddb_local.stop(state_dir()))
    elif args.command == "status":
        raise SystemExit(status())
    else:
        serve(args)


if __name__ == "__main__":
    main()
