"""Every email to a candidate is written in the account's language (SPEC §3 Languages, §7), through
the real handlers: the confirmation at registration (the language the registration chose), the
password reset and the confirmation resend (the mail worker: the account's language, whatever
language the request that queued them came in).
"""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest

from exam_results import i18n
from tests.conftest import registration


def _sentences(lang: str, kind: str, **values: Any) -> list[str]:
    keys = [f"email.{kind}.{part}" for part in ("title", "intro", "expiry", "button")]
    return [i18n.text(lang, key, **values) for key in keys]


def _assert_written_in(mail: Any, lang: str, kind: str, name: str, **values: Any) -> None:
    other = "en" if lang == "it" else "it"
    body = unescape(mail.body)
    assert mail.subject == i18n.text(lang, f"email.{kind}.subject", service=i18n.text(lang, "service.name"))
    assert i18n.text(lang, "email.greeting", name=name) in body
    for sentence in _sentences(lang, kind, **values):
        assert sentence in body, (lang, sentence)
    for sentence in _sentences(other, kind, **values):
        assert sentence not in body, (lang, sentence)
    assert f'<html lang="{lang}">' in mail.body


@pytest.mark.parametrize("lang", ["en", "it"])
def test_the_confirmation_email_is_in_the_language_of_the_registration(api, seed, mailbox, lang: str) -> None:  # type: ignore[no-untyped-def]
    c = seed(name="Giulia Verdi")
    assert api.call("POST", "/registrations", registration(c, language=lang)).status == 201
    mail = mailbox.last_to(c.email)
    _assert_written_in(mail, lang, "confirmation", "Giulia Verdi", hours=24)
    if lang == "it":
        assert mail.subject == "Exam Results Service: conferma il tuo indirizzo email"
        assert "Questo link è valido per 24 ore." in unescape(mail.body)


@pytest.mark.parametrize("lang", ["en", "it"])
def test_reset_and_resend_are_in_the_account_language_not_the_request_one(  # type: ignore[no-untyped-def]
    api, seed, mailbox, mail_worker, lang: str
) -> None:
    c = seed(name="Giulia Verdi")
    assert api.call("POST", "/registrations", registration(c, language=lang)).status == 201
    request_lang = "en" if lang == "it" else "it"  # the request's Accept-Language does not choose
    headers = {"Content-Type": "application/json", "Accept-Language": request_lang}
    body = f'{{"id_number": "{c.id_number}"}}'.encode()

    assert api.request("POST", "/registrations/confirmations/resend", body, headers).status == 202
    mail_worker.drain()
    _assert_written_in(mailbox.last_to(c.email), lang, "confirmation", "Giulia Verdi", hours=24)

    assert api.request("POST", "/password-resets", body, headers).status == 202
    mail_worker.drain()
    reset = mailbox.last_to(c.email)
    _assert_written_in(reset, lang, "reset", "Giulia Verdi", minutes=60)
    if lang == "it":
        assert reset.subject == "Exam Results Service: reimposta la tua password"
        assert "Questo link è valido per 60 minuti e una sola volta." in unescape(reset.body)


def test_a_language_changed_later_is_the_language_of_the_next_email(api, registered, mailbox, mail_worker) -> None:  # type: ignore[no-untyped-def]
    c, token = registered(name="Giulia Verdi")
    assert api.call("PATCH", "/me", {"language": "it"}, token=token).status == 200
    assert api.call("POST", "/password-resets", {"id_number": c.id_number}).status == 202
    mail_worker.drain()
    _assert_written_in(mailbox.last_to(c.email), "it", "reset", "Giulia Verdi", minutes=60)
