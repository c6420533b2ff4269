"""exam_results.http in the request's language, for the answers the route tests cannot reach
easily: raw pydantic errors, a FieldError raised by a use case, a 404 route, a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from exam_results import errors, http, i18n


def _event(path: str, lang: str | None) -> dict[str, Any]:
    headers = {"Accept-Language": lang} if lang else {}
    return {"path": path, "httpMethod": "GET", "headers": headers, "requestContext": {}, "body": None}


@pytest.mark.parametrize(("lang", "header"), [("it", "it-IT"), ("en", None), ("en", "de")])
def test_raw_pydantic_errors_become_catalogue_sentences(lang: str, header: str | None) -> None:
    raw = [
        {"type": "int_parsing", "loc": ("body", "age"), "msg": "Input should be a valid integer"},
        {"type": "missing", "loc": ("body", "email"), "msg": "Field required"},
        {"type": "missing", "loc": ("body",), "msg": "Field required"},
    ]
    found = http.field_errors(raw, i18n.negotiate(header))
    assert found == [
        {"field": "age", "message": i18n.text(lang, "field.invalid")},
        {"field": "email", "message": i18n.text(lang, "field.required")},
        {"field": "body", "message": i18n.text(lang, "field.json_object")},
    ]


@pytest.mark.parametrize("lang", ["it", "en"])
def test_field_errors_route_404_and_500_follow_the_header(lang: str) -> None:
    app = http.make_resolver()

    @app.get("/field")
    def _field() -> Any:
        raise errors.FieldError([("password", "password.common")])

    @app.get("/boom")
    def _boom() -> Any:
        raise RuntimeError("unexpected")

    def answer(path: str) -> tuple[int, dict[str, Any]]:
        out = http.handle(app, _event(path, lang), None)
        return out["statusCode"], json.loads(out["body"])

    status, body = answer("/field")
    assert (status, body["code"]) == (422, "validation_error")
    assert body["message"] == i18n.text(lang, "error.validation_error")
    assert body["errors"] == [{"field": "password", "message": i18n.text(lang, "password.common")}]
    status, body = answer("/nowhere")
    assert (status, body) == (404, {"code": "route_not_found", "message": i18n.text(lang, "error.route_not_found")})
    status, body = answer("/boom")
    assert (status, body) == (500, {"code": "internal_error", "message": i18n.text(lang, "error.internal_error")})


def test_a_key_no_catalogue_has_is_the_generic_sentence_not_a_500() -> None:
    assert http.say("it", "error.no_such_key") == i18n.text("it", "error.error")
