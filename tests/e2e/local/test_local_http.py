"""The local server's HTTP side: it answers only its own host names (DNS rebinding) and sends the
deployed security headers, read from template.yaml's CloudFront policy, on every response."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from devtools.harness.apigw import ApiResponse
from devtools.local.headers import policy_headers
from devtools.local.hostguard import GuardedEmulator
from devtools.local.server import Handler
from tests.security.test_headers import assert_strict_csp


class FakeApi:
    def request(self, method: str, path: str, body: bytes | None, headers: dict[str, str], query: str) -> Any:
        return ApiResponse(status=200, headers={"Content-Type": "application/json"}, body='{"ok": true}')


@pytest.fixture(scope="module")
def server() -> Iterator[SimpleNamespace]:
    local = SimpleNamespace(port=0, api=FakeApi(), security_headers=policy_headers())
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (Handler,), {"local": local}))
    local.port = int(httpd.server_address[1])
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield local
    httpd.shutdown()
    httpd.server_close()


def call(port: int, method: str, path: str, host: str | None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    if host is not None:
        conn.putheader("Host", host)
    conn.putheader("Content-Length", "0")
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_a_foreign_host_is_refused_so_dns_rebinding_reads_nothing(server: SimpleNamespace) -> None:
    port = server.port
    foreign = [
        "evil.example",
        f"evil.example:{port}",
        f"127.0.0.1.evil.example:{port}",
        f"localhost.evil.example:{port}",
        f"127.0.0.1:{port}@evil.example",
        f"127.0.0.2:{port}",
        f"127.0.0.1:{port + 1 if port < 65535 else port - 1}",
    ]
    for host in foreign:
        for method, path in (("GET", "/"), ("GET", "/_local/mailbox.json"), ("POST", "/api/sessions")):
            status, headers, body = call(port, method, path, host)
            assert status == 421, (host, path, status)
            assert b"<html" not in body and b"ok" not in body, body
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert call(port, "GET", "/", None)[0] == 400, "no Host header"


def test_its_own_host_names_are_answered(server: SimpleNamespace) -> None:
    port = server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", "localhost", f"LocalHost:{port}"):
        assert call(port, "GET", "/", host)[0] == 200, host
        assert call(port, "POST", "/api/sessions", host)[0] == 200, host


def test_every_local_response_carries_the_deployed_security_headers(server: SimpleNamespace) -> None:
    wanted = {k.lower(): v for k, v in policy_headers().items()}
    assert {"content-security-policy", "strict-transport-security", "x-frame-options"} <= set(wanted)
    assert {"x-content-type-options", "referrer-policy", "permissions-policy"} <= set(wanted)
    assert_strict_csp(wanted["content-security-policy"])
    host = f"127.0.0.1:{server.port}"
    for method, path in (
        ("GET", "/"),
        ("GET", "/login.html"),
        ("GET", "/js/login.js"),
        ("GET", "/nothing-here.html"),
        ("POST", "/api/sessions"),
        ("POST", "/login.html"),
    ):
        _, headers, _ = call(server.port, method, path, host)
        for name, value in wanted.items():
            assert headers.get(name) == value, (path, name, headers.get(name))


def test_the_aws_emulator_refuses_a_foreign_host_too() -> None:
    """The emulator holds every table and the sent emails (their tokens): same rule."""
    emulator = GuardedEmulator("127.0.0.1")
    emulator.start()
    try:
        port = emulator.get_host_and_port()[1]
        for host in ("evil.example", f"evil.example:{port}", f"localhost.evil.example:{port}"):
            status, _, body = call(port, "GET", "/moto-api/data.json", host)
            assert status == 421 and b"{" not in body, (host, status)
        assert call(port, "GET", "/moto-api/data.json", f"127.0.0.1:{port}")[0] == 200
        assert call(port, "GET", "/moto-api/data.json", f"localhost:{port}")[0] == 200
    finally:
        emulator.stop()
