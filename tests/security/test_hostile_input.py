"""Hand-written hostile input on every route: never a 5xx, every refusal with code and message."""

from __future__ import annotations

import json

import pytest

from devtools.harness.apigw import ApiGateway

VALID = {
    "/registrations": {
        "id_number": "ABC123456",
        "secret_number": "4821",
        "email": "jane@example.com",
        "password": "Correct-Horse-42",
        "confirm_password": "Correct-Horse-42",
        "accept_terms": True,
        "newsletter_opt_in": False,
    },
    "/registrations/confirmations": {"token": "A" * 43},
    "/registrations/confirmations/resend": {"id_number": "ABC123456"},
    "/sessions": {"id_number": "ABC123456", "password": "Correct-Horse-42"},
    "/password-resets": {"id_number": "ABC123456"},
    "/password-resets/confirmations": {
        "token": "A" * 43,
        "password": "Correct-Horse-42",
        "confirm_password": "Correct-Horse-42",
    },
    "/verifications": {"id_number": "ABC123456", "secret_number": "4821"},
}
BODY_ROUTES = [("POST", path) for path in VALID] + [("PATCH", "/me")]
ALL_ROUTES = [
    *BODY_ROUTES,
    ("GET", "/me"),
    ("DELETE", "/me"),
    ("GET", "/me/results"),
    ("DELETE", "/sessions/current"),
]


def _deep(levels: int, kind: str) -> bytes:
    return (("[" * levels + "]" * levels) if kind == "list" else ('{"a":' * levels + "1" + "}" * levels)).encode()


HOSTILE_BODIES: dict[str, bytes] = {
    "one megabyte of JSON": json.dumps({"id_number": "A" * (1024 * 1024)}).encode(),
    "one megabyte of garbage": b"\x01{" * (512 * 1024),
    "deep JSON list (10,000 levels)": _deep(10_000, "list"),
    "deep JSON object (10,000 levels)": _deep(10_000, "object"),
    "invalid UTF-8": b'{"id_number": "\xff\xfe\xfa", "password": "\xc3\x28"}',
    "lone surrogate escape": b'{"id_number": "\\ud800", "password": "\\udfff", "token": "\\ud800"}',
    "NUL and control characters": json.dumps(
        {"id_number": "ABC\x00123", "secret_number": "48\x1b21", "password": "\x07\x08\x7f", "token": "\x00"}
    ).encode(),
    "null body": b"null",
    "empty body": b"",
    "whitespace body": b"   \n\t ",
    "array body": b"[]",
    "string body": b'"hello"',
    "number body": b"1e309",
    "truncated JSON": b'{"id_number": "ABC123456"',
    "duplicate keys": b'{"id_number": "ABC123456", "id_number": {"$gt": ""}}',
    "NaN and Infinity": b'{"id_number": NaN, "secret_number": Infinity, "newsletter_opt_in": -Infinity}',
    "huge number": b'{"id_number": 1' + b"0" * 5000 + b"}",
    "injection strings": json.dumps(
        {
            "id_number": "' OR '1'='1",
            "secret_number": "${jndi:ldap://x}",
            "email": "<script>alert(1)</script>@example.com",
            "password": "{{7*7}}; DROP TABLE accounts;--12",
            "token": "../../etc/passwd",
        }
    ).encode(),
}


def _assert_refusal(r, what: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status < 500, f"{what}: {r.status} {r.body[:300]}"
    if r.status >= 400:
        body = r.json()
        assert isinstance(body, dict) and body.get("code") and body.get("message"), f"{what}: {r.body[:300]}"


@pytest.fixture
def session_token(registered):  # type: ignore[no-untyped-def]
    _c, token = registered()
    return token


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_hostile_bodies_are_refused_with_4xx(api: ApiGateway, session_token, method, path):
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {session_token}"}
    for what, body in HOSTILE_BODIES.items():
        r = api.request(method, path, body, headers)
        _assert_refusal(r, f"{method} {path} {what}")
        assert 400 <= r.status < 500, f"{method} {path} {what}: {r.status} {r.body[:200]}"


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_null_everywhere_numbers_as_strings_and_wrong_types_are_422(api: ApiGateway, session_token, method, path):
    valid = VALID.get(path, {"newsletter_opt_in": True})
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {session_token}"}
    variants = {
        "every field null": {k: None for k in valid},
        "numbers and booleans as strings": {
            k: (str(v).lower() if isinstance(v, bool) else 123456) for k, v in valid.items()
        },
        "objects and lists for strings": {
            k: ({"$ne": None} if i % 2 else [v]) for i, (k, v) in enumerate(valid.items())
        },
        "every field missing, extra fields": {"is_admin": True, "role": "admin", "__proto__": {"x": 1}},
    }
    for field in valid:
        variants[f"{field} null"] = {**valid, field: None}
        variants[f"{field} number"] = {**valid, field: 42}
    for what, body in variants.items():
        r = api.request(method, path, json.dumps(body).encode(), headers)
        _assert_refusal(r, f"{method} {path} {what}")
        assert r.status == 422, f"{method} {path} {what}: {r.status} {r.body[:200]}"
        assert r.json()["code"] == "validation_error" and r.json()["errors"], r.body


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_wrong_content_types_and_extra_fields_never_5xx(api: ApiGateway, session_token, method, path):
    valid = VALID.get(path, {"newsletter_opt_in": True})
    auth = {"Authorization": f"Bearer {session_token}"}
    form = "&".join(f"{k}={v}" for k, v in valid.items()).encode()
    for content_type, body in (
        ("text/plain", b"hello"),
        ("application/x-www-form-urlencoded", form),
        ("application/xml", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>"),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\nb\r\n--x--"),
    ):
        r = api.request(method, path, body, {"Content-Type": content_type, **auth})
        _assert_refusal(r, f"{method} {path} {content_type}")
        assert 400 <= r.status < 500
    # Extra fields beside valid ones are ignored, never an error of the server.
    extra = {**valid, "is_admin": True, "email_confirmed": True, "password_hash": "x", "id": {"S": "x"}}
    r = api.request(method, path, json.dumps(extra).encode(), {"Content-Type": "application/json", **auth})
    _assert_refusal(r, f"{method} {path} extra fields")


@pytest.mark.parametrize(("method", "path"), [r for r in ALL_ROUTES if r[1].startswith(("/me", "/sessions/current"))])
def test_hostile_authorization_headers_are_401(api: ApiGateway, method, path):
    for value in (
        "",
        "Bearer",
        "Bearer ",
        "Bearer " + "A" * 100_000,
        "Bearer \x00\x01\x02",
        "Bearer ' OR 1=1 --",
        "bearer " + "é" * 50,
        "Basic dXNlcjpwYXNz",
        "Bearer a b c",
        "Bearer ../../../../etc/passwd",
    ):
        r = api.request(
            method, path, b'{"newsletter_opt_in": true}', {"Authorization": value, "Content-Type": "application/json"}
        )
        _assert_refusal(r, f"{method} {path} Authorization={value[:30]!r}")
        assert (r.status, r.json()["code"]) == (401, "unauthorized"), r.body
