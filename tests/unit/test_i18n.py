"""exam_results.i18n: one catalogue per language, every catalogue with English's keys."""

from __future__ import annotations

import json
import string
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from exam_results import i18n


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_catalogue_has_exactly_the_english_keys_and_placeholders():
    english = i18n.catalogue("en")
    assert i18n.languages()[0] == "en" and "it" in i18n.languages()
    for lang in i18n.languages():
        found = i18n.catalogue(lang)
        assert set(found) - set(english) == set(), f"{lang}.json has keys en.json lacks"
        assert set(english) - set(found) == set(), f"{lang}.json lacks keys"
        for key, text in found.items():
            assert isinstance(text, str) and text.strip(), (lang, key)
            assert placeholders(text) == placeholders(english[key]), (lang, key)


def test_a_missing_key_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The check above on a catalogue that lacks a key: adding a language without every key fails."""
    for name in ("en", "it"):
        data = json.loads((i18n.LOCALES / f"{name}.json").read_text(encoding="utf-8"))
        if name == "it":
            data.pop("statement.title")
        (tmp_path / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    i18n.languages.cache_clear()
    i18n.catalogue.cache_clear()
    try:
        with pytest.raises(AssertionError, match=r"it\.json lacks keys"):
            test_every_catalogue_has_exactly_the_english_keys_and_placeholders()
    finally:
        monkeypatch.undo()
        i18n.languages.cache_clear()
        i18n.catalogue.cache_clear()


def test_a_new_file_is_a_new_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    english = json.loads((i18n.LOCALES / "en.json").read_text(encoding="utf-8"))
    (tmp_path / "en.json").write_text(json.dumps(english), encoding="utf-8")
    (tmp_path / "de.json").write_text(json.dumps({**english, "locale": "de_DE"}), encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    i18n.languages.cache_clear()
    i18n.catalogue.cache_clear()
    try:
        assert i18n.languages() == ("en", "de")
        assert i18n.format_date(date(2018, 10, 5), "de") == "5. Oktober 2018"
    finally:
        monkeypatch.undo()
        i18n.languages.cache_clear()
        i18n.catalogue.cache_clear()


def test_text_fills_placeholders_and_falls_back_to_english():
    assert i18n.text("it", "statement.candidate_name") == "Nome del candidato"
    assert i18n.text("xx", "statement.candidate_name") == "Candidate name"
    assert i18n.text(None, "statement.instant_utc", when="now") == "now UTC"
    with pytest.raises(ValueError):
        i18n.catalogue("xx")


def test_babel_formats_dates_times_and_numbers_per_language():
    assert i18n.format_date(date(2018, 10, 5), "it") == "5 ottobre 2018"
    assert i18n.format_date(date(2018, 10, 5), "en") == "5 October 2018"
    instant = datetime(2026, 7, 25, 8, 3, tzinfo=UTC)
    assert i18n.format_instant(instant, "it", UTC) == "25 luglio 2026 08:03"
    assert i18n.format_instant(instant, "en", UTC) == "25 July 2026 08:03"
    assert i18n.format_number(1234, "it") == "1.234" and i18n.format_number(1234, "en") == "1,234"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("it-IT,it;q=0.9,en;q=0.8", "it"),
        ("fr, it;q=0.5, en;q=0.4", "it"),
        ("en;q=0.2, it;q=0.9", "it"),
        ("it;q=0, en", "en"),
        ("de, fr", "en"),
        ("it;q=banana", "en"),
    ],
)
def test_accept_language_negotiation(header, expected):
    assert i18n.negotiate(header) == expected
