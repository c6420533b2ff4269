"""Every error code of every account route, with the spec's error body shape."""

from __future__ import annotations

import pytest

from tests.conftest import registration

ROUTES_WITH_BODY = [
    ("POST", "/registrations"),
    ("POST", "/registrations/confirmations"),
    ("POST", "/registrations/confirmations/resend"),
    ("POST", "/sessions"),
    ("POST", "/password-resets"),
    ("POST", "/password-resets/confirmations"),
]


def fields(r) -> dict[str, str]:
    body = r.json()
    assert r.status == 422, r.body
    assert body["code"] == "validation_error" and body["message"]
    return {e["field"]: e["message"] for e in body["errors"]}


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Ab1!", "at least 8 characters"),
        ("Abcdefgh1", "at least two digits"),
        ("12345678!", "at least one letter"),
        ("password12", "too common"),
        ("abc12345", "too common"),
        ("A1" * 64 + "x", "at most 128"),
        ("Tab\tchar12", "printable"),
    ],
)
def test_each_password_rule_is_a_field_error(api, seed, password, expected):
    c = seed()
    r = api.call("POST", "/registrations", registration(c, password=password, confirm_password=password))
    assert expected in fields(r)["password"]


def test_unicode_passwords_are_allowed(api, seed):
    c = seed()
    pw = "Ünïcødé-пароль-42"
    r = api.call("POST", "/registrations", registration(c, password=pw, confirm_password=pw))
    assert r.status == 201


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"confirm_password": "Something-else-42"}, "confirm_password"),
        ({"accept_terms": False}, "accept_terms"),
        ({"accept_terms": "true"}, "accept_terms"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"id_number": "AB1"}, "id_number"),
        ({"id_number": "ABC-123456"}, "id_number"),
        ({"secret_number": "12a4"}, "secret_number"),
        ({"secret_number": 4821}, "secret_number"),
        ({"secret_number": "123"}, "secret_number"),
        ({"newsletter_opt_in": "yes"}, "newsletter_opt_in"),
        ({"newsletter_opt_in": None}, "newsletter_opt_in"),
    ],
)
def test_registration_field_errors(api, seed, overrides, field):
    c = seed()
    assert field in fields(api.call("POST", "/registrations", registration(c, **overrides)))


def test_several_failing_fields_give_one_error_each(api, seed):
    c = seed()
    r = api.call(
        "POST",
        "/registrations",
        registration(c, email="bad", accept_terms=False, password="short", confirm_password="x"),
    )
    errs = fields(r)
    assert {"email", "accept_terms", "password"} <= errs.keys()
    assert len(r.json()["errors"]) == len(errs)


@pytest.mark.parametrize(("method", "path"), ROUTES_WITH_BODY)
def test_missing_fields_and_bad_bodies_are_422_on_every_route(api, method, path):
    errs = fields(api.call(method, path, {}))
    assert errs and all(m for m in errs.values())
    for raw in (b"not json", b"", b"[1, 2]", b"null", b'{"id_number": '):
        r = api.call(method, path, raw=raw)
        assert r.status == 422, (path, raw, r.body)
        assert r.json()["code"] == "validation_error"


def test_missing_field_is_named(api):
    errs = fields(api.call("POST", "/sessions", {"id_number": "ABC123456"}))
    assert errs == {"password": "This field is required."}


def test_unknown_id_and_wrong_secret_answer_alike(api, seed):
    c = seed()
    wrong = api.call("POST", "/registrations", registration(c, secret_number="9999"))
    unknown = api.call("POST", "/registrations", registration(c, id_number="ZZZ999999"))
    assert wrong.status == unknown.status == 403
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "credentials_mismatch"


def test_already_registered_only_after_a_correct_secret(api, seed):
    c = seed()
    assert api.call("POST", "/registrations", registration(c)).status == 201
    r = api.call("POST", "/registrations", registration(c))
    assert (r.status, r.json()["code"]) == (409, "already_registered")
    r = api.call("POST", "/registrations", registration(c, secret_number="9999"))
    assert (r.status, r.json()["code"]) == (403, "credentials_mismatch")


def test_unknown_id_and_wrong_password_answer_alike(api, registered):
    c, _ = registered()
    wrong = api.call("POST", "/sessions", {"id_number": c.id_number, "password": "Wrong-pass-99"})
    unknown = api.call("POST", "/sessions", {"id_number": "ZZZ999999", "password": "Wrong-pass-99"})
    assert wrong.status == unknown.status == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "code": "invalid_credentials",
            "message": wrong.json()["message"],
        }
    )


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer not-a-token", "Bearer " + "A" * 43],
)
def test_bad_tokens_are_401_on_every_authenticated_route(api, registered, authorization):
    registered()
    for method, path in [("GET", "/me"), ("PATCH", "/me"), ("DELETE", "/me"), ("DELETE", "/sessions/current")]:
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        r = api.request(method, path, b'{"newsletter_opt_in": true}', headers)
        assert (r.status, r.json()["code"]) == (401, "unauthorized"), (method, path)


def test_patch_me_rejects_non_booleans(api, registered):
    _, token = registered()
    for value in (None, "true", 1, "yes"):
        assert "newsletter_opt_in" in fields(api.call("PATCH", "/me", {"newsletter_opt_in": value}, token=token))
    assert set(fields(api.call("PATCH", "/me", {}, token=token))) == {"body"}  # newsletter_opt_in and/or language


def test_patch_me_without_a_token_is_401_even_with_a_bad_body(api):
    r = api.call("PATCH", "/me", {"newsletter_opt_in": None})
    assert r.status == 401


def test_invalid_tokens_for_confirmations(api):
    for token in ("x", "A" * 43, "%%%"):
        r = api.call("POST", "/registrations/confirmations", {"token": token})
        assert (r.status, r.json()["code"]) == (400, "invalid_token")
        r = api.call(
            "POST",
            "/password-resets/confirmations",
            {"token": token, "password": "New-password-77", "confirm_password": "New-password-77"},
        )
        assert (r.status, r.json()["code"]) == (400, "invalid_token")


def test_unknown_route_answers_like_api_gateway(api):
    r = api.call("GET", "/nope")
    assert r.status == 403
    assert api.call("PUT", "/me").status == 403
