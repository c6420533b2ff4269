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

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from exam_results import notifications
from exam_results.catalogue import EXAMS, SKILL_MIN, SKILLS_ALL, Exam, grade_for
from exam_results.credentials import hash_secret
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
    "import_entries",
    "publish_results",
]

MAX_REPORTED_ERRORS = 10_000
"""A report lists at most this many errors, then one line saying how many more there are."""

WRITE_CHUNK_ROWS = 1000
"""Results written between two looks at their sessions' status (a multiple of 25 and of 50, so
chunking adds no BatchWriteItem call and no partial notification batch)."""

_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # as csvfiles checks it
_ID_NUMBER = re.compile(r"[A-Za-z0-9]{6,12}")

SECRET_REQUIRED = "secret_number is required (generated secrets are not available yet)."
REGENERATE_UNAVAILABLE = (
    "regenerate=yes is not available yet: give the new secret_number in the file instead "
    "(generated secrets are not available yet)."
)


class FileChanged(Exception):
    """Pass 2 read rows that pass 1 did not validate: the object changed under us (retry)."""


class ImportConflict(Exception):
    """A session changed between validation and writing (released, or created by another
    file): the event is retried and the file validated again."""


class NotifyQueueMissing(Exception):
    """Results of a released session were stored but no notification queue is configured."""


# --------------------------------------------------------------------------------------------
# Shared plumbing


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
    (``"80"`` … ``"230"``), so ``"0185"`` or ``"185.0"`` simply take the validator's path.
    """

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
            plan = _Plan(
                skills=tuple(s for s in SKILLS_ALL if s in exam.skills),
                absent=tuple(s for s in SKILLS_ALL if s not in exam.skills),
                scores={str(v): v for v in range(SKILL_MIN, exam.scale_max + 1)},
                bands=bands,
            )
            self._plans[exam.code] = plan
        return plan

    def accepts(self, row: Mapping[str, str], exam: Exam) -> bool:
        """True only for a row ``validate_result_row`` accepts (False: ask the validator)."""
        session_id = row["session_id"]
        ok = self._session_ok.get(session_id)
        if ok is None:
            ok = self._session_ok[session_id] = _SESSION_ID.fullmatch(session_id) is not None
        if not ok or _ID_NUMBER.fullmatch(row["id_number"]) is None:
            return False
        plan = self._plans.get(exam.code) or self._plan(exam)
        for skill in plan.absent:
            if row[skill]:
                return False
        scores = plan.scores
        total = 0
        for skill in plan.skills:
            value = scores.get(row[skill])
            if value is None:
                return False
            total += value
        n = len(plan.skills)
        mean = (2 * total + n) // (2 * n)
        if scores.get(row["overall_score"]) != mean:
            return False
        grade, cefr = plan.bands[mean]
        return row["grade"] == grade and row["cefr_level"] == cefr

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


@dataclass(frozen=True, slots=True)
class _Plan:
    skills: tuple[str, ...]
    absent: tuple[str, ...]
    scores: dict[str, int]
    bands: dict[int, tuple[str, str]]


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
        self.errors = _Errors()
        self.rows = 0
        self.write_calls = 0
        self.stored = 0
        self.late = 0

    # -- pass 1 --

    def validate(self, lines: Iterator[str]) -> Report:
        pending: list[tuple[int, dict[str, str] | ReportError]] = []
        try:
            for item in read_rows(lines, RESULT_COLUMNS):
                self.rows += 1
                pending.append(item)
                if len(pending) == BATCH_GET_KEYS:
                    self._check_chunk(pending)
                    pending = []
        except FileRejected as exc:
            self._check_chunk(pending)
            self.errors.add(exc.errors)
            return Report.rejected(self.source_key, self.rows, self.errors.for_report())
        self._check_chunk(pending)
        if self.errors.count:
            return Report.rejected(self.source_key, self.rows, self.errors.for_report())
        return Report.accepted(self.source_key, self.rows, 0)

    def _load_sessions(self, session_ids: Iterable[str]) -> None:
        wanted = {s for s in session_ids if s not in self.sessions}
        if not wanted:
            return
        found = self.deps.exams.get_sessions(s for s in wanted if _SESSION_ID.fullmatch(s))
        for session_id in wanted:
            self.sessions[session_id] = found.get(session_id)

    def _check_chunk(self, pending: list[tuple[int, dict[str, str] | ReportError]]) -> None:
        """Check up to 100 rows: row rules first, then their entries in one BatchGetItem."""
        if not pending:
            return
        self._load_sessions(row["session_id"] for _, row in pending if isinstance(row, dict))
        sessions = self.sessions
        accepts = self.fast.accepts
        seen = self.checker.ids.check
        errors: list[ReportError] = []
        lookups: list[tuple[int, str, str]] = []  # (line, ID Number, session_id) to match an entry
        for line, row in pending:
            if isinstance(row, ReportError):
                errors.append(row)
                continue
            session = sessions[row["session_id"]]
            if session is None:
                errors.extend(self._unknown_session(line, row))
                continue
            exam = EXAMS[session.exam_code]
            if accepts(row, exam):
                id_number = row["id_number"].upper()
                if seen(line, id_number) is None:
                    lookups.append((line, id_number, session.session_id))
                    continue
            _, row_errors = self.checker.check(line, row, exam)
            errors.extend(row_errors)
            raw_id = row["id_number"]
            if _ID_NUMBER.fullmatch(raw_id) and not any(e.field == "id_number" for e in row_errors):
                lookups.append((line, raw_id.upper(), session.session_id))

        entries = self.uploads.entry_fields({id_number for _, id_number, _ in lookups}, ("session_id",))
        for line, id_number, session_id in lookups:
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


class _EntriesImport:
    kind = "entries"

    def __init__(self, deps: Deps, source_key: str) -> None:
        self.deps = deps
        self.source_key = source_key
        self.uploads = UploadsRepository(deps.settings.data_table)
        self.checker = EntriesFileChecker()
        self.stored_sessions: dict[str, ExamSession | None] = {}
        self.errors = _Errors()
        self.rows = 0

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
            return Report.rejected(self.source_key, self.rows, self.errors.for_report())
        self._check_chunk(pending)
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
        blank = {p.id_number for p in parsed_rows if p.secret_number is None and not p.regenerate}
        existing = self.uploads.entry_fields(blank, ()) if blank else {}

        for line, parsed, errors in checked:
            if parsed is not None:
                if self.checker.sessions[parsed.session_id].first_line == line:
                    errors.extend(self._session_changes(line, parsed))
                if parsed.regenerate:
                    errors.append(ReportError(line=line, field="regenerate", message=REGENERATE_UNAVAILABLE))
                elif parsed.secret_number is None and parsed.id_number not in existing:
                    errors.append(ReportError(line=line, field="secret_number", message=SECRET_REQUIRED))
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
        sessions_created, sessions_updated = self._write_sessions()
        pepper = self.deps.pepper()
        created = updated = reissued = write_calls = 0

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
                if p.secret_number is not None:
                    secret_hash = hash_secret(pepper, p.id_number, p.secret_number)
                elif before is not None:
                    secret_hash = str(before["secret_hash"])  # blank: the secret stays as it is
                else:
                    raise FileChanged(self.source_key)  # pass 1 saw this entry
                if before is None:
                    created += 1
                else:
                    updated += 1
                    if before["secret_hash"] != secret_hash:
                        reissued += 1  # the old secret stops working with this write
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
        stored = created + updated
        logger.info(
            "entries stored",
            extra={
                "source_key": self.source_key,
                "stored": stored,
                "reissued": reissued,
                "sessions_created": sessions_created,
                "write_calls": write_calls,
            },
        )
        count("EntriesStored", stored)
        return Report.accepted(
            self.source_key,
            self.rows,
            stored,
            entries_created=created,
            entries_updated=updated,
            secrets_reissued=reissued,
            sessions_created=sessions_created,
            sessions_updated=sessions_updated,
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
    return _handle(deps, S3Object(bucket, key, version_id, etag), _EntriesImport(deps, key), now)
