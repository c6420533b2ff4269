"""The exam board's CSV files (SPEC §5): streaming reading, the report, repeated IDs, and the
field checks both kinds of file share. The row checks of each kind live beside it, in
``exam_results.result_rows`` and ``exam_results.entry_rows``: each upload function imports (and
compiles, at its cold start) only its own.

Pure code: no AWS calls. The import functions feed it the S3 object's body in chunks and do the
database checks (session and entry exist, ...) themselves.

Pipeline::

    lines = iter_text_lines(body.iter_chunks())            # bytes → str lines, streaming
    checker = ResultsFileChecker()                         # result_rows (or entry_rows.EntriesFileChecker)
    rows = 0
    for line, row in read_rows(lines, RESULT_COLUMNS):     # may raise FileRejected at any point
        rows += 1                                          # every yielded item is one data row
        if isinstance(row, ReportError):                   # a structural problem with that row
            errors.append(row)
            continue
        parsed, row_errors = checker.check(line, row, exam)
        ...

Errors come in three shapes:

* ``FileRejected`` (an exception): a whole-file problem — not UTF-8, not CSV, missing column(s),
  no data rows. Its ``errors`` are ready for the report. ``iter_text_lines`` and ``read_rows``
  are generators, so it can be raised mid-iteration (for example invalid UTF-8 on line 90 000):
  the file is then rejected; the caller may add the row errors it collected so far.
* ``ReportError`` yielded by ``read_rows`` instead of a row: that row's structure is wrong
  (wrong number of fields). The file will be rejected; reading goes on so that every bad row is
  reported.
* ``(field, message)`` pairs from the ``validate_*`` functions, or ``ReportError`` lists from
  the ``*FileChecker`` helpers, which add the line number.

Messages are sentences for a person and never contain a secret number.
"""

from __future__ import annotations

import codecs
import csv
import heapq
import os
import re
import tempfile
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from itertools import chain, islice, repeat
from operator import add, and_, eq, itemgetter, lshift, lt, or_, rshift
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .catalogue import (
    SKILLS_ALL,
)
from .credentials import ID_NUMBER_RE, SECRET_NUMBER_RE

__all__ = [
    "ENTRY_COLUMNS",
    "ENTRY_OPTIONAL_COLUMNS",
    "MAX_LINE_CHARS",
    "RELEASE_COLUMNS",
    "RESULT_COLUMNS",
    "RESULT_WINDOW_DAYS",
    "ROW_BATCH",
    "DuplicateIds",
    "FieldProblem",
    "FileRejected",
    "Report",
    "ReportError",
    "RowReader",
    "check_session_id",
    "derived_key",
    "duplicate_errors",
    "duplicate_problem",
    "iter_text_lines",
    "parse_instant",
    "read_rows",
    "report_errors",
    "report_key",
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

RESULT_WINDOW_DAYS: Mapping[str, int] = {"PB": 35, "CB": 14}
"""Default result window: days after the exam date, by format."""

MAX_LINE_CHARS = 1_000_000
"""A physical line longer than this rejects the file (it is not a CSV of entries or results)."""

MAX_TEXT_CHARS = 200
"""Longest candidate/centre text value accepted in an entries file."""

FieldProblem = tuple[str, str]
"""``(field, message)``: one problem with one column of a row."""


# --------------------------------------------------------------------------------------------
# Report


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


# --------------------------------------------------------------------------------------------
# Bytes → lines → rows


def _lines_in(data: bytes) -> int:
    """Line ends (LF, CRLF or a lone CR) in ``data``."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def iter_text_lines(byte_chunks: Iterable[bytes]) -> Iterator[str]:
    """Decode UTF-8 chunks into lines, streaming (only one chunk and its lines held at a time).

    A BOM at the start is dropped; a multibyte character may be split across chunks. Lines end
    at LF, CRLF or a lone CR and keep their line end (as a file opened with ``newline=""``
    would, which is what ``csv.reader`` wants), so a quoted value spanning lines survives and
    each yielded item is one physical line.

    Raises ``FileRejected`` (field None) when the bytes are not UTF-8 (naming the line), when
    the text holds a NUL character (a binary file) or when a line exceeds ``MAX_LINE_CHARS``;
    as with a generator, it is raised when iteration reaches that point.

    Speed: the lines of a chunk are split at once (``str.splitlines`` when the chunk holds no
    other Unicode line break, which is the rule) and handed out by ``itertools.chain``, so
    ``csv.reader`` pulls each line without running Python code. ``RowReader`` takes them a
    chunk at a time (``TextLines.lists``).
    """
    return TextLines(_line_lists(byte_chunks))


class TextLines:
    """The lines of ``iter_text_lines``: an iterator of lines, or (``lists``, for ``RowReader``)
    of each chunk's complete lines as one list. Use one or the other."""

    __slots__ = ("_lines", "lists")

    def __init__(self, lists: Iterator[list[str]]) -> None:
        self.lists = lists
        self._lines = chain.from_iterable(lists)

    def __iter__(self) -> Iterator[str]:
        return self._lines  # csv.reader then pulls from the chain itself, in C

    def __next__(self) -> str:
        return next(self._lines)


_OTHER_LINE_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
"""Characters ``str.splitlines`` ends lines at besides LF and CR (not line ends in a CSV)."""


def _line_lists(byte_chunks: Iterable[bytes]) -> Iterator[list[str]]:
    """``iter_text_lines``, one list of lines per chunk."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    pending = ""  # the start of a line whose end has not been seen yet; never holds "\n"
    done = 0  # lines yielded so far
    final = False
    chunks = iter(byte_chunks)
    while not final:
        chunk = next(chunks, None)
        if chunk is None:
            final = True
            chunk = b""
        elif not chunk:
            continue
        try:
            text = decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            before = bytes(exc.object[: exc.start])
            line = done + _lines_in(before) + 1
            if pending.endswith("\r") and not before.startswith(b"\n"):
                line += 1  # the CR ending pending is a line end of its own
            raise FileRejected(
                f"The file is not UTF-8 text: line {line} holds bytes that are not valid UTF-8. "
                "Save the file as CSV UTF-8 and upload it again.",
                line=line,
            ) from None
        if "\x00" in text:
            line = done + _lines_in((pending + text[: text.index("\x00")]).encode()) + 1
            raise FileRejected(
                f"The file is not a CSV text file: line {line} holds a NUL character.",
                line=line,
            )
        if text:
            buf = pending + text if pending else text
            if not any(other in buf for other in _OTHER_LINE_BREAKS):
                # splitlines ends lines exactly at LF, CRLF and lone CR here. The last piece is
                # pending unless it ends with LF: no line end yet, or a CR whose LF may follow.
                out = buf.splitlines(keepends=True)
                pending = "" if out[-1][-1] == "\n" else out.pop()
            else:
                out = []
                parts = buf.split("\n")
                pending = parts.pop()
                for part in parts:
                    cr = part.find("\r")
                    if cr < 0 or cr == len(part) - 1:
                        out.append(part + "\n")
                    else:  # lone CRs end lines too
                        segments = part.split("\r")
                        last = segments.pop()
                        out.extend(segment + "\r" for segment in segments[:-1])
                        if last:
                            out.append(segments[-1] + "\r")
                            out.append(last + "\n")
                        else:
                            out.append(segments[-1] + "\r\n")
                # Lone CRs inside the pending text end lines too (a CR-only file must not pile up).
                cr = pending.rfind("\r", 0, len(pending) - 1)
                if cr >= 0:
                    out.extend(segment + "\r" for segment in pending[: cr + 1].split("\r")[:-1])
                    pending = pending[cr + 1 :]
            if out:
                done += len(out)
                yield out
            if len(pending) > MAX_LINE_CHARS:
                raise FileRejected(
                    f"Line {done + 1} is longer than {MAX_LINE_CHARS} characters: "
                    "the file does not look like a CSV file of entries or results.",
                    line=done + 1,
                )
    if pending:
        yield [pending]


def _case_hint(column: str, header: Sequence[str]) -> str:
    for name in header:
        if name.lower() == column.lower():
            return f" (there is a column {name!r}: column names must be written exactly {column!r})"
    return ""


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
    ``iter_text_lines`` raises.

    Rows are read ``ROW_BATCH`` at a time (``RowReader.batches``); every row read before a
    failure is yielded before the exception. Hot loops can use ``RowReader`` directly.
    """
    reader = RowReader(lines, required_columns, optional_columns)
    to_dict = reader.row_dict
    for batch in reader.batches():
        for line, fields in batch:
            yield line, (fields if isinstance(fields, ReportError) else to_dict(fields))


ROW_BATCH = 100
"""Rows per list from ``RowReader.batches`` (by default): one BatchGetItem's worth of keys."""


def _not_csv(exc: csv.Error, line: int) -> FileRejected:
    return FileRejected(
        f"The file is not valid CSV: line {line} could not be read ({exc}). Check the quotes on that line.",
        line=line,
    )


class RowReader:
    """``read_rows`` without the per-row dict: the header checked, then the data rows as the
    raw field lists of ``csv.reader``, a batch at a time.

    For hot loops (the results validation pass): a row is handed over as it was parsed, so a
    caller can test the common case on the raw values (which then must not need stripping) and
    build the stripped dict (``row_dict``, exactly ``read_rows``'s) only for the other rows.

    The constructor reads and checks the header and raises ``FileRejected`` as ``read_rows``
    does. Then:

    * ``columns``: the names of the columns found (required ones, then the optional ones
      present in the header), ``positions`` their indexes in a row's fields;
    * ``width``: the number of header fields (every row handed over has exactly that many).
    """

    def __init__(
        self,
        lines: Iterable[str],
        required_columns: Sequence[str],
        optional_columns: Sequence[str] = (),
    ) -> None:
        self._lists: Iterator[list[str]] | None = None  # split mode: the chunks' lines still to read
        self._first: list[str] = []  # split mode: the first chunk's lines after the header
        self._offset = 0  # csv mode: lines read before the csv reader started
        reader = None
        header_fields: list[str] | None
        lists = lines.lists if isinstance(lines, TextLines) else None
        first = next(lists, None) if lists is not None else None
        if lists is not None and (first is None or _quote_free(first[:1])):
            self._lists, self._first = lists, (first or [])[1:]
            header_fields = None if first is None else _split_line(first[0])
        else:
            source = chain.from_iterable(chain([first], lists)) if lists is not None and first else lines
            reader = csv.reader(source, strict=True)
            try:
                header_fields = next(reader, None)
            except csv.Error as exc:
                raise _not_csv(exc, 1) from None
        if header_fields is None:
            raise FileRejected("The file is empty: it has no header row and no data rows.")
        header = [name.strip() for name in header_fields]
        if not any(header):
            raise FileRejected(
                "Line 1 is blank: the first line of the file must be the header row.",
                line=1,
            )

        positions: dict[str, int] = {}
        errors: list[ReportError] = []
        wanted = set(required_columns) | set(optional_columns)
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
        for column in required_columns:
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

        found = [(name, positions[name]) for name in (*required_columns, *optional_columns) if name in positions]
        self.columns: tuple[str, ...] = tuple(name for name, _ in found)
        self.positions: tuple[int, ...] = tuple(position for _, position in found)
        self.width = len(header_fields)
        self._found = found
        self._reader = reader
        self._failure_line = 0

    def row_dict(self, fields: Sequence[str]) -> dict[str, str]:
        """A row of ``batches`` as ``read_rows`` gives it: column name → value, stripped."""
        return {name: fields[position].strip() for name, position in self._found}

    def batches(self, size: int = ROW_BATCH) -> Iterator[list[tuple[int, list[str] | ReportError]]]:
        """``blocks`` as lists of ``(line, fields)`` pairs."""
        for lines, rows in self.blocks(size):
            yield list(zip(lines, rows, strict=True))

    def blocks(self, size: int = ROW_BATCH) -> Iterator[tuple[Sequence[int], list[list[str] | ReportError]]]:
        """The data rows ``size`` at a time (only the last block shorter), as ``(lines, rows)``:
        ``rows[i]`` starts on ``lines[i]`` and is either all ``width`` fields of the row, *not*
        stripped, or a ``ReportError`` for a row with another number of fields; ``lines`` is a
        ``range`` when the rows are on consecutive lines (the rule).

        Blank rows are skipped, lines counted, and ``FileRejected`` raised exactly as in
        ``read_rows``; when reading fails, the rows read before are yielded first. Call once.
        """
        width = self.width
        handed = 0
        pending_lines: Sequence[int] = ()
        pending: list[list[str] | ReportError] = []
        failure: Exception | None = None
        for lines, rows, failure in self._raw_batches(size):
            items: list[list[str] | ReportError]
            if set(map(len, rows)) == {width} and all(map(str.strip, map(_FIRST, rows))):  # no odd or blank row
                items = rows  # type: ignore[assignment]
            else:
                kept = []
                items = []
                for line, fields in zip(lines, rows, strict=True):
                    if not fields or not "".join(fields).strip():
                        continue
                    kept.append(line)
                    if len(fields) == width:
                        items.append(fields)
                    else:
                        message = f"Line {line} has {len(fields)} fields but the header row has {width} columns."
                        items.append(ReportError(line=line, field=None, message=message))
                lines = kept
            if pending:
                pending_lines = [*pending_lines, *lines]
                pending.extend(items)
            else:
                pending_lines, pending = lines, items
            if len(pending) == size:  # the rule: a whole block read at once
                handed += size
                yield pending_lines, pending
                pending_lines, pending = (), []
            while len(pending) >= size:
                handed += size
                yield pending_lines[:size], pending[:size]
                pending_lines, pending = pending_lines[size:], pending[size:]
            if failure is not None:
                break
        if pending:
            handed += len(pending)
            yield pending_lines, pending
        if isinstance(failure, csv.Error):
            raise _not_csv(failure, self._failure_line)
        if failure is not None:
            raise failure
        if handed == 0:
            raise FileRejected("The file has no data rows: it holds only the header row.")

    def _raw_batches(self, size: int) -> Iterator[tuple[Sequence[int], list[list[str]], Exception | None]]:
        """``(lines, rows, failure)``: rows as read — each a list of fields, starting on
        ``lines[i]`` — at most ``size`` at a time; ``failure`` the exception that ended reading
        (its rows first), else None.

        Two ways of reading, with the same rows: a chunk of lines without a double quote (the
        rule for these files) is split at its commas (``str.split``: a CSV line without quotes
        is exactly that), about 3 times faster than ``csv.reader``; from the first chunk with a
        quote (or a line longer than ``csv.field_size_limit``) to the end of the file, the lines
        go to ``csv.reader``. Chunks end at line ends and, without quotes, a line is a row, so
        the switch happens between two rows.
        """
        previous = 1  # the last line read: the header's
        if self._reader is None:
            lists = self._lists
            assert lists is not None
            current: list[str] | None = self._first
            held: list[list[str]] = []  # rows split but not handed over yet (fewer than size)
            failure: Exception | None = None
            while current is not None:
                if current and not _quote_free(current):
                    self._reader = csv.reader(chain.from_iterable(chain([current], lists)), strict=True)
                    break
                at = 0
                while at < len(current):  # a block's worth of lines at a time: few rows held
                    texts = current[at : at + size - len(held)]
                    at += len(texts)
                    held += map(str.split, map(str.rstrip, texts, repeat("\r\n")), repeat(","))
                    if len(held) == size:
                        yield range(previous + 1, previous + 1 + size), held, None
                        previous += size
                        held = []
                try:
                    current = next(lists, None)
                except Exception as exc:  # from the lines (not UTF-8, S3, ...)
                    failure = exc
                    break
            if held or failure is not None:
                yield range(previous + 1, previous + 1 + len(held)), held, failure
                previous += len(held)
            if self._reader is None:
                return
            self._offset = previous
        reader = self._reader
        offset = self._offset
        previous = offset + reader.line_num
        while True:
            read: list[list[str]] = []
            failure = None
            try:
                read.extend(islice(reader, size))  # rows read before an exception stay in the list
            except csv.Error as exc:
                failure = exc
            except Exception as exc:  # from the lines (not UTF-8, S3, ...): after the rows read so far
                failure = exc
            end = offset + reader.line_num
            lines: Sequence[int]
            if failure is None and end - previous == len(read):
                lines = range(previous + 1, end + 1)
                previous = end
            else:  # each row's lines are its line ends plus one (lines keep their line ends)
                starts = []
                for fields in read:
                    starts.append(previous + 1)
                    previous += 1 + sum(f.count("\n") + f.count("\r") - f.count("\r\n") for f in fields)
                lines = starts
                if failure is None:
                    previous = end
            self._failure_line = previous + 1
            yield lines, read, failure
            if failure is not None or len(read) < size:
                return


def _quote_free(lines: list[str]) -> bool:
    """No double quote in ``lines`` and no line longer than a field may be (``csv.reader``'s
    limit): then each line is exactly its comma-separated fields."""
    return '"' not in "".join(lines) and max(map(len, lines), default=0) <= csv.field_size_limit()


def _split_line(line: str) -> list[str]:
    """A line without quotes as ``csv.reader`` reads it."""
    return line.rstrip("\r\n").split(",") if line.rstrip("\r\n") else []


# --------------------------------------------------------------------------------------------
# Field checks (regexes compiled once; the ID and Secret Number formats are credentials')

_ID_NUMBER = ID_NUMBER_RE
_SECRET = SECRET_NUMBER_RE
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}.*")
_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _show(value: str, limit: int = 40) -> str:
    """A (non-secret) value quoted for a message, shortened if long."""
    if len(value) > limit:
        value = value[:limit] + "…"
    return f"'{value}'"


def _whole(raw: str) -> int | None:
    """The value of an ASCII whole number of at most 9 digits (optionally negative), or None."""
    digits = raw[1:] if raw[:1] == "-" else raw
    if 0 < len(digits) <= 9 and digits.isascii() and digits.isdigit():
        return int(raw)
    return None


def _id_number(raw: str, problems: list[FieldProblem]) -> str:
    if not raw:
        problems.append(("id_number", "id_number is required."))
    elif not _ID_NUMBER.fullmatch(raw):
        problems.append(
            (
                "id_number",
                f"ID Number {_show(raw)} is not valid: it must be 6 to 12 letters or digits.",
            )
        )
    return raw.upper()


def check_session_id(raw: str, problems: list[FieldProblem]) -> str:
    """A stripped ``session_id`` value; a problem added when it is blank or not well formed."""
    if not raw:
        problems.append(("session_id", "session_id is required."))
    elif not _SESSION_ID.fullmatch(raw):
        problems.append(
            (
                "session_id",
                (
                    f"session_id {_show(raw)} is not valid: use up to 64 letters, digits, '-', '_' "
                    "or '.', for example C1A-2018-08-24-PB."
                ),
            )
        )
    return raw


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
                    f"{field} {_show(raw)} is not an ISO 8601 date and "
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
                    f"{field} {_show(raw)} needs a UTC offset, for example "
                    "2024-04-05T09:00:00+01:00 or 2024-04-05T08:00:00Z."
                ),
            )
        )
        return None
    return parsed.astimezone(UTC)


_session_id = check_session_id  # the name the entries and results checks import


def _parse_date(raw: str) -> date | None:
    if not _ISO_DATE.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# Repeated ID Numbers


_ID_KEY_OFFSET: tuple[int, ...] = tuple(sum(36**k for k in range(1, n)) for n in range(13))
"""``_ID_KEY_OFFSET[n]``: the first key of the IDs of ``n`` characters (see ``DuplicateIds``)."""

_DIGITS36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LINE_BITS = 32
_LINE_MASK = (1 << _LINE_BITS) - 1
_FIRST = itemgetter(0)


def _id_key(id_number: str) -> int:
    """The key of an ID Number of 1 to 12 ASCII letters and digits (case-insensitive)."""
    return _ID_KEY_OFFSET[len(id_number)] + int(id_number, 36)


def _id_of_key(key: int) -> str:
    """The ID Number (upper case) whose key is ``key``: ``_id_key`` undone."""
    length = max(n for n in range(1, 13) if _ID_KEY_OFFSET[n] <= key)
    value = key - _ID_KEY_OFFSET[length]
    digits = []
    for _ in range(length):
        value, digit = divmod(value, 36)
        digits.append(_DIGITS36[digit])
    return "".join(reversed(digits))


def duplicate_problem(id_number: str, first_line: int) -> FieldProblem:
    """The report's words for a repeated ID Number (one home for the message)."""
    return (
        "id_number",
        f"ID Number {id_number.upper()} appears more than once in this file (first on line {first_line}).",
    )


class DuplicateIds:
    """ "No ID twice in a file" with memory that does not grow with the file.

    Rows are recorded as they are checked (``add``: a block of rows; ``add_one``: a row); once
    the file has been read, ``repeats`` names every row whose ID Number came before
    (case-insensitively), with the line of its first occurrence. Exact: never a false
    duplicate, never a missed one.

    How: an ID Number (1 to 12 ASCII letters and digits; callers check the format first) read
    in base 36 and shifted by the count of shorter IDs is a key below 2**63 that no other ID
    shares (an encoding, not a hash). Keys and lines are kept in two arrays (12 bytes a row)
    of at most ``run_rows`` rows; full arrays are sorted by key, then line (as one integer,
    ``key << 32 | line``; nothing to do when the IDs came in increasing order) and spilled as a
    *run* to an anonymous temporary file (``/tmp`` on Lambda: 12 MB for a million rows).
    ``repeats`` merges the runs and the arrays a block at a time: equal keys end up side by
    side, the first occurrence first. Memory: ``run_rows`` rows, plus a read buffer per run of
    ``run_rows // runs`` rows (at least 64) — flat up to millions of rows.

    Speed: ``add``, the sorts and the merge run no Python code per row (``map`` over C
    functions, C-level sorts, ``bisect``); only a file that does hold a repeat is walked row by
    row, to name them. Line numbers below 2**32.
    """

    RUN_ROWS = 1 << 13

    def __init__(self, run_rows: int = RUN_ROWS) -> None:
        self._run_rows = run_rows
        self._keys = array("Q")
        self._lines = array("I")
        self._runs: list[tuple[int, int]] = []  # (offset in the file, rows)
        self._file: Any = None
        self._size = 0
        self.count = 0
        """Rows recorded so far."""

    def add(self, lines: Sequence[int], id_numbers: Sequence[str], lengths: set[int] | None = None) -> None:
        """Record rows: ``id_numbers[i]`` is on ``lines[i]`` (in any order). Every ID must be
        1 to 12 ASCII letters and digits — checked by the caller (``add_one`` checks).
        ``lengths``: the set of the IDs' lengths, when the caller has it already."""
        n = len(lines)
        if n != len(id_numbers):
            raise ValueError("one line per ID Number")
        lengths = set(map(len, id_numbers)) if lengths is None else set(lengths)
        if len(lengths) == 1:  # IDs of one length (the rule): one offset for all
            self._keys.extend(map(add, map(int, id_numbers, repeat(36)), repeat(_ID_KEY_OFFSET[lengths.pop()])))
        else:
            self._keys.extend(
                map(add, map(_ID_KEY_OFFSET.__getitem__, map(len, id_numbers)), map(int, id_numbers, repeat(36)))
            )
        self._lines.extend(lines)
        self.count += n
        if len(self._keys) >= self._run_rows:
            self._spill()

    def add_one(self, line: int, id_number: str) -> None:
        """Record one row; an ID Number that is not 1 to 12 ASCII letters and digits is ignored
        (it is a bad ID, reported as such, and cannot repeat a valid one)."""
        if 0 < len(id_number) <= 12 and id_number.isascii() and id_number.isalnum():
            self.add((line,), (id_number,))

    def _sorted(self) -> tuple[array[int], array[int]]:
        """The arrays in memory sorted by key, then line; emptied."""
        keys, lines = self._keys, self._lines
        self._keys, self._lines = array("Q"), array("I")
        if all(map(lt, keys, islice(keys, 1, None))):  # IDs in increasing order (files often are)
            return keys, lines
        rows = sorted(map(or_, map(lshift, keys, repeat(_LINE_BITS)), lines))  # by key, then line
        return array("Q", map(rshift, rows, repeat(_LINE_BITS))), array("I", map(and_, rows, repeat(_LINE_MASK)))

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="ids-")  # noqa: SIM115  # closed by close()
        keys, lines = self._sorted()
        self._file.write(keys.tobytes() + lines.tobytes())
        self._runs.append((self._size, len(keys)))
        self._size += 12 * len(keys)

    def _read_run(self, offset: int, rows: int, block: int, with_lines: bool) -> Iterator[list[int]]:
        """A spilled run, ``block`` rows at a time: sorted lists of keys, or of
        ``key << 32 | line`` when ``with_lines``."""
        fd = self._file.fileno()
        for start in range(0, rows, block):
            n = min(block, rows - start)
            keys = array("Q", os.pread(fd, 8 * n, offset + 8 * start))
            if not with_lines:
                yield keys.tolist()
                continue
            lines = array("I", os.pread(fd, 4 * n, offset + 8 * rows + 4 * start))
            yield list(map(or_, map(lshift, keys, repeat(_LINE_BITS)), lines))

    def _sorted_blocks(self, with_lines: bool) -> Iterator[list[int]]:
        """Every row recorded, in order, in sorted lists of keys (or of ``key << 32 | line``
        when ``with_lines``); rows with the same ID are always in the same list.

        A k-way merge done a block at a time in C: each step takes, from every run and from the
        rows in memory, the rows whose key is below the smallest last key among the current
        blocks of the runs that have more to come (a later block may still hold that key), and
        sorts them (``list.sort`` merges the sorted pieces it is given)."""
        if self._keys:
            self._keys, self._lines = self._sorted()  # kept sorted: repeats() may be called again
        shift = _LINE_BITS if with_lines else 0
        if with_lines:
            rest = list(map(or_, map(lshift, self._keys, repeat(_LINE_BITS)), self._lines))
        else:
            rest = self._keys.tolist()
        if not self._runs:
            yield rest
            return
        self._file.flush()
        block = max(64, self._run_rows // len(self._runs))
        sources: list[tuple[Iterator[list[int]], list[int], list[int]]] = []  # (blocks, current, [blocks left])
        for offset, rows in self._runs:
            blocks = self._read_run(offset, rows, block, with_lines)
            sources.append((blocks, next(blocks), [-(-rows // block) - 1]))
        at = 0  # rest[at:] not taken yet
        while sources:
            pending = [source for source in sources if source[2][0]]
            bound_key = min(current[-1] >> shift for _, current, _ in pending) if pending else None
            bound = None if bound_key is None else bound_key << shift
            taken: list[int] = []
            following = []
            for blocks, current, left in sources:
                cut = len(current) if bound is None else bisect_left(current, bound)
                taken += current[:cut]
                if cut < len(current):
                    following.append((blocks, current[cut:], left))
                elif left[0]:
                    left[0] -= 1
                    following.append((blocks, next(blocks), left))
            cut = len(rest) if bound is None else bisect_left(rest, bound, at)
            taken += rest[at:cut]
            at = cut
            sources = following
            if not taken:  # a run's whole block holds one key: read on until the key changes
                for blocks, current, left in sources:
                    if left[0] and current[-1] >> shift == bound_key:
                        left[0] -= 1
                        current += next(blocks)
                continue
            taken.sort()
            yield taken
        if at < len(rest):
            yield rest[at:]

    def repeats(self, limit: int | None = None) -> tuple[list[tuple[int, int, str]], int]:
        """``([(line, first_line, ID Number), ...], count)``: every row whose ID Number came
        before, by line — the first ``limit`` of them when given — and how many there are."""
        if not any(any(map(eq, keys, islice(keys, 1, None))) for keys in self._sorted_blocks(with_lines=False)):
            return [], 0  # the rule: no repeat, and no Python code per row
        found: list[tuple[int, int, int]] = []  # a max-heap on line (negated) of the first `limit`
        total = 0
        for rows in self._sorted_blocks(with_lines=True):
            previous = -1
            first = 0
            for row in rows:
                key = row >> _LINE_BITS
                if key != previous:
                    previous, first = key, row & _LINE_MASK
                    continue
                total += 1
                item = (-(row & _LINE_MASK), first, key)
                if limit is None or len(found) < limit:
                    heapq.heappush(found, item)
                elif item > found[0]:
                    heapq.heapreplace(found, item)
        listed = sorted((-line, first, _id_of_key(key)) for line, first, key in found)
        return listed, total

    def close(self) -> None:
        """Delete the temporary file (also done when the object is garbage-collected)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def report_errors(line: int, problems: Iterable[FieldProblem]) -> list[ReportError]:
    """A row's ``(field, message)`` problems as the report's errors for its ``line``."""
    return [ReportError(line=line, field=f, message=m) for f, m in problems]


_report_errors = report_errors  # the name the entries and results checks import


def duplicate_errors(ids: DuplicateIds, limit: int | None = None) -> tuple[list[ReportError], int]:
    """The report's errors for the repeated ID Numbers of a file read to its end: the first
    ``limit`` by line (all when None), and how many there are."""
    listed, total = ids.repeats(limit)
    return [
        ReportError(line=line, field=field, message=message)
        for line, first, id_number in listed
        for field, message in (duplicate_problem(id_number, first),)
    ], total
