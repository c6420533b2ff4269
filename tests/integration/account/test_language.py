"""The account's `language` (SPEC §3 Languages): registration, GET /me and PATCH /me."""

from __future__ import annotations

from tests.conftest import registration


def fields(r):  # type: ignore[no-untyped-def]
    assert r.status == 422, r.body
    return {e["field"] for e in r.json()["errors"]}


def confirmed_login(api, mailbox, c):  # type: ignore[no-untyped-def]
    api.call("POST", "/registrations/confirmations", {"token": mailbox.last_to(c.email).token()})
    return api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password}).json()["token"]


def test_language_defaults_to_english(api, registered):
    _c, token = registered()
    assert api.call("GET", "/me", token=token).json()["language"] == "en"


def test_registration_keeps_the_chosen_language(api, seed, mailbox):
    c = seed()
    assert api.call("POST", "/registrations", registration(c, language="it")).status == 201
    token = confirmed_login(api, mailbox, c)
    assert api.call("GET", "/me", token=token).json()["language"] == "it"


def test_registration_refuses_any_other_language(api, seed):
    c = seed()
    for value in ("fr", "IT", "it-IT", "", None, 1, ["it"], "x" * 5000):
        r = api.call("POST", "/registrations", registration(c, language=value))
        assert "language" in fields(r), value
    r = api.call("POST", "/registrations", registration(c, language="de"))
    assert r.json()["errors"] == [{"field": "language", "message": "Choose a language we offer: en, it."}]


def test_patch_me_changes_language_and_or_newsletter(api, registered):
    _c, token = registered()
    r = api.call("PATCH", "/me", {"language": "it"}, token=token)
    assert r.status == 200 and r.json()["language"] == "it" and r.json()["newsletter_opt_in"] is False
    r = api.call("PATCH", "/me", {"newsletter_opt_in": True, "language": "en"}, token=token)
    assert (r.json()["language"], r.json()["newsletter_opt_in"]) == ("en", True)
    r = api.call("PATCH", "/me", {"newsletter_opt_in": False}, token=token)
    assert (r.json()["language"], r.json()["newsletter_opt_in"]) == ("en", False)
    assert api.call("GET", "/me", token=token).json()["language"] == "en"


def test_patch_me_refuses_an_unknown_language_or_nothing_to_change(api, registered):
    _c, token = registered()
    for value in ("fr", None, 3, ""):
        assert "language" in fields(api.call("PATCH", "/me", {"language": value}, token=token)), value
    assert fields(api.call("PATCH", "/me", {}, token=token)) == {"body"}
    assert fields(api.call("PATCH", "/me", {"other": 1}, token=token)) == {"body"}
    assert api.call("GET", "/me", token=token).json()["language"] == "en"
