"""Every email built in ``exam_results.emails`` shows inserted values as text in its HTML part
(SPEC §7: "every value inserted is escaped for HTML"), and unchanged in its text part.

The builders are found by name (``*_email``), so an email added later is checked too; each
string parameter gets a hostile value (markup, quotes, an ampersand).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest

from exam_results import emails, i18n

HOSTILE_NAME = '<a href="https://evil.example/login">Log in here</a> & "Co" <img src=x onerror=alert(1)>'
HOSTILE_LINK = 'https://results.test/page.html?token=abc&x="><script>alert(1)</script>'
HOSTILE_EMAIL = '"<b>x</b>"@example.com'


class _Parsed(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text += data


def _builders() -> list[tuple[str, Callable[..., Any]]]:
    return [
        (name, fn)
        for name, fn in inspect.getmembers(emails, inspect.isfunction)
        if name.endswith("_email") and fn.__module__ == emails.__name__
    ]


def _hostile(parameter: str) -> str:
    if parameter == "lang":
        return "it"  # which catalogue, not a value inserted
    if "link" in parameter or "url" in parameter:
        return HOSTILE_LINK
    if parameter in ("to", "email", "address"):
        return HOSTILE_EMAIL
    return HOSTILE_NAME


def test_every_email_kind_is_checked() -> None:
    assert {"confirmation_email", "reset_email"} <= {name for name, _ in _builders()}


@pytest.mark.parametrize("lang", i18n.languages())
@pytest.mark.parametrize(("kind", "build"), _builders(), ids=[name for name, _ in _builders()])
def test_inserted_values_are_text_in_the_html_and_unchanged_in_the_text(
    kind: str, build: Callable[..., Any], lang: str
) -> None:
    params = inspect.signature(build).parameters
    values = {p: _hostile(p) for p in params if p != "lang"}
    message = build(**values, lang=lang)

    parsed = _Parsed()
    parsed.feed(message.html)
    parsed.close()
    # Only the email's own markup: no tag or attribute from a value.
    assert {tag for tag, _ in parsed.tags} <= {"html", "body", "h1", "p", "a"}, parsed.tags
    assert "<script" not in message.html and "<img" not in message.html and 'href="https://evil' not in message.html
    for tag, attrs in parsed.tags:
        assert set(attrs) <= {"style", "href", "lang"}, (tag, attrs)
        if tag == "a":
            assert attrs["href"] == values.get("link", HOSTILE_LINK)  # the whole link, one attribute
    for parameter, value in values.items():
        if parameter == "to":
            assert message.to == value
            continue
        if parameter == "lang":
            continue
        assert value in parsed.text, (kind, parameter)  # shown as text, character for character
        assert value in message.text  # the text part is not escaped


# -- languages (SPEC §3 Languages, §7): every sentence from the account's catalogue -------------


def _sentences(lang: str, prefix: str, **values: Any) -> list[str]:
    return [i18n.text(lang, key, **values) for key in i18n.catalogue(lang) if key.startswith(prefix)]


@pytest.mark.parametrize(
    ("build", "prefix", "values"),
    [
        (emails.confirmation_email, "email.confirmation.", {"hours": 24}),
        (emails.reset_email, "email.reset.", {"minutes": 60}),
    ],
    ids=["confirmation", "reset"],
)
@pytest.mark.parametrize("lang", ["en", "it"])
def test_each_token_email_is_written_in_the_language_asked_for(
    build: Callable[..., Any], prefix: str, values: dict[str, int], lang: str
) -> None:
    message = build("ana@example.com", "Ana Rossi", "https://results.test/p.html?token=t", lang)
    service = i18n.text(lang, "service.name")
    expected = _sentences(lang, prefix, service=service, **values)
    assert len(expected) == 5  # subject, title, intro, expiry, button
    rendered = message.subject + message.text + message.html
    for sentence in expected:
        assert sentence in rendered, (lang, sentence)
    assert i18n.text(lang, "email.greeting", name="Ana Rossi") in message.text
    assert message.subject == i18n.text(lang, f"{prefix}subject", service=service)
    assert f'<html lang="{lang}">' in message.html
    other = "it" if lang == "en" else "en"
    for sentence in _sentences(other, prefix, service=service, **values):
        if sentence not in expected:  # words both languages share (none today) prove nothing
            assert sentence not in rendered, (lang, sentence)


def test_italian_confirmation_email_reads_italian() -> None:
    message = emails.confirmation_email("ana@example.com", "Ana", "https://results.test/confirm.html?token=t", "it")
    assert message.subject == "Exam Results Service: conferma il tuo indirizzo email"
    assert message.text.startswith("Ciao Ana,\n\nGrazie per la registrazione ai risultati online.")
    assert "Questo link è valido per 24 ore." in message.text
    assert ">Conferma il mio indirizzo email</a>" in message.html


def test_an_unknown_language_gets_english() -> None:
    message = emails.reset_email("ana@example.com", "Ana", "https://results.test/reset.html?token=t", "xx")
    assert message.subject == "Exam Results Service: reset your password"
    assert '<html lang="en">' in message.html
