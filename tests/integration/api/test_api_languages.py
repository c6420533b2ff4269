"""API error messages follow Accept-Language (SPEC §3: "`en` when absent or unknown; `code`s never
change with language"), through the real handlers behind the API Gateway emulator.

Each error is asked for in Italian, in English, with no header and with a language we do not
speak: the code and status are the same every time; the message is the catalogue's sentence of
the negotiated language.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from exam_results import i18n
from tests.conftest import registration

UNKNOWN = "de-DE,fr;q=0.8"


def call(api: Any, method: str, path: str, body: Any = None, token: str | None = None, lang: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json"}
    if lang is not None:
        headers["Accept-Language"] = lang
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return api.request(method, path, None if body is None else json.dumps(body).encode(), headers)


def said(response: Any, lang: str, key: str, **values: Any) -> None:
    assert response.json()["message"] == i18n.text(lang, key, **values), response.body


def test_401_403_404_409_and_429_in_italian_and_english(api, seed, registered) -> None:  # type: ignore[no-untyped-def]
    c, token = registered()
    cases: list[tuple[str, str, Any, str | None, int, str, str]] = [
        ("GET", "/me", None, None, 401, "unauthorized", "error.unauthorized"),
        ("GET", "/me", None, "not-a-session", 401, "unauthorized", "error.unauthorized"),
        ("POST", "/registrations", registration(c), None, 409, "already_registered", "error.already_registered"),
        (
            "POST",
            "/verifications",
            {"id_number": "NOBODY123", "secret_number": "1234"},
            None,
            404,
            "not_found",
            "error.not_found",
        ),
        ("GET", "/me/results/NO-SUCH-SESSION/statement", None, token, 404, "not_found", "error.not_found_statement"),
        (
            "POST",
            "/sessions",
            {"id_number": c.id_number, "password": "Wrong-pass-99"},
            None,
            401,
            "invalid_credentials",
            "error.invalid_credentials",
        ),
    ]
    for method, path, body, auth, status, code, key in cases:
        # Three requests a case: the lockouts of logins and verifications start at the fourth.
        for header, lang in (("it-IT,it;q=0.9,en;q=0.8", "it"), (None, "en"), (UNKNOWN, "en")):
            r = call(api, method, path, body, auth, header)
            assert (r.status, r.json()["code"]) == (status, code), (path, header, r.body)
            said(r, lang, key)
    assert i18n.text("it", "error.unauthorized") == "Accedi per continuare."


def test_403_then_429_for_wrong_secrets_in_italian_and_english(api, seed) -> None:  # type: ignore[no-untyped-def]
    wrong = registration(seed(id_number="OTHER0001"), secret_number="9999")
    for header, lang in (("it", "it"), (None, "en"), (UNKNOWN, "en"), ("it-IT", "it")):
        r = call(api, "POST", "/registrations", wrong, lang=header)
        assert (r.status, r.json()["code"]) == (403, "credentials_mismatch")
        said(r, lang, "error.credentials_mismatch")
    r = call(api, "POST", "/registrations", wrong, lang="it")  # the fifth wrong secret
    assert (r.status, r.json()["code"]) == (429, "too_many_attempts") and r.header("Retry-After") == "1800"
    assert r.json()["message"] == "Troppi tentativi. Riprova più tardi."
    r = call(api, "POST", "/registrations", wrong, lang=UNKNOWN)
    assert (r.status, r.json()["code"]) == (429, "too_many_attempts")
    said(r, "en", "error.too_many_attempts")


def test_429_locked_in_italian_keeps_its_code_and_retry_after(api) -> None:  # type: ignore[no-untyped-def]
    body = {"id_number": "NOBODY1234", "password": "Wrong-pass-99"}
    answers = [call(api, "POST", "/sessions", body, lang="it") for _ in range(4)]
    assert [a.status for a in answers] == [401, 401, 401, 429]
    said(answers[0], "it", "error.invalid_credentials")
    locked = answers[3]
    assert locked.json()["code"] == "locked" and int(locked.header("Retry-After")) > 0
    assert (
        locked.json()["message"] == "Hai inserito una password errata troppe volte. Non potrai accedere per 30 minuti."
    )
    english = call(api, "POST", "/sessions", body, lang=UNKNOWN)
    assert english.json()["code"] == "locked"
    said(english, "en", "error.locked")


def test_422_field_messages_in_italian(api, seed) -> None:  # type: ignore[no-untyped-def]
    c = seed()
    bad = registration(
        c,
        id_number="x",
        email="not-an-email",
        password="abc",
        confirm_password="abd",
        accept_terms=False,
        language="fr",
        newsletter_opt_in="yes",
    )
    del bad["secret_number"]
    r = call(api, "POST", "/registrations", bad, lang="it")
    assert (r.status, r.json()["code"]) == (422, "validation_error")
    assert r.json()["message"] == "Alcuni campi non sono validi: controlla gli errori indicati."
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert errors == {
        "id_number": i18n.text("it", "field.id_number"),
        "secret_number": "Questo campo è obbligatorio.",
        "email": "Inserisci un indirizzo email valido, ad esempio nome@example.com.",
        "password": "Usa almeno 8 caratteri. Includi almeno due cifre.",
        "accept_terms": "Per registrarti devi accettare i termini di utilizzo.",
        "newsletter_opt_in": "Deve essere true o false.",
        "language": "Scegli una delle lingue disponibili: en, it.",
    }
    # The same request without a header, or in a language we do not speak: English, same fields.
    for header in (None, UNKNOWN):
        english = call(api, "POST", "/registrations", bad, lang=header)
        assert english.json()["message"] == "Some fields are not valid: see errors."
        found = {e["field"]: e["message"] for e in english.json()["errors"]}
        assert set(found) == set(errors)
        assert found["password"] == "Use at least 8 characters. Include at least two digits."
        assert found["language"] == "Choose a language we offer: en, it."


def test_422_for_a_bad_body_and_mismatched_passwords_in_italian(api, seed, registered) -> None:  # type: ignore[no-untyped-def]
    c = seed()
    r = call(api, "POST", "/registrations", registration(c, confirm_password="Other-pass-42"), lang="it")
    assert r.json()["errors"] == [{"field": "confirm_password", "message": "Le due password non coincidono."}]

    r = api.request(
        "POST", "/registrations", b"{not json", {"Content-Type": "application/json", "Accept-Language": "it"}
    )
    assert r.status == 422 and r.json()["errors"][0]["message"] == i18n.text("it", "field.json_invalid")

    _c, token = registered(id_number="PATCH0001")
    r = call(api, "PATCH", "/me", {}, token=token, lang="it")
    assert r.json()["errors"] == [{"field": "body", "message": i18n.text("it", "field.profile_update")}]
    r = call(api, "PATCH", "/me", {"language": None}, token=token, lang="it")
    assert r.json()["errors"] == [{"field": "language", "message": "Deve essere un testo."}]


@pytest.mark.parametrize("lang", ["it", "en"])
def test_other_answers_a_candidate_reads_follow_the_language_too(api, lang: str) -> None:  # type: ignore[no-untyped-def]
    r = call(api, "POST", "/password-resets", {"id_number": "NOBODY123"}, lang=lang)
    assert r.status == 202
    said(r, lang, "message.reset_accepted")
    r = call(api, "POST", "/registrations/confirmations/resend", {"id_number": "NOBODY123"}, lang=lang)
    said(r, lang, "message.resend_accepted")
    r = api.request("POST", "/registrations", b"{}", {"Content-Type": "text/plain", "Accept-Language": lang})
    assert (r.status, r.json()["code"]) == (415, "unsupported_media_type")
    said(r, lang, "error.unsupported_media_type")
    r = call(api, "POST", "/registrations/confirmations", {"token": "unknown-token"}, lang=lang)
    assert (r.status, r.json()["code"]) == (400, "invalid_token")
    said(r, lang, "error.invalid_token")
