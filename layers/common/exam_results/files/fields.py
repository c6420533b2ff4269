"""The field checks the row checks of every kind of file share, and how a message shows a value."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from exam_results.credentials import ID_NUMBER_RE

from .report import FieldProblem

__all__ = [
    "SESSION_ID_RE",
    "check_id_number",
    "check_session_id",
    "parse_date",
    "parse_instant",
    "quoted",
    "whole_number",
]

SESSION_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A well-formed ``session_id`` (``fullmatch``)."""

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}.*")


def quoted(value: str, limit: int = 40) -> str:
    """A (non-secret) value quoted for a message, shortened if long."""
    if len(value) > limit:
        value = value[:limit] + "…"
    return f"'{value}'"


def whole_number(raw: str) -> int | None:
    """The value of an ASCII whole number of at most 9 digits (optionally negative), or None."""
    digits = raw[1:] if raw[:1] == "-" else raw
    if 0 < len(digits) <= 9 and digits.isascii() and digits.isdigit():
        return int(raw)
    return None


def check_id_number(raw: str, problems: list[FieldProblem]) -> str:
    """A stripped ``id_number`` value, upper-cased; a problem added when it is blank or not an
    ID Number."""
    if not raw:
        problems.append(("id_number", "id_number is required."))
    elif not ID_NUMBER_RE.fullmatch(raw):
        problems.append(
            (
                "id_number",
                f"ID Number {quoted(raw)} is not valid: it must be 6 to 12 letters or digits.",
            )
        )
    return raw.upper()


def check_session_id(raw: str, problems: list[FieldProblem]) -> str:
    """A stripped ``session_id`` value; a problem added when it is blank or not well formed."""
    if not raw:
        problems.append(("session_id", "session_id is required."))
    elif not SESSION_ID_RE.fullmatch(raw):
        problems.append(
            (
                "session_id",
                (
                    f"session_id {quoted(raw)} is not valid: use up to 64 letters, digits, '-', '_' "
                    "or '.', for example C1A-2018-08-24-PB."
                ),
            )
        )
    return raw


def parse_date(raw: str) -> date | None:
    """A date written YYYY-MM-DD, or None."""
    if not _ISO_DATE.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def parse_instant(field: str, raw: str, problems: list[FieldProblem]) -> datetime | None:
    """A non-blank ISO 8601 instant with a UTC offset (``results_available_by`` of an entries
    file, ``release_at`` of a releases file), as aware UTC; None with a problem added if not."""
    try:
        parsed = datetime.fromisoformat(raw) if _ISO_INSTANT.fullmatch(raw) else None
    except ValueError:
        parsed = None
    if parsed is None:
        problems.append(
            (
                field,
                (
                    f"{field} {quoted(raw)} is not an ISO 8601 date and "
                    "time, for example 2024-04-05T09:00:00+01:00 (or leave it blank)."
                ),
            )
        )
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        problems.append(
            (
                field,
                (
                    f"{field} {quoted(raw)} needs a UTC offset, for example "
                    "2024-04-05T09:00:00+01:00 or 2024-04-05T08:00:00Z."
                ),
            )
        )
        return None
    return parsed.astimezone(UTC)
