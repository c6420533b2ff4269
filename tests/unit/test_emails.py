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

from exam_results import emails

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


@pytest.mark.parametrize(("kind", "build"), _builders(), ids=[name for name, _ in _builders()])
def test_inserted_values_are_text_in_the_html_and_unchanged_in_the_text(kind: str, build: Callable[..., Any]) -> None:
    params = inspect.signature(build).parameters
    values = {p: _hostile(p) for p in params}
    message = build(**values)

    parsed = _Parsed()
    parsed.feed(message.html)
    parsed.close()
    # Only the email's own markup: no tag or attribute from a value.
    assert {tag for tag, _ in parsed.tags} <= {"html", "body", "h1", "p", "a"}, parsed.tags
    assert "<script" not in message.html and "<img" not in message.html and 'href="https://evil' not in message.html
    for tag, attrs in parsed.tags:
        assert set(attrs) <= {"style", "href"}, (tag, attrs)
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
