"""Languages: one JSON catalogue per language in ``locales/`` (``en.json``, ``it.json``, ...).

Adding a language is adding a file with the same keys as ``en.json`` (a test fails when any key
is missing or extra) and the Babel locale it formats dates in (key ``locale``). Text is looked up
with ``text(lang, key, **values)``: ``str.format`` placeholders, an unknown language falls back
to English. Dates and numbers are Babel's (CLDR data), so ``5 ottobre 2018`` in Italian and
``5 October 2018`` in English need no rules of ours. Babel is imported on first use: only the
routes that render a document in a language pay for it.

JSON rather than gettext ``.po``: the web pages will load the same kind of file as is (no build
step, no ``.mo`` compilation), and a key missing from a catalogue is a plain set difference.
"""

from __future__ import annotations

import json
from datetime import date, datetime, tzinfo
from functools import lru_cache
from pathlib import Path

LOCALES = Path(__file__).resolve().parent / "locales"
DEFAULT = "en"


@lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """The languages with a catalogue, English first."""
    found = sorted(p.stem for p in LOCALES.glob("*.json"))
    return (DEFAULT, *(lang for lang in found if lang != DEFAULT))


@lru_cache(maxsize=8)
def catalogue(lang: str) -> dict[str, str]:
    """The catalogue of a known language (``ValueError`` for any other)."""
    if lang not in languages():
        raise ValueError(f"no catalogue for language {lang!r}")
    data: dict[str, str] = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def supported(lang: str | None) -> str:
    """``lang`` if it has a catalogue, else English."""
    return lang if lang in languages() else DEFAULT


def text(lang: str | None, key: str, **values: object) -> str:
    """The catalogue's text for ``key`` in ``lang`` with ``{placeholders}`` filled in."""
    template = catalogue(supported(lang))[key]
    return template.format(**values) if values else template


def negotiate(accept_language: str | None) -> str:
    """The best catalogue for an ``Accept-Language`` header (quality values honoured); English
    when the header is absent or names nothing we speak."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary in languages() and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT


def _locale(lang: str | None) -> str:
    return text(lang, "locale")


def format_date(day: date, lang: str | None) -> str:
    """A date as people write it: ``5 October 2018``, ``5 ottobre 2018``."""
    from babel.dates import format_date as babel_date

    return babel_date(day, format="long", locale=_locale(lang))


def format_instant(instant: datetime, lang: str | None, zone: tzinfo) -> str:
    """An aware instant in ``zone``: the long date and the time on the 24-hour clock."""
    from babel.dates import format_date as babel_date
    from babel.dates import format_time as babel_time

    local = instant.astimezone(zone)
    locale = _locale(lang)
    return f"{babel_date(local.date(), format='long', locale=locale)} {babel_time(local, 'HH:mm', locale=locale)}"


def format_number(number: int | float, lang: str | None) -> str:
    from babel.numbers import format_decimal

    return format_decimal(number, locale=_locale(lang))
