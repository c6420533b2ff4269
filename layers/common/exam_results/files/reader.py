"""Lines → rows: each kind of file's columns, the header checked, then the data rows."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

from exam_results.catalogue import SKILLS_ALL

from .report import FileRejected, ReportError

__all__ = [
    "ENTRY_COLUMNS",
    "ENTRY_OPTIONAL_COLUMNS",
    "RELEASE_COLUMNS",
    "RESULT_COLUMNS",
    "read_rows",
]

RESULT_COLUMNS: tuple[str, ...] = (
    "session_id",
    "id_number",
    "overall_score",
    "grade",
    "cefr_level",
    *SKILLS_ALL,
)
"""Required columns of ``results/*.csv``."""

ENTRY_COLUMNS: tuple[str, ...] = (
    "session_id",
    "exam",
    "exam_date",
    "format",
    "id_number",
    "secret_number",
    "candidate_number",
    "candidate_name",
    "date_of_birth",
    "centre_number",
    "centre_name",
)
"""Required columns of ``entries/*.csv``."""

ENTRY_OPTIONAL_COLUMNS: tuple[str, ...] = ("results_available_by", "regenerate")
"""Optional columns of ``entries/*.csv``."""

RELEASE_COLUMNS: tuple[str, ...] = ("session_id", "release_at")
"""Required columns of ``releases/*.csv`` (``release_at`` may be blank: now)."""


def read_rows(
    lines: Iterable[str],
    required_columns: Sequence[str],
    optional_columns: Sequence[str] = (),
) -> Iterator[tuple[int, dict[str, str] | ReportError]]:
    """Parse CSV ``lines`` (from ``iter_text_lines``) and yield ``(line_number, row)``.

    Line 1 is the header. Columns are found by header name (surrounding spaces ignored, names
    case-sensitive), in any order; other columns are ignored. Each data row yields once:

    * ``(line, dict)`` mapping every required column, and every optional column present in the
      header, to its value with surrounding spaces stripped; an optional column absent from the
      header is absent from the dict;
    * ``(line, ReportError(line=line, field=None, message=...))`` when the row has a different
      number of fields from the header: report it and carry on.

    ``line`` is the physical line where the row starts (a quoted value may span lines). Blank
    lines, and rows whose fields are all empty (``,,,``), are skipped but still counted in line
    numbers; they are not data rows. Count the yielded items for the report's ``rows``.

    Raises ``FileRejected`` for: an empty file; a header lacking required column(s) (one error
    per column, ``line`` 1, ``field`` the column); a required or optional column named twice;
    text that is not CSV (``csv.Error``, e.g. a stray quote), on its line; a header with no data
    rows (raised once the lines run out, nothing having been yielded); and anything
    ``iter_text_lines`` raises. Every row read before a failure is yielded before it.
    """
    reader = csv.reader(lines, strict=True)
    try:
        header_fields = next(reader, None)
    except csv.Error as exc:
        raise _not_csv(exc, 1) from None
    if header_fields is None:
        raise FileRejected("The file is empty: it has no header row and no data rows.")
    found = _columns([name.strip() for name in header_fields], required_columns, optional_columns)
    width = len(header_fields)
    rows = 0
    previous = reader.line_num  # the last line read (lines keep their line ends: one item each)
    try:
        for fields in reader:
            line = previous + 1
            previous = reader.line_num
            if not "".join(fields).strip():
                continue  # a blank line or a row of empty fields: not a data row
            rows += 1
            if len(fields) == width:
                yield line, {name: fields[position].strip() for name, position in found}
            else:
                message = f"Line {line} has {len(fields)} fields but the header row has {width} columns."
                yield line, ReportError(line=line, field=None, message=message)
    except csv.Error as exc:
        raise _not_csv(exc, previous + 1) from None
    if rows == 0:
        raise FileRejected("The file has no data rows: it holds only the header row.")


def _columns(header: list[str], required: Sequence[str], optional: Sequence[str]) -> list[tuple[str, int]]:
    """``(name, position)`` of the columns found — required ones, then the optional ones the
    header has; ``FileRejected`` for a blank header, a column missing or one named twice."""
    if not any(header):
        raise FileRejected(
            "Line 1 is blank: the first line of the file must be the header row.",
            line=1,
        )
    positions: dict[str, int] = {}
    errors: list[ReportError] = []
    wanted = set(required) | set(optional)
    for position, name in enumerate(header):
        if name in positions and name in wanted:
            if positions[name] >= 0:
                errors.append(
                    ReportError(
                        line=1,
                        field=name,
                        message=f"The column {name} appears more than once in the header row.",
                    )
                )
            positions[name] = -1
        elif name not in positions:
            positions[name] = position
    for column in required:
        if column not in positions:
            errors.append(
                ReportError(
                    line=1,
                    field=column,
                    message=f"The column {column} is missing from the header row{_case_hint(column, header)}.",
                )
            )
    if errors:
        raise FileRejected(errors=errors)
    return [(name, positions[name]) for name in (*required, *optional) if name in positions]


def _case_hint(column: str, header: Sequence[str]) -> str:
    for name in header:
        if name.lower() == column.lower():
            return f" (there is a column {name!r}: column names must be written exactly {column!r})"
    return ""


def _not_csv(exc: csv.Error, line: int) -> FileRejected:
    return FileRejected(
        f"The file is not valid CSV: line {line} could not be read ({exc}). Check the quotes on that line.",
        line=line,
    )
