"""Entries files, row by row (SPEC §5): the checks of an entries row and of a file's sessions
that need no database.

Pure code, like ``exam_results.files`` (reading, reports, repeated IDs), which it builds on;
only the entries import imports it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from exam_results.catalogue import get_exam
from exam_results.credentials import ID_NUMBER_RE, SECRET_NUMBER_RE
from exam_results.files.duplicates import DuplicateIds
from exam_results.files.fields import check_id_number, check_session_id, parse_date, parse_instant, quoted
from exam_results.files.report import FieldProblem, ReportError, report_errors

__all__ = [
    "CENTRE_NUMBER_RE",
    "EntriesFileChecker",
    "ParsedEntry",
    "SessionConsistency",
    "SessionSpec",
    "default_results_available_by",
    "validate_entry_row",
]

RESULT_WINDOW_DAYS: Mapping[str, int] = {"PB": 35, "CB": 14}
"""Default result window: days after the exam date, by format."""

MAX_TEXT_CHARS = 200
"""Longest candidate/centre text value accepted in an entries file."""

UK_TIME = ZoneInfo("Europe/London")  # the tzdata package ships the database with the layer


def _london_nine_am(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UK_TIME).astimezone(UTC)


def default_results_available_by(exam_date: date, format: str) -> datetime:
    """09:00 UK time (Europe/London, summer time included) on the exam date + 35 days (PB) or
    + 14 days (CB), as an aware UTC datetime. Raises KeyError for another format."""
    return _london_nine_am(exam_date + timedelta(days=RESULT_WINDOW_DAYS[format]))


@lru_cache(maxsize=4096)
def _default_for(exam_date: date, exam_format: str) -> datetime:
    # Rows of one session share the date and format: compute each default once.
    return default_results_available_by(exam_date, exam_format)


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """A valid entries row.

    ``secret_number`` None means "generate one" (blank in the file); it is left out of repr so
    it never reaches a log. ``results_available_by`` is aware UTC: the file's value, or the
    default when blank (``results_available_by_given`` False). ``regenerate`` is True for
    ``regenerate`` = ``yes``.
    """

    session_id: str
    exam_code: str
    exam_date: date
    format: str
    id_number: str
    secret_number: str | None = dataclass_field(repr=False)
    candidate_number: str
    candidate_name: str
    date_of_birth: date
    centre_number: str
    centre_name: str
    results_available_by: datetime
    results_available_by_given: bool
    regenerate: bool


_TEXT_COLUMNS = ("candidate_number", "candidate_name", "centre_number", "centre_name")

CENTRE_NUMBER_RE = re.compile(r"[A-Z]{2}[0-9]{1,6}")
"""A centre number as exam boards issue it: the centre's 2-letter country code and 1 to 6 digits
(``GB123``). Strict, so it is safe in a document's key and on a page as it is."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""C0 controls (tab, CR and LF included), DEL, C1 controls, and the Unicode line and paragraph
separators: never part of a name, and a bell, an escape or a line break would reach the
Confirmation of Entry, the centre's CSV and the emails."""


def _control_problems(row: Mapping[str, str]) -> list[FieldProblem]:
    if not _CONTROL.search("".join(row.values())):
        return []  # the rule: one search a row
    problems: list[FieldProblem] = []
    for column, value in row.items():
        found = _CONTROL.search(value)
        if found:
            problems.append(
                (
                    column,
                    (
                        f"{column} holds a control character (U+{ord(found.group()):04X}, character "
                        f"{found.start() + 1}): line breaks, tabs and other control characters are "
                        "not allowed in a field."
                    ),
                )
            )
    return problems


def validate_entry_row(
    row: Mapping[str, str],
) -> tuple[ParsedEntry | None, list[FieldProblem]]:
    """Check one entries row on its own (no database, no other rows).

    Checks: session_id; ``exam`` a catalogue code and ``format`` PB or CB (either case, kept
    upper-case); ``exam_date`` and ``date_of_birth`` real ISO dates (birth before the exam);
    ID Number 6–12 letters/digits (kept upper-case); ``secret_number`` 4–8 digits or blank
    (generate); candidate and centre number and name present (at most 200 characters);
    optional ``results_available_by`` ISO 8601 with a UTC offset (blank: the default);
    optional ``regenerate`` ``yes``, ``no`` or blank (and not ``yes`` beside a given secret);
    ``centre_number`` as exam boards issue it (``CENTRE_NUMBER_RE``).

    Every field is first checked for control characters (``_CONTROL``); a field holding one
    gets that problem alone.

    Returns ``(ParsedEntry, [])`` or ``(None, [(field, message), ...])``.
    """
    control = _control_problems(row)
    if control:
        bad = {column for column, _ in control}
        _, others = _validate_entry_row(row)
        return None, [*control, *(p for p in others if p[0] not in bad)]
    return _validate_entry_row(row)


def _validate_entry_row(
    row: Mapping[str, str],
) -> tuple[ParsedEntry | None, list[FieldProblem]]:
    problems: list[FieldProblem] = []
    session_id = check_session_id(row.get("session_id", "").strip(), problems)

    raw_exam = row.get("exam", "").strip()
    exam = get_exam(raw_exam) if raw_exam else None
    if not raw_exam:
        problems.append(("exam", "exam is required."))
    elif exam is None:
        problems.append(
            (
                "exam",
                f"exam {quoted(raw_exam)} is not a known exam code (A2K, B1P, B2F, C1A or C2P).",
            )
        )

    raw_date = row.get("exam_date", "").strip()
    exam_date = parse_date(raw_date)
    if not raw_date:
        problems.append(("exam_date", "exam_date is required."))
    elif exam_date is None:
        problems.append(
            (
                "exam_date",
                f"exam_date {quoted(raw_date)} is not a date written YYYY-MM-DD.",
            )
        )

    exam_format = row.get("format", "").strip().upper()
    if exam_format not in RESULT_WINDOW_DAYS:
        if exam_format:
            problems.append(
                (
                    "format",
                    f"format {quoted(row['format'].strip())} must be PB (paper) or CB (computer).",
                )
            )
        else:
            problems.append(("format", "format is required: PB (paper) or CB (computer)."))

    id_number = check_id_number(row.get("id_number", "").strip(), problems)

    secret = row.get("secret_number", "").strip()
    if secret and not SECRET_NUMBER_RE.fullmatch(secret):
        # Never echo the value: it may be a real secret with a typo.
        problems.append(
            (
                "secret_number",
                "secret_number must be 4 to 8 digits, or blank to have one generated.",
            )
        )

    texts: dict[str, str] = {}
    for column in _TEXT_COLUMNS:
        value = row.get(column, "").strip()
        if not value:
            problems.append((column, f"{column} is required."))
        elif column == "centre_number" and not CENTRE_NUMBER_RE.fullmatch(value):
            problems.append(
                (
                    column,
                    (
                        f"centre_number {quoted(value)} is not a centre number: 2 capital letters and "
                        "1 to 6 digits, for example GB123."
                    ),
                )
            )
        elif len(value) > MAX_TEXT_CHARS:
            problems.append((column, f"{column} is longer than {MAX_TEXT_CHARS} characters."))
        texts[column] = value

    raw_birth = row.get("date_of_birth", "").strip()
    birth = parse_date(raw_birth)
    if not raw_birth:
        problems.append(("date_of_birth", "date_of_birth is required."))
    elif birth is None:
        problems.append(
            (
                "date_of_birth",
                f"date_of_birth {quoted(raw_birth)} is not a date written YYYY-MM-DD.",
            )
        )
    elif exam_date is not None and birth >= exam_date:
        problems.append(("date_of_birth", "date_of_birth must be before the exam date."))

    available: datetime | None = None
    raw_available = row.get("results_available_by", "").strip()
    if raw_available:
        available = parse_instant("results_available_by", raw_available, problems)

    raw_regenerate = row.get("regenerate", "").strip().lower()
    regenerate = raw_regenerate == "yes"
    if raw_regenerate not in ("", "yes", "no"):
        problems.append(
            (
                "regenerate",
                f"regenerate {quoted(row['regenerate'].strip())} must be yes, no or blank.",
            )
        )
    elif regenerate and secret:
        problems.append(
            (
                "regenerate",
                (
                    "regenerate is yes but a secret_number is given: leave secret_number blank to "
                    "have a new one generated, or set regenerate to no."
                ),
            )
        )

    if problems or exam is None or exam_date is None or birth is None or exam_format not in RESULT_WINDOW_DAYS:
        return None, problems
    return (
        ParsedEntry(
            session_id=session_id,
            exam_code=exam.code,
            exam_date=exam_date,
            format=exam_format,
            id_number=id_number,
            secret_number=secret or None,
            candidate_number=texts["candidate_number"],
            candidate_name=texts["candidate_name"],
            date_of_birth=birth,
            centre_number=texts["centre_number"],
            centre_name=texts["centre_name"],
            results_available_by=available if available is not None else _default_for(exam_date, exam_format),
            results_available_by_given=available is not None,
            regenerate=regenerate,
        ),
        problems,
    )


@dataclass(slots=True)
class SessionSpec:
    """A session as one entries file describes it (from its first valid row; a later row's
    ``results_available_by`` fills it in if the first row left it blank)."""

    session_id: str
    exam_code: str
    exam_date: date
    format: str
    results_available_by: datetime
    results_available_by_given: bool
    first_line: int


class SessionConsistency:
    """The rows of one session must agree on exam, exam_date and format (and on
    results_available_by where they give it). ``sessions`` then describes each session."""

    def __init__(self) -> None:
        self.sessions: dict[str, SessionSpec] = {}

    def check(self, line: int, entry: ParsedEntry) -> list[FieldProblem]:
        """Problems of this row against the first row of its session (none for that first row)."""
        spec = self.sessions.get(entry.session_id)
        if spec is None:
            self.sessions[entry.session_id] = SessionSpec(
                session_id=entry.session_id,
                exam_code=entry.exam_code,
                exam_date=entry.exam_date,
                format=entry.format,
                results_available_by=entry.results_available_by,
                results_available_by_given=entry.results_available_by_given,
                first_line=line,
            )
            return []
        problems: list[FieldProblem] = []
        sid = entry.session_id
        for column, mine, theirs in (
            ("exam", entry.exam_code, spec.exam_code),
            ("exam_date", entry.exam_date, spec.exam_date),
            ("format", entry.format, spec.format),
        ):
            if mine != theirs:
                problems.append(
                    (
                        column,
                        (
                            f"{column} {mine} disagrees with line {spec.first_line}, which gives "
                            f"{theirs} for session {sid}: the rows of one session must agree on "
                            "exam, exam_date and format."
                        ),
                    )
                )
        if entry.results_available_by_given:
            if not spec.results_available_by_given:
                if not problems:
                    spec.results_available_by = entry.results_available_by
                    spec.results_available_by_given = True
            elif entry.results_available_by != spec.results_available_by:
                problems.append(
                    (
                        "results_available_by",
                        (
                            "results_available_by "
                            f"{entry.results_available_by.isoformat().replace('+00:00', 'Z')} "
                            f"disagrees with an earlier row of session {sid}, which gives "
                            f"{spec.results_available_by.isoformat().replace('+00:00', 'Z')}."
                        ),
                    )
                )
        return problems


class EntriesFileChecker:
    """The checks of one entries file that need no database: ``validate_entry_row``, "no ID
    twice in a file" (``duplicate_errors(checker.ids)`` once the file is read, as for results)
    and ``SessionConsistency``. One instance per file, rows in file order; ``sessions`` then
    maps each session_id to its ``SessionSpec``."""

    def __init__(self) -> None:
        self.ids = DuplicateIds()
        self.consistency = SessionConsistency()

    @property
    def sessions(self) -> dict[str, SessionSpec]:
        return self.consistency.sessions

    def check(self, line: int, row: Mapping[str, str]) -> tuple[ParsedEntry | None, list[ReportError]]:
        """``(ParsedEntry, [])`` or ``(None, [ReportError(line, field, message), ...])``."""
        parsed, problems = validate_entry_row(row)
        raw_id = row.get("id_number", "").strip()
        if ID_NUMBER_RE.fullmatch(raw_id):
            self.ids.add_one(line, raw_id)
        if parsed is not None:
            problems.extend(self.consistency.check(line, parsed))
        if problems:
            return None, report_errors(line, problems)
        return parsed, []
