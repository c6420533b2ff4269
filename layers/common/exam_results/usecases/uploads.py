"""The exam board's files (SPEC §5): entries import and results publication.

Each file is handled in up to two streaming passes over the S3 object (never held whole in
memory):

1. **validate** every row: the pure checks of ``exam_results.csvfiles`` plus the database checks
   (session exists, entry exists and belongs to the session, ...), looked up with one
   BatchGetItem per 100 rows as the rows stream by;
2. **store**, only when pass 1 found no error (all or nothing): the rows are read again (the same
   object version) and written with BatchWriteItem, 25 items a call.

Then the report goes to ``reports/<key>.json`` and a processed-file marker is written
(``UploadsRepository.mark_processed``). A delivery of an object version that has its marker, or
that is no longer the key's current version, changes nothing.

A file that is bad is never an exception: it is a rejected report. Exceptions are for failures
that are not the file's fault (throttling, a session released mid-import, ...): the function
fails and Lambda retries the event; nothing half-done is lost because every write is a put of
the same values and the marker comes last.
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice, repeat
from operator import itemgetter
from typing import Any, Protocol

from exam_results import notifications
from exam_results.catalogue import EXAMS, SKILL_MIN, SKILLS_ALL, Exam, grade_for
from exam_results.confirmations import Confirmation, Sitting, confirmation_key, render_csv, render_pdf
from exam_results.credentials import derive_secret, generation_key, hash_secret
from exam_results.csvfiles import (
    ENTRY_COLUMNS,
    ENTRY_OPTIONAL_COLUMNS,
    RESULT_COLUMNS,
    EntriesFileChecker,
    FileRejected,
    ParsedEntry,
    ParsedResult,
    Report,
    ReportError,
    ResultsFileChecker,
    RowReader,
    duplicate_errors,
    iter_text_lines,
    read_rows,
    validate_entry_row,
    validate_result_row,
)
from exam_results.models import Entry, ExamSession, Result
from exam_results.observability import count, logger
from exam_results.repositories.queue import NotifyQueue
from exam_results.repositories.uploads import BATCH_GET_KEYS, ObjectGone, S3Object, UploadsRepository
from exam_results.wiring import Deps

__all__ = [
    "MAX_REPORTED_ERRORS",
    "WRITE_CHUNK_ROWS",
    "FastResultCheck",
    "FileChanged",
    "ImportConflict",
    "NotifyQueueMissing",
    "SecretIssuer",
    "import_entries",
    "publish_results",
]

MAX_REPORTED_ERRORS = 10_000

CHECK_ROWS = 10 * BATCH_GET_KEYS
"""Rows checked together in the results validation pass (their entries read 100 a call)."""

_IN_ORDER = tuple(range(len(RESULT_COLUMNS)))  # positions of RESULT_COLUMNS in rows that hold just them
"""A report lists at most this many errors, then one line saying how many more there are."""

WRITE_CHUNK_ROWS = 1000
"""Results written between two looks at their sessions' status (a multiple of 25 and of 50, so
chunking adds no BatchWriteItem call and no partial notification batch)."""

_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # as csvfiles checks it
_ID_NUMBER = re.compile(r"[A-Za-z0-9]{6,12}")


class FileChanged(Exception):
    """Pass 2 read rows that pass 1 did not validate: the object changed under us (retry)."""


class ImportConflict(Exception):
    """A session changed between validation and writing (released, or created by another
    file): the event is retried and the file validated again."""


class NotifyQueueMissing(Exception):
    """Results of a released session were stored but no notification queue is configured."""


# --------------------------------------------------------------------------------------------
# Shared plumbing


def _line_of(error: ReportError) -> int:
    return error.line or 0


class _Errors:
    """The report's errors: every error counted, the first ``MAX_REPORTED_ERRORS`` listed."""

    def __init__(self) -> None:
        self.listed: list[ReportError] = []
        self.count = 0

    def add(self, errors: Iterable[ReportError]) -> None:
        for error in errors:
            self.count += 1
            if len(self.listed) < MAX_REPORTED_ERRORS:
                self.listed.append(error)

    def add_repeats(self, checked: tuple[list[ReportError], int]) -> None:
        """Add the repeated-ID errors of a whole file (``duplicate_errors``), found after the
        others: merged in by line (after a line's other errors), the first listed still the
        first ``MAX_REPORTED_ERRORS`` of the file."""
        errors, total = checked
        if total:
            merged = heapq.merge(self.listed, errors, key=_line_of)
            self.listed = list(islice(merged, MAX_REPORTED_ERRORS))
            self.count += total

    def for_report(self) -> list[ReportError]:
        if self.count <= len(self.listed):
            return list(self.listed)
        more = self.count - len(self.listed)
        return [
            *self.listed,
            ReportError(
                line=None,
                field=None,
                message=(f"{more} more errors are not listed: correct the errors above and upload the file again."),
            ),
        ]


class _Job(Protocol):
    kind: str

    def validate(self, lines: Iterator[str]) -> Report: ...

    def store(self, lines: Iterator[str]) -> Report: ...


def _handle(deps: Deps, obj: S3Object, job: _Job, now: datetime | None) -> Report | None:
    uploads = UploadsRepository(deps.settings.data_table)
    if uploads.processed(obj) is not None:
        logger.info("file already processed", extra={"source_key": obj.key, "version": obj.version})
        count("UploadDuplicates")
        return None
    if not uploads.is_current(obj):
        logger.info("file superseded by a newer upload", extra={"source_key": obj.key})
        count("UploadSuperseded")
        return None
    try:
        report = job.validate(iter_text_lines(uploads.stream(obj)))
        if report.status == "accepted":
            report = job.store(iter_text_lines(uploads.stream(obj)))
    except ObjectGone:
        logger.info("file gone before it was processed", extra={"source_key": obj.key})
        return None
    uploads.put_report(obj.bucket, report)
    uploads.mark_processed(obj, job.kind, report, now or datetime.now(UTC))
    logger.info(
        "file processed",
        extra={
            "kind": job.kind,
            "source_key": obj.key,
            "status": report.status,
            "rows": report.rows,
            "stored": report.stored,
            "errors": len(report.errors),
        },
    )
    count(f"{job.kind.capitalize()}Files{report.status.capitalize()}")
    return report


def _chunks[T](items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --------------------------------------------------------------------------------------------
# Results


class FastResultCheck:
    """Accepts the common case — a valid results row — in a fraction of the time of
    ``validate_result_row``, and returns None whenever it is not sure.

    It is never more lenient: each condition is at least as strict as the shared validator's,
    so a row it accepts is one the validator accepts, with the same ``ParsedResult`` (tested
    on random and mutated rows). Rows it does not accept go through the validator, which writes
    the report's messages. Scores are looked up in a table of their canonical spellings
    (``"80"`` … ``"230"``), so ``"0185"`` or ``"185.0"`` simply take the validator's path; so
    do values with surrounding spaces, which is what lets pass 1 check the raw fields of
    ``RowReader`` (``accepts_values``) and strip only the rows it does not accept.
    """

    _SESSIONS_CACHED = 4096  # session_id spellings remembered (a bad file may hold millions)

    def __init__(self) -> None:
        self._plans: dict[str, _Plan] = {}
        self._session_ok: dict[str, bool] = {}

    def _plan(self, exam: Exam) -> _Plan:
        plan = self._plans.get(exam.code)
        if plan is None:
            bands: dict[int, tuple[str, str]] = {}
            for score in range(SKILL_MIN, exam.scale_max + 1):
                grade, cefr = grade_for(exam, score)
                bands[score] = (grade, cefr or "")
            skills = tuple(s for s in SKILLS_ALL if s in exam.skills)
            absent = tuple(s for s in SKILLS_ALL if s not in exam.skills)
            scores = {str(v): v for v in range(SKILL_MIN, exam.scale_max + 1)}
            n = len(skills)
            plan = _Plan(
                skills=skills,
                scores=scores,
                bands=bands,
                skill_columns=tuple(RESULT_COLUMNS.index(s) for s in skills),
                absent=tuple(RESULT_COLUMNS.index(s) for s in absent),
                # (total of the skill scores, overall_score, grade, cefr_level) of every valid row:
                # the overall is the total's rounded mean (half up), grade and cefr its band
                valid=frozenset(
                    (total, str(mean), *bands[mean])
                    for total in range(n * SKILL_MIN, n * exam.scale_max + 1)
                    for mean in ((2 * total + n) // (2 * n),)
                ),
            )
            self._plans[exam.code] = plan
        return plan

    def accepts(self, row: Mapping[str, str], exam: Exam) -> bool:
        """True only for a row ``validate_result_row`` accepts (False: ask the validator)."""
        return self.accepts_values(_RESULT_VALUES(row), exam)

    def accepts_values(self, values: tuple[str, ...], exam: Exam) -> bool:
        """``accepts`` for the values of ``RESULT_COLUMNS``, in that order (raw or stripped)."""
        session_id = values[0]
        ok = self._session_ok.get(session_id)
        if ok is None:
            ok = _SESSION_ID.fullmatch(session_id) is not None
            if len(self._session_ok) < self._SESSIONS_CACHED:
                self._session_ok[session_id] = ok
        if not ok:
            return False
        return self.accepts_in_session(values, self._plans.get(exam.code) or self._plan(exam))

    def plan(self, exam: Exam) -> _Plan:
        """The tables ``accepts_in_session`` checks a row of ``exam`` with (built once)."""
        return self._plans.get(exam.code) or self._plan(exam)

    @staticmethod
    def accepts_in_session(values: tuple[str, ...], plan: _Plan) -> bool:
        """``accepts_values`` once the session_id is known to be well formed (a stored
        session's): ID Number, skills, overall_score, grade and cefr_level."""
        return FastResultCheck.accepts_columns([(value,) for value in values], plan)

    @staticmethod
    def accepts_batch(
        rows: Sequence[Sequence[str]],
        plans: list[_Plan],
        positions: Sequence[int] = _IN_ORDER,
        *,
        ids_checked: bool = False,
    ) -> bool:
        """``accepts_in_session`` for every row (with its session's plan): True only if all
        pass. ``rows[i][positions[j]]`` is row i's value of ``RESULT_COLUMNS[j]`` (by default
        rows hold those values in that order). Rows are grouped by exam and each group turned
        into columns (``zip``) for ``accepts_columns``."""
        first = plans[0]
        if plans.count(first) == len(plans):
            groups: dict[_Plan, Sequence[Sequence[str]]] = {first: rows}
        else:
            grouped: dict[_Plan, list[Sequence[str]]] = {plan: [] for plan in plans}
            any(map(list.append, map(grouped.__getitem__, plans), rows))  # each row to its exam's list, in C
            groups = grouped  # type: ignore[assignment]
        for plan, group in groups.items():
            columns = list(zip(*group, strict=True))
            ordered = list(map(columns.__getitem__, positions))
            if not FastResultCheck.accepts_columns(ordered, plan, ids_checked=ids_checked):
                return False
        return True

    @staticmethod
    def id_lengths(ids: Sequence[str]) -> set[int] | None:
        """The lengths of ``ids`` if every one is a well-formed ID Number ([A-Za-z0-9]{6,12},
        as ``_ID_NUMBER``), else None: tested on them all at once."""
        joined = "".join(ids)
        lengths = set(map(len, ids))
        if joined.isascii() and joined.isalnum() and min(lengths, default=0) >= 6 and max(lengths) <= 12:
            return lengths
        return None

    @staticmethod
    def accepts_columns(columns: Sequence[tuple[str, ...]], plan: _Plan, *, ids_checked: bool = False) -> bool:
        """``accepts_in_session`` for rows of one exam given as columns: ``columns[i]`` holds
        the rows' values of ``RESULT_COLUMNS[i]``. True only if every row passes.

        Column by column, with no Python code per row (``map`` over C functions): every ID
        Number well formed (``id_lengths``; skipped when ``ids_checked``); each skill the exam lacks empty; each of its
        skills a canonical score of the exam (a ``KeyError`` if not); then the rounded mean of
        the skills must be the overall_score, and grade and cefr_level exactly its band (one
        look-up of (total, overall_score, grade, cefr_level) in the plan's ``valid`` set).
        """
        if not ids_checked and FastResultCheck.id_lengths(columns[1]) is None:
            return False
        if any(map(any, map(columns.__getitem__, plan.absent))):
            return False
        skill_scores = map(map, repeat(plan.scores.__getitem__), map(columns.__getitem__, plan.skill_columns))
        totals = map(sum, zip(*skill_scores, strict=True))
        try:
            return all(map(plan.valid.__contains__, zip(totals, columns[2], columns[3], columns[4], strict=True)))
        except KeyError:
            return False

    def parse(self, row: Mapping[str, str], exam: Exam) -> ParsedResult | None:
        """The row parsed as ``validate_result_row`` would, or None when it does not accept it."""
        if not self.accepts(row, exam):
            return None
        plan = self._plans[exam.code]
        skills = {skill: plan.scores[row[skill]] for skill in plan.skills}
        mean = plan.scores[row["overall_score"]]
        grade, cefr = plan.bands[mean]
        return ParsedResult(
            session_id=row["session_id"],
            id_number=row["id_number"].upper(),
            overall_score=mean,
            grade=grade,
            cefr_level=cefr or None,
            skills=skills,
        )


_RESULT_VALUES = itemgetter(*RESULT_COLUMNS)
_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_SESSION_OF_ENTRY = itemgetter("session_id")


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity
class _Plan:
    skills: tuple[str, ...]
    scores: dict[str, int]  # canonical spelling of each valid skill score → the score
    bands: dict[int, tuple[str, str]]
    skill_columns: tuple[int, ...]  # indexes in RESULT_COLUMNS of the exam's skills
    absent: tuple[int, ...]  # and of the skills it lacks
    valid: frozenset[tuple[int, str, str, str]]  # (skills' total, overall_score, grade, cefr_level)


_ANY_EXAM = EXAMS["C2P"]  # rows of an unknown session: only their ID and session are checked


class _ResultsPublication:
    kind = "results"

    def __init__(self, deps: Deps, source_key: str) -> None:
        self.deps = deps
        self.source_key = source_key
        self.uploads = UploadsRepository(deps.settings.data_table)
        self.checker = ResultsFileChecker()
        self.fast = FastResultCheck()
        self.sessions: dict[str, ExamSession | None] = {}
        self._fast_sessions: dict[str, tuple[str, _Plan]] = {}  # known session_id → (id, plan)
        self.errors = _Errors()
        self.rows = 0
        self.write_calls = 0
        self.stored = 0
        self.late = 0

    # -- pass 1 --

    def validate(self, lines: Iterator[str]) -> Report:
        """Pass 1. Rows come from ``RowReader`` ``CHECK_ROWS`` at a time (their entries in
        one BatchGetItem per 100).

        Speed: a row is first tried, as parsed, by ``FastResultCheck.accepts_values`` (no
        stripping, no dict, its session looked up by the raw session_id); only a row it does
        not accept — any bad row, or an odd spelling of a good one — becomes the stripped dict
        that the shared validator checks and words the messages for. Rows are handled in file
        order either way (duplicate IDs name the first line in the file).
        """
        try:
            reader = RowReader(lines, RESULT_COLUMNS)
            for block_lines, rows in reader.blocks(CHECK_ROWS):
                self.rows += len(rows)
                self._check_block(block_lines, rows, reader)
        except FileRejected as exc:  # the rows read before it have been checked
            self.errors.add(exc.errors)
        self.errors.add_repeats(duplicate_errors(self.checker.ids, MAX_REPORTED_ERRORS))
        self.checker.ids.close()
        if self.errors.count:
            return Report.rejected(self.source_key, self.rows, self.errors.for_report())
        return Report.accepted(self.source_key, self.rows, 0)

    def _load_sessions(self, session_ids: Iterable[str]) -> None:
        wanted = {s for s in session_ids if s not in self.sessions}
        if not wanted:
            return
        found = self.deps.exams.get_sessions(s for s in wanted if _SESSION_ID.fullmatch(s))
        for session_id in wanted:
            session = self.sessions[session_id] = found.get(session_id)
            if session is not None:
                self._fast_sessions[session_id] = (session.session_id, self.fast.plan(EXAMS[session.exam_code]))

    def _check_block(self, lines: Sequence[int], rows: list[list[str] | ReportError], reader: RowReader) -> None:
        """Check up to ``CHECK_ROWS`` rows: row rules first, then their entries (BatchGetItem).

        The common block — every row valid as written and of a known session — is checked as a
        whole, column by column (``FastResultCheck.accepts_columns``, ``DuplicateIds.add``, one
        comparison of the entries' sessions); any other block row by row in file order
        (``_check_rows``). A block holding several sessions is first sorted by session (each
        row carrying its line), so that each session's rows are one slice of every column.
        Repeated IDs are named once the whole file is read (``validate``).
        """
        if not rows:
            return
        if set(map(type, rows)) != {list}:  # a ReportError (wrong number of fields) in the block
            self._check_rows(list(zip(lines, rows, strict=True)), reader)
            return
        session_of = itemgetter(reader.positions[0])
        session_ids = sorted(set(map(session_of, rows)))  # type: ignore[arg-type]
        if len(session_ids) == 1:
            columns = list(zip(*rows, strict=True))  # the block's columns, in the header's order
            row_lines: Sequence[int] = lines
        else:
            any(map(list.append, rows, lines))  # type: ignore[arg-type]  # each row carries its line
            columns = list(zip(*sorted(rows, key=session_of), strict=True))  # type: ignore[arg-type]
            row_lines = columns.pop()
            any(map(list.pop, rows))  # type: ignore[arg-type]  # rows as they were
        ordered = list(map(columns.__getitem__, reader.positions))  # in RESULT_COLUMNS order
        knowns: list[Any] = list(map(self._fast_sessions.get, session_ids))  # (session_id, plan) or None
        if None in knowns:  # a session seen for the first time (or unknown): look it up once
            self._load_sessions(s for s in session_ids if _SESSION_ID.fullmatch(s))
            knowns = list(map(self._fast_sessions.get, session_ids))
        lengths = FastResultCheck.id_lengths(ordered[1])
        accepted = None not in knowns and lengths is not None
        start = 0
        for session_id, known in zip(session_ids, knowns, strict=True):
            if not accepted:
                break
            end = bisect_right(ordered[0], session_id, start) if len(knowns) > 1 else len(row_lines)
            part = ordered if len(knowns) == 1 else [column[start:end] for column in ordered]
            accepted = FastResultCheck.accepts_columns(part, known[1], ids_checked=True)
            start = end
        if not accepted:
            self._check_rows(list(zip(lines, rows, strict=True)), reader)
            return
        joined = "".join(ordered[1])
        ids = list(ordered[1]) if joined.isupper() or joined.isdigit() else list(map(str.upper, ordered[1]))
        self.checker.ids.add(row_lines, ids, lengths)
        if len(knowns) == 1:
            self._match_entries([], row_lines, ids, knowns[0][0])
        else:
            self._match_entries([], row_lines, ids, list(ordered[0]))

    def _check_rows(self, batch: list[tuple[int, list[str] | ReportError]], reader: RowReader) -> None:
        """``_check_block`` row by row, for a block with anything unusual in it."""
        values_of = itemgetter(*reader.positions)
        fast_sessions = self._fast_sessions
        accepts = FastResultCheck.accepts_in_session
        seen = self.checker.ids
        loaded = False
        errors: list[ReportError] = []
        # (line, ID Number, session_id) of the rows whose entry must match, as three lists
        lines: list[int] = []
        ids: list[str] = []
        session_ids: list[str] = []
        for line, fields in batch:
            if isinstance(fields, ReportError):
                errors.append(fields)
                continue
            values = values_of(fields)
            known = fast_sessions.get(values[0])
            if known is not None and accepts(values, known[1]):
                id_number = values[1].upper()
                seen.add_one(line, id_number)
                lines.append(line)
                ids.append(id_number)
                session_ids.append(known[0])
                continue
            # Any other row: the shared validator on the stripped row, as read_rows gives it.
            row = reader.row_dict(fields)
            if not loaded:  # the sessions of the whole batch in one look-up, as rows need them
                self._load_sessions(reader.row_dict(f)["session_id"] for _, f in batch if isinstance(f, list))
                loaded = True
            session = self.sessions[row["session_id"]]
            if session is None:
                errors.extend(self._unknown_session(line, row))
                continue
            exam = EXAMS[session.exam_code]
            if self.fast.accepts(row, exam):
                id_number = row["id_number"].upper()
                seen.add_one(line, id_number)
                lines.append(line)
                ids.append(id_number)
                session_ids.append(session.session_id)
                continue
            _, row_errors = self.checker.check(line, row, exam)
            errors.extend(row_errors)
            raw_id = row["id_number"]
            if _ID_NUMBER.fullmatch(raw_id) and not any(e.field == "id_number" for e in row_errors):
                lines.append(line)
                ids.append(raw_id.upper())
                session_ids.append(session.session_id)
        self._match_entries(errors, lines, ids, session_ids)

    def _match_entries(
        self, errors: list[ReportError], lines: Sequence[int], ids: list[str], session_ids: list[str] | str
    ) -> None:
        """Each row's entry must exist and be in the row's session (``session_ids``: one per
        row, or one for them all) — one BatchGetItem per 100 IDs; then the block's errors go to
        the report, sorted by line."""
        distinct = set(ids)
        entries = self.uploads.entry_fields(distinct, ("session_id",))
        if isinstance(session_ids, str):  # one session: every ID found, and all entries in it
            matched = len(entries) == len(distinct) and set(map(_SESSION_OF_ENTRY, entries.values())) <= {session_ids}
            session_ids = [session_ids] * len(ids)
        else:  # the common case, all entries there and in their sessions, without a Python loop
            try:
                matched = list(map(_SESSION_OF_ENTRY, map(entries.__getitem__, ids))) == session_ids
            except KeyError:
                matched = False
        if not matched:
            for line, id_number, session_id in zip(lines, ids, session_ids, strict=True):
                entry = entries.get(id_number)
                if entry is None:
                    message = f"ID Number {id_number} has no entry: it is in no entries file uploaded so far."
                elif entry["session_id"] != session_id:
                    message = f"ID Number {id_number} is entered for session {entry['session_id']}, not {session_id}."
                else:
                    continue
                errors.append(ReportError(line=line, field="id_number", message=message))
        if errors:
            errors.sort(key=lambda e: e.line or 0)  # stable: a line's own checks before its entry's
            self.errors.add(errors)

    def _unknown_session(self, line: int, row: dict[str, str]) -> list[ReportError]:
        """A row whose session does not exist: only its ID and session can be checked."""
        _, errors = self.checker.check(line, row, _ANY_EXAM)
        errors = [e for e in errors if e.field in ("session_id", "id_number")]
        if not any(e.field == "session_id" for e in errors):
            errors.insert(
                0,
                ReportError(
                    line=line,
                    field="session_id",
                    message=(
                        f"Session {row['session_id']} does not exist: upload the entries file that creates it first."
                    ),
                ),
            )
        return errors

    # -- pass 2 --

    def store(self, lines: Iterator[str]) -> Report:
        def parsed_rows() -> Iterator[ParsedResult]:
            for _, row in read_rows(lines, RESULT_COLUMNS):
                if isinstance(row, ReportError):
                    raise FileChanged(self.source_key)
                session = self.sessions.get(row["session_id"])
                if session is None:
                    raise FileChanged(self.source_key)
                exam = EXAMS[session.exam_code]
                parsed = self.fast.parse(row, exam) or validate_result_row(row, exam)[0]
                if parsed is None:
                    raise FileChanged(self.source_key)
                yield parsed

        for chunk in _chunks(parsed_rows(), WRITE_CHUNK_ROWS):
            self._write(chunk)
        logger.info(
            "results stored",
            extra={"source_key": self.source_key, "stored": self.stored, "write_calls": self.write_calls},
        )
        count("ResultsStored", self.stored)
        if self.late:
            count("LateResultsQueued", self.late)
        return Report.accepted(self.source_key, self.rows, self.stored)

    def _write(self, chunk: list[ParsedResult]) -> None:
        exams = self.deps.exams
        self.write_calls += exams.write_items(
            exams.result_item(
                Result(
                    id_number=p.id_number,
                    session_id=p.session_id,
                    overall_score=p.overall_score,
                    grade=p.grade,
                    cefr_level=p.cefr_level,
                    skills=p.skills,
                )
            )
            for p in chunk
        )
        self.stored += len(chunk)
        # Late results: a session released before these writes (even a moment ago, by the
        # schedule) has notified its candidates already, so these are queued here. A session
        # still open now will be released later, and that release notifies them.
        session_ids = {p.session_id for p in chunk}
        was_open = [s for s in session_ids if (known := self.sessions.get(s)) and known.status == "open"]
        if was_open:
            self.sessions.update(exams.get_sessions(was_open))
        for session_id in sorted(session_ids):
            session = self.sessions.get(session_id)
            if session is not None and session.status == "released":
                self._notify(session_id, [p.id_number for p in chunk if p.session_id == session_id])

    def _notify(self, session_id: str, id_numbers: list[str]) -> None:
        url = self.deps.settings.notify_queue_url
        if not url:
            # The results are stored and visible; failing keeps the event for a retry and then
            # for the operators' failure queue, so these candidates are never silently skipped.
            raise NotifyQueueMissing(
                f"results of released session {session_id} need NOTIFY_QUEUE_URL to notify candidates"
            )
        notifications.enqueue(NotifyQueue(url), session_id, id_numbers)
        self.late += len(id_numbers)


def publish_results(
    deps: Deps,
    bucket: str,
    key: str,
    version_id: str | None,
    etag: str,
    *,
    now: datetime | None = None,
) -> Report | None:
    """Validate and store a results file; the report, or None when this object version was
    processed already or is not the key's current content any more (nothing done)."""
    return _handle(deps, S3Object(bucket, key, version_id, etag), _ResultsPublication(deps, key), now)


# --------------------------------------------------------------------------------------------
# Entries


class SecretIssuer:
    """Secret Numbers for the blank (or ``regenerate`` = ``yes``) rows of one entries file.

    Derived (``credentials.derive_secret``) from the upload — bucket, key and version of the
    object — and the ID Number, never drawn at random: a retried import of the same object
    version (Lambda retries an event whose processing crashed) issues exactly the secrets an
    earlier attempt stored and printed, so a crash between storing the hashes and writing the
    documents can never leave a candidate with a secret that nobody has. Within a file the
    secrets are distinct: a secret issued already takes the next counter (10,000 random
    8-digit numbers would share one with a probability near 40 %). Call ``issue`` for the rows
    in file order, and for every such row, so that a retry makes the same choices.
    """

    def __init__(self, pepper: bytes, upload: str) -> None:
        self._key = generation_key(pepper)
        self._upload = upload
        self._issued: set[str] = set()

    def issue(self, id_number: str) -> str:
        counter = 0
        while True:
            secret = derive_secret(self._key, self._upload, id_number, counter)
            if secret not in self._issued:
                self._issued.add(secret)
                return secret
            counter += 1


class _EntriesImport:
    kind = "entries"

    def __init__(self, deps: Deps, obj: S3Object) -> None:
        self.deps = deps
        self.obj = obj
        self.source_key = obj.key
        self.uploads = UploadsRepository(deps.settings.data_table)
        self.checker = EntriesFileChecker()
        self.stored_sessions: dict[str, ExamSession | None] = {}
        self.errors = _Errors()
        self.rows = 0
        self.sittings: dict[str, Sitting] = {}

    # -- pass 1 --

    def validate(self, lines: Iterator[str]) -> Report:
        pending: list[tuple[int, dict[str, str] | ReportError]] = []
        try:
            for item in read_rows(lines, ENTRY_COLUMNS, ENTRY_OPTIONAL_COLUMNS):
                self.rows += 1
                pending.append(item)
                if len(pending) == BATCH_GET_KEYS:
                    self._check_chunk(pending)
                    pending = []
        except FileRejected as exc:
            self._check_chunk(pending)
            self.errors.add(exc.errors)
        else:
            self._check_chunk(pending)
        self.errors.add_repeats(duplicate_errors(self.checker.ids, MAX_REPORTED_ERRORS))
        self.checker.ids.close()
        if self.errors.count:
            return Report.rejected(self.source_key, self.rows, self.errors.for_report())
        return Report.accepted(self.source_key, self.rows, 0)

    def _check_chunk(self, pending: list[tuple[int, dict[str, str] | ReportError]]) -> None:
        checked: list[tuple[int, ParsedEntry | None, list[ReportError]]] = []
        for line, row in pending:
            if isinstance(row, ReportError):
                checked.append((line, None, [row]))
            else:
                parsed, errors = self.checker.check(line, row)
                checked.append((line, parsed, errors))
        parsed_rows = [p for _, p, _ in checked if p is not None]
        new_sessions = {p.session_id for p in parsed_rows} - self.stored_sessions.keys()
        if new_sessions:
            found = self.deps.exams.get_sessions(new_sessions)
            for session_id in new_sessions:
                self.stored_sessions[session_id] = found.get(session_id)
        for line, parsed, errors in checked:
            if parsed is not None and self.checker.sessions[parsed.session_id].first_line == line:
                errors.extend(self._session_changes(line, parsed))
            self.errors.add(errors)

    def _session_changes(self, line: int, parsed: ParsedEntry) -> list[ReportError]:
        """An existing session's exam, date and format are fixed: a file may not change them."""
        stored = self.stored_sessions.get(parsed.session_id)
        if stored is None:
            return []
        errors = []
        for column, mine, theirs in (
            ("exam", parsed.exam_code, stored.exam_code),
            ("exam_date", parsed.exam_date.isoformat(), stored.exam_date.isoformat()),
            ("format", parsed.format, stored.format),
        ):
            if mine != theirs:
                errors.append(
                    ReportError(
                        line=line,
                        field=column,
                        message=(
                            f"{column} {mine} differs from session {parsed.session_id} as stored, "
                            f"which has {theirs}: a session's exam, exam_date and format cannot change."
                        ),
                    )
                )
        return errors

    # -- pass 2 --

    def _write_sessions(self) -> tuple[int, int]:
        created = updated = 0
        for session_id, spec in self.checker.sessions.items():
            stored = self.stored_sessions.get(session_id)
            if stored is not None and stored.status == "released":
                self.sittings[session_id] = _sitting(stored)
                continue  # never back to open; its window is over
            available = spec.results_available_by
            if stored is not None and not spec.results_available_by_given:
                available = stored.results_available_by  # blank: keep what it has
            session = ExamSession(
                session_id=session_id,
                exam_code=spec.exam_code,
                exam_date=spec.exam_date,
                format=spec.format,  # type: ignore[arg-type]  # PB or CB, checked
                results_available_by=available,
            )
            self.sittings[session_id] = _sitting(session)
            if stored == session:
                continue
            if not self.uploads.put_session(self.deps.exams, session, new=stored is None):
                raise ImportConflict(f"session {session_id} changed while {self.source_key} was imported")
            if stored is None:
                created += 1
            else:
                updated += 1
        return created, updated

    def store(self, lines: Iterator[str]) -> Report:
        """Pass 2: sessions, then entries 100 rows a chunk, then the Confirmation of Entry
        documents of the secrets this file had generated.

        A blank ``secret_number`` for a new ID Number, or ``regenerate`` = ``yes``, gets a
        secret from ``SecretIssuer``; a blank one for an ID Number that has an entry keeps its
        secret — unless the stored hash is the one this very object version issues, which means
        an earlier attempt at this file stored it and crashed before it finished: that row is
        treated as the attempt treated it, so its page is written again, with the same secret.
        """
        sessions_created, sessions_updated = self._write_sessions()
        pepper = self.deps.pepper()
        issuer = SecretIssuer(pepper, f"{self.obj.bucket}/{self.obj.key}#{self.obj.version}")
        documents: dict[tuple[str, str], list[Confirmation]] = {}
        created = updated = generated = reissued = write_calls = 0

        def parsed_rows() -> Iterator[ParsedEntry]:
            for _, row in read_rows(lines, ENTRY_COLUMNS, ENTRY_OPTIONAL_COLUMNS):
                parsed = None if isinstance(row, ReportError) else validate_entry_row(row)[0]
                if parsed is None:
                    raise FileChanged(self.source_key)
                yield parsed

        for chunk in _chunks(parsed_rows(), BATCH_GET_KEYS):
            existing = self.uploads.entry_fields((p.id_number for p in chunk), ("secret_hash",))
            items = []
            for p in chunk:
                before = existing.get(p.id_number)
                before_hash = None if before is None else str(before["secret_hash"])
                issued: str | None = None
                if p.secret_number is not None:
                    secret_hash = hash_secret(pepper, p.id_number, p.secret_number)
                else:
                    candidate = issuer.issue(p.id_number)  # for every blank row: same choices on a retry
                    candidate_hash = hash_secret(pepper, p.id_number, candidate)
                    if p.regenerate or before_hash is None or before_hash == candidate_hash:
                        issued, secret_hash = candidate, candidate_hash
                    else:
                        secret_hash = before_hash  # blank: the secret stays as it is
                first_time = before is None or (issued is not None and not p.regenerate)
                if first_time:
                    created += 1
                else:
                    updated += 1
                if issued is not None:
                    # regenerate=yes is always a re-issue (also for an ID new to the service: a
                    # retry could not tell that from one this file's crashed attempt stored)
                    if p.regenerate:
                        reissued += 1
                    else:
                        generated += 1
                    documents.setdefault((p.centre_number, p.session_id), []).append(
                        Confirmation(
                            id_number=p.id_number,
                            secret_number=issued,
                            candidate_number=p.candidate_number,
                            candidate_name=p.candidate_name,
                            date_of_birth=p.date_of_birth,
                            centre_number=p.centre_number,
                            centre_name=p.centre_name,
                        )
                    )
                elif before_hash is not None and before_hash != secret_hash:
                    reissued += 1  # a new secret given in the file: the old one stops working now
                entry = Entry(
                    id_number=p.id_number,
                    session_id=p.session_id,
                    secret_hash=secret_hash,
                    candidate_number=p.candidate_number,
                    candidate_name=p.candidate_name,
                    date_of_birth=p.date_of_birth,
                    centre_number=p.centre_number,
                    centre_name=p.centre_name,
                )
                items.append(self.uploads.entry_item(entry))
            write_calls += self.deps.exams.write_items(items)
        written = self._write_documents(documents)
        stored = created + updated
        logger.info(
            "entries stored",
            extra={
                "source_key": self.source_key,
                "stored": stored,
                "secrets_generated": generated,
                "reissued": reissued,
                "sessions_created": sessions_created,
                "write_calls": write_calls,
                "confirmation_documents": written,
            },
        )
        count("EntriesStored", stored)
        if generated or reissued:
            count("SecretsIssued", sum(len(group) for group in documents.values()))
        return Report.accepted(
            self.source_key,
            self.rows,
            stored,
            entries_created=created,
            entries_updated=updated,
            secrets_generated=generated,
            secrets_reissued=reissued,
            sessions_created=sessions_created,
            sessions_updated=sessions_updated,
        )

    def _write_documents(self, documents: dict[tuple[str, str], list[Confirmation]]) -> int:
        """One PDF and one CSV per (centre, session), each built, put and dropped in turn (only
        one centre's document is in memory at a time). Written after every entry is stored: a
        file that is rejected, or fails before, leaves no document; a retry rewrites the same
        pages (same secrets) under the same keys."""
        register_url = self.deps.settings.link("register.html")
        renderers = (
            (".pdf", render_pdf, "application/pdf"),
            (".csv", render_csv, "text/csv; charset=utf-8"),
        )
        written = 0
        for centre_number, session_id in sorted(documents):
            confirmations = documents.pop((centre_number, session_id))  # dropped once written
            sitting = self.sittings[session_id]
            for suffix, render, content_type in renderers:
                key = confirmation_key(centre_number, session_id, self.source_key, suffix)
                self.uploads.put_confirmation(
                    self.obj.bucket, key, render(sitting, confirmations, register_url), content_type
                )
                written += 1
        return written


def _sitting(session: ExamSession) -> Sitting:
    return Sitting(
        session_id=session.session_id,
        exam_code=session.exam_code,
        exam_date=session.exam_date,
        format=session.format,
        results_available_by=session.results_available_by,
    )


def import_entries(
    deps: Deps,
    bucket: str,
    key: str,
    version_id: str | None,
    etag: str,
    *,
    now: datetime | None = None,
) -> Report | None:
    """Validate and store an entries file; the report, or None when this object version was
    processed already or is not the key's current content any more (nothing done)."""
    obj = S3Object(bucket, key, version_id, etag)
    return _handle(deps, obj, _EntriesImport(deps, obj), now)
