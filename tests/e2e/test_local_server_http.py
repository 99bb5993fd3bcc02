"""Real HTTP against the local server: what API Gateway answers for methods no route has, malformed
requests and chunked request bodies - over raw sockets, so nothing is tidied up by a client library."""

from __future__ import annotations

import json
import socket
import uuid
from urllib.parse import urlsplit

import pytest

from .conftest import Api

pytestmark = pytest.mark.e2e

NOT_FOUND = {"message": "Not Found"}


def raw(api: Api, request: bytes, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as is on a new connection; the status, headers and body of the first answer."""
    url = urlsplit(api.base)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as s:
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    if "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return int(status_line.split()[1]), headers, body


def test_methods_no_route_has_answer_like_api_gateway(api: Api, operator: str) -> None:
    for method in ("TRACE", "OPTIONS", "PATCH", "CONNECT", "PROPFIND", "BREW", "DELETE"):
        r = api.call(method, "/accounts", operator)
        assert (r.status_code, r.headers["content-type"], r.json()) == (404, "application/json", NOT_FOUND), method
    r = api.call("GET", "/no/such/route")
    assert (r.status_code, r.headers["content-type"], r.json()) == (404, "application/json", NOT_FOUND)


def test_head_answers_the_404_without_a_body(api: Api) -> None:
    status, headers, body = raw(api, b"HEAD /accounts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (status, headers["content-type"], body) == (404, "application/json", b"")
    assert headers["content-length"] == str(len(json.dumps(NOT_FOUND, separators=(",", ":"))))
    # and the connection is still usable for the next request (no stray body in between)
    two = b"HEAD /openapi.json HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    url = urlsplit(api.base)
    with socket.create_connection((url.hostname, url.port), timeout=30) as s:
        s.sendall(two)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 404 Not Found") == 2 and data.endswith(b'{"message":"Not Found"}')


@pytest.mark.parametrize(
    "request_bytes, status",
    [
        (b"POST /accounts HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}", 400),
        (b"POST /accounts HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}", 400),
        (b"POST /accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400),
        (b"POST /accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{}", 413),
        (b"POST /accounts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n{}", 400),
        (b"POST /accounts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400),
        (b"GET /accounts HTTP/9.9\r\nHost: x\r\n\r\n", 505),
        (b"NONSENSE\r\n\r\n", 400),
    ],
)
def test_malformed_requests_get_a_json_error_and_the_server_keeps_serving(
    api: Api, request_bytes: bytes, status: int
) -> None:
    got, headers, body = raw(api, request_bytes)
    assert got == status, body
    assert headers["content-type"] == "application/json" and set(json.loads(body)) == {"message"}
    assert api.call("GET", "/openapi.json").status_code == 200


def test_a_body_shorter_than_its_content_length_does_not_hang_the_server(api: Api) -> None:
    url = urlsplit(api.base)
    with socket.create_connection((url.hostname, url.port), timeout=30) as s:
        s.sendall(b"POST /accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}")
        s.shutdown(socket.SHUT_WR)  # the client gives up mid-body
        assert s.recv(65536) == b""  # closed without an answer, like any server would
    assert api.call("GET", "/openapi.json").status_code == 200


def test_chunked_request_body(api: Api, operator: str) -> None:
    body = json.dumps(
        {"currency": "EUR", "company": {"name": f"Chunked {uuid.uuid4().hex[:6]}"}, "billing_emails": ["c@x.test"]}
    ).encode()
    pieces = [body[:7], body[7:30], body[30:]]
    chunked = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces) + b"0\r\n\r\n"
    head = (
        "POST /accounts HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {operator}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    status, _, answer = raw(api, head + chunked)
    assert status == 201, answer
    created = json.loads(answer)
    assert created["company"]["name"] == json.loads(body)["company"]["name"]

    # requests sends a generator body chunked, too
    def gen():
        yield from pieces

    r = api.call("POST", "/accounts", operator, data=gen(), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
