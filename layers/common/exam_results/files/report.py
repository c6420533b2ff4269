"""A file's report (SPEC §5), its errors, and the keys derived from a source key."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "FieldProblem",
    "FileRejected",
    "Report",
    "ReportError",
    "derived_key",
    "report_errors",
    "report_key",
]

FieldProblem = tuple[str, str]
"""``(field, message)``: one problem with one column of a row."""


class ReportError(BaseModel):
    """One error in a report: ``line`` with the header as line 1 (None for the whole file),
    ``field`` the column (None for a whole-line or whole-file problem)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    line: int | None
    field: str | None
    message: str


class Report(BaseModel):
    """``reports/<key>.json``: ``{source_key, status, rows, stored, errors}`` (SPEC §5).

    ``extra`` holds additional counts (e.g. generated or re-issued secret numbers); ``to_dict``
    and ``to_json`` leave it out when empty, so the SPEC keys are the only ones by default.
    """

    model_config = ConfigDict(defer_build=True)

    source_key: str
    status: Literal["accepted", "rejected", "failed"]
    rows: int
    stored: int
    errors: list[ReportError] = []
    extra: dict[str, int] = {}

    @classmethod
    def accepted(cls, source_key: str, rows: int, stored: int, **extra: int) -> Report:
        return cls(
            source_key=source_key,
            status="accepted",
            rows=rows,
            stored=stored,
            extra=extra,
        )

    @classmethod
    def rejected(cls, source_key: str, rows: int, errors: Iterable[ReportError]) -> Report:
        """A rejected file: nothing stored (``stored`` is always 0)."""
        return cls(
            source_key=source_key,
            status="rejected",
            rows=rows,
            stored=0,
            errors=list(errors),
        )

    @classmethod
    def failed(cls, source_key: str, rows: int, message: str) -> Report:
        """The import failed for a reason that is not the file's (throttling, a service error):
        nothing stored or published; the message says it is retried (issue 18)."""
        return cls(
            source_key=source_key,
            status="failed",
            rows=rows,
            stored=0,
            errors=[ReportError(line=None, field=None, message=message)],
        )

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        if not data["extra"]:
            del data["extra"]
        return data

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict(), ensure_ascii=False)


def report_errors(line: int, problems: Iterable[FieldProblem]) -> list[ReportError]:
    """A row's ``(field, message)`` problems as the report's errors for its ``line``."""
    return [ReportError(line=line, field=f, message=m) for f, m in problems]


class FileRejected(Exception):
    """The whole file is rejected; ``errors`` are ready for the report.

    ``FileRejected(field=None, message="...", line=None)`` for one error, or
    ``FileRejected(errors=[...])`` for several (for example one per missing column).
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        line: int | None = None,
        errors: Iterable[ReportError] = (),
    ) -> None:
        collected = list(errors)
        if message is not None:
            collected.insert(0, ReportError(line=line, field=field, message=message))
        if not collected:
            raise ValueError("FileRejected needs a message or errors")
        super().__init__(" ".join(e.message for e in collected))
        self.errors: list[ReportError] = collected

    @property
    def message(self) -> str:
        return self.errors[0].message

    @property
    def field(self) -> str | None:
        return self.errors[0].field

    @property
    def line(self) -> int | None:
        return self.errors[0].line


S3_MAX_KEY_BYTES = 1024
"""S3 refuses a key longer than this (UTF-8 bytes)."""

LONG_KEYS = "_long/"
"""Where a key derived from a source key too long for S3 goes instead (no upload prefix starts so)."""


def derived_key(prefix: str, source_key: str, suffix: str) -> str:
    """``<prefix><source_key><suffix>``, or ``<prefix>_long/<sha256 of source_key><suffix>`` when
    that is over S3's 1,024 bytes: a source key near the limit must still get its report and
    documents (the hash keeps distinct sources apart; the object names its source inside)."""
    key = f"{prefix}{source_key}{suffix}"
    if len(key.encode()) <= S3_MAX_KEY_BYTES:
        return key
    import hashlib

    return f"{prefix}{LONG_KEYS}{hashlib.sha256(source_key.encode()).hexdigest()}{suffix}"


def report_key(source_key: str) -> str:
    """Where a file's report goes: ``results/day1.csv`` → ``reports/results/day1.csv.json``;
    for a key over 1,011 bytes, ``reports/_long/<sha256 of the key>.json`` (``source_key`` inside)."""
    return derived_key("reports/", source_key, ".json")
