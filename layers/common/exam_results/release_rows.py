"""Releases files, row by row (SPEC §6, "Faster results"): the checks of a ``releases/*.csv``
row that need no database.

Pure code, like ``exam_results.files`` (reading, reports), which it builds on; only the
release requests use case imports it. The database checks (the session exists, is still open,
``release_at`` not after its ``results_available_by``) are the use case's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from exam_results.files.fields import check_session_id, parse_instant
from exam_results.files.report import FieldProblem, ReportError, report_errors

__all__ = ["ParsedRelease", "ReleasesFileChecker", "validate_release_row"]


@dataclass(frozen=True, slots=True)
class ParsedRelease:
    """A well-formed releases row: ``release_at`` aware UTC, or None for "now" (blank)."""

    session_id: str
    release_at: datetime | None


def validate_release_row(row: Mapping[str, str]) -> tuple[ParsedRelease | None, list[FieldProblem]]:
    """``session_id`` present and well formed; ``release_at`` blank or an ISO 8601 instant with
    a UTC offset. Returns ``(ParsedRelease, [])`` or ``(None, [(field, message), ...])``."""
    problems: list[FieldProblem] = []
    session_id = check_session_id(row.get("session_id", "").strip(), problems)
    raw = row.get("release_at", "").strip()
    release_at = parse_instant("release_at", raw, problems) if raw else None
    if problems:
        return None, problems
    return ParsedRelease(session_id=session_id, release_at=release_at), []


class ReleasesFileChecker:
    """``validate_release_row`` plus "no session twice in a file" (two times for one session
    would leave which one wins to chance). One instance per file, rows in file order."""

    def __init__(self) -> None:
        self.first_line: dict[str, int] = {}

    def check(self, line: int, row: Mapping[str, str]) -> tuple[ParsedRelease | None, list[ReportError]]:
        parsed, problems = validate_release_row(row)
        if parsed is not None:
            first = self.first_line.setdefault(parsed.session_id, line)
            if first != line:
                problems.append(
                    (
                        "session_id",
                        f"Session {parsed.session_id} appears more than once in this file (first on line {first}).",
                    )
                )
                parsed = None
        return parsed, report_errors(line, problems)
