"""Schemathesis against the whole API (docs/openapi.json), in process, on the moto stack.

Every operation of the document gets ``FUZZ_EXAMPLES`` generated requests (200 by default;
``FUZZ_EXAMPLES`` in the environment changes it), valid and invalid: no answer is a 5xx, every
answer matches the document (status code, content type, body schema, headers), and every 4xx
has ``code`` and ``message``. Authenticated operations get a live session token on half of
the examples. Requests go to ``ApiGateway.request`` through a small WSGI adapter (the same
event shapes API Gateway sends), so nothing listens on a port.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devtools import openapi
from devtools.harness.apigw import ApiGateway

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))


class WsgiApi:
    """WSGI → API Gateway proxy events → the functions (devtools.harness.apigw); ``api`` is set per test."""

    api: ApiGateway | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("PATH_INFO") == "/openapi.json":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [openapi.OUTPUT.read_bytes()]
        assert self.api is not None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        r = self.api.request(environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"), body, headers)
        start_response(f"{r.status} X", list(r.headers.items()))
        return [r.content]


WSGI = WsgiApi()
schema = schemathesis.openapi.from_wsgi("/openapi.json", WSGI)


def error_bodies_have_code_and_message(ctx: Any, response: Any, case: Any) -> bool | None:
    if case.method.upper() != case.operation.method.upper():
        return None  # a method the route does not have: API Gateway's own 403, no function runs
    if 400 <= response.status_code < 500:
        body = json.loads(response.content)
        assert isinstance(body, dict) and body.get("code") and body.get("message"), response.content[:300]
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    error_bodies_have_code_and_message,
]


@pytest.fixture
def wsgi(api: ApiGateway) -> Iterator[WsgiApi]:
    WSGI.api = api
    yield WSGI
    WSGI.api = None


@pytest.fixture
def session_token(registered):  # type: ignore[no-untyped-def]
    """Mints a live session for the registered candidate (no Argon2 per example)."""
    c, _ = registered()
    from exam_results import tokens
    from exam_results.usecases import identity
    from exam_results.wiring import deps

    original = deps().candidates.get_account(c.id_number)
    assert original is not None

    def mint() -> str:
        # An earlier example may have erased the account (DELETE /me): register it again, so
        # every authenticated example reaches its route with a live session.
        account = deps().candidates.get_account(c.id_number)
        if account is None:
            deps().candidates.create_account(original)
            account = original
        token, record = identity.issue_token("session", account, tokens.SESSION_TTL)
        deps().auth.put_token(record)
        return token

    return mint


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_document_and_never_fails(case, wsgi, session_token):  # type: ignore[no-untyped-def]
    headers = {}
    if case.operation.definition.raw.get("security") and (hash(repr(case.body)) % 2 == 0):
        headers["Authorization"] = f"Bearer {session_token()}"
    case.call_and_validate(app=wsgi, headers=headers, checks=CHECKS)
