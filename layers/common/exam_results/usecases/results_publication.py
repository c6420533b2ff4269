"""Results publication (SPEC §5): a results file from ``results/`` validated, then staged and
published in one write (all or nothing, faults included: docs/files.md "Staging and
publication"), and the candidates of a released session queued for their email.

The plumbing both kinds of file share (the two passes, the report, the processed-file marker)
is ``exam_results.usecases.uploads``; this module is what only the PublishResults function
imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import batched
from operator import itemgetter
from typing import Any

from exam_results import notifications
from exam_results.catalogue import EXAMS
from exam_results.credentials import ID_NUMBER_RE
from exam_results.files.fields import SESSION_ID_RE
from exam_results.files.lines import iter_text_lines
from exam_results.files.reader import RESULT_COLUMNS, read_rows
from exam_results.files.report import FileRejected, Report, ReportError
from exam_results.models import ExamSession, Result
from exam_results.observability import count, logger
from exam_results.repositories.candidates import candidate_pk
from exam_results.repositories.exams import result_sk
from exam_results.repositories.queue import NotifyQueue
from exam_results.repositories.uploads import BATCH_GET_KEYS, ObjectGone, S3Object
from exam_results.result_rows import ParsedResult, ResultsFileChecker, validate_result_row
from exam_results.usecases.uploads import (
    FAILED_MESSAGE,
    FileChanged,
    ReportErrors,
    file_id,
    handle_upload,
)
from exam_results.wiring import Deps

__all__ = ["CHECK_ROWS", "WRITE_CHUNK_ROWS", "NotifyQueueMissing", "ResultsPublication", "publish_results"]

CHECK_ROWS = 10 * BATCH_GET_KEYS
"""Rows checked together in the validation pass (their entries read 100 a call)."""

WRITE_CHUNK_ROWS = 1000
"""IDs of late results queued together (a multiple of 50, so no partial notification batch)."""


class NotifyQueueMissing(Exception):
    """Results of a released session were stored but no notification queue is configured."""


_SESSION_OF_ENTRY = itemgetter("session_id")
_ANY_EXAM = EXAMS["C2P"]  # rows of an unknown session: only their ID and session are checked


class ResultsPublication:
    """One results file for ``handle_upload``: ``validate`` (pass 1), then ``store`` (pass 2)."""

    kind = "results"

    def __init__(self, deps: Deps, obj: S3Object) -> None:
        self.deps = deps
        self.obj = obj
        self.source_key = obj.key
        self.file_id = file_id(obj)
        self.version = ""  # the rows' version, ``<staged_at>#<file id>``, once staged
        self.published = False
        self.uploads = deps.uploads
        self.checker = ResultsFileChecker()
        self.sessions: dict[str, ExamSession | None] = {}
        self.errors = ReportErrors()
        self.rows = 0
        self.write_calls = 0
        self.stored = 0
        self.late = 0
        self.entry_files: dict[str, bool] = {}  # entries files met in the entries read: published?

    # -- pass 1 --

    def validate(self, lines: Iterator[str]) -> Report:
        """Pass 1: every row checked, ``CHECK_ROWS`` at a time — the sessions of a block looked up
        once (the first time each is seen), its entries one BatchGetItem per 100 IDs."""

        def rows() -> Iterator[tuple[int, dict[str, str] | ReportError]]:
            try:
                yield from read_rows(lines, RESULT_COLUMNS)
            except FileRejected as exc:  # the rows read before it are checked all the same
                self.errors.add(exc.errors)

        for block in batched(rows(), CHECK_ROWS, strict=False):
            self.rows += len(block)
            self._check_block(block)
        self.errors.add_repeats(self.checker.ids)
        self.checker.ids.close()
        if self.errors.count:
            return Report.rejected(self.source_key, self.rows, self.errors.for_report())
        return Report.accepted(self.source_key, self.rows, 0)

    def _load_sessions(self, session_ids: Iterable[str]) -> None:
        wanted = {s for s in session_ids if s not in self.sessions}
        if wanted:
            found = self.deps.exams.get_sessions(s for s in wanted if SESSION_ID_RE.fullmatch(s))
            for session_id in wanted:
                self.sessions[session_id] = found.get(session_id)

    def _check_block(self, block: Sequence[tuple[int, dict[str, str] | ReportError]]) -> None:
        """Each row's own checks (``ResultsFileChecker``, against its session's exam), then the
        entries of the rows with a well-formed ID Number; the block's errors go to the report in
        line order. Repeated IDs are named once the whole file is read (``validate``)."""
        self._load_sessions(row["session_id"] for _, row in block if not isinstance(row, ReportError))
        errors: list[ReportError] = []
        # (line, ID Number, session_id) of the rows whose entry must match, as three lists
        lines: list[int] = []
        ids: list[str] = []
        session_ids: list[str] = []
        for line, row in block:
            if isinstance(row, ReportError):
                errors.append(row)
                continue
            session = self.sessions[row["session_id"]]
            if session is None:
                errors.extend(self._unknown_session(line, row))
                continue
            _, row_errors = self.checker.check(line, row, EXAMS[session.exam_code])
            errors.extend(row_errors)
            if ID_NUMBER_RE.fullmatch(row["id_number"]):
                lines.append(line)
                ids.append(row["id_number"].upper())
                session_ids.append(session.session_id)
        self._match_entries(errors, lines, ids, session_ids)

    def _match_entries(
        self, errors: list[ReportError], lines: list[int], ids: list[str], session_ids: list[str]
    ) -> None:
        """Each row's entry must exist and be in the row's session — one BatchGetItem per 100
        IDs, the block's in parallel (a million rows are 10,000 look-ups: docs/capacity.md);
        then the block's errors go to the report, sorted by line."""
        entries = self.uploads.entry_fields(set(ids), ("session_id",), self.entry_files, parallel=True)
        try:  # the common case, every entry there and in its row's session
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

    # -- pass 2: stage, then publish --

    def store(self, lines: Iterator[str]) -> Report:
        """Stage every row as a version of this file, then publish the file in one write.

        Rows are written where no reader looks (result items carrying ``version``: readers show
        only versions of published files, ``ExamRepository.visible_result``), so a failure at any
        point leaves what readers see exactly as it was. A retry of the same object version
        finds the same publication item (same ``staged_at``, same keys: its puts rewrite the
        same items) and finishes the job; once published, it only redoes the notifications.
        """
        now = datetime.now(UTC)
        staged_at, status = self.uploads.stage(self.file_id, self.obj, now)
        self.version = f"{staged_at}#{self.file_id}"
        if status not in ("staged", "published"):  # discarded: a newer upload of the key replaced it
            raise FileChanged(self.source_key)
        if status != "published":
            self._write(self._parsed_rows(lines))
            self.uploads.publish(self.file_id, self.stored, now)
        else:
            self.stored = self.rows
        self.published = True
        logger.info(
            "results published",
            extra={"source_key": self.source_key, "stored": self.stored, "write_calls": self.write_calls},
        )
        count("ResultsStored", self.stored)
        self._notify_released()
        if self.late:
            count("LateResultsQueued", self.late)
        self._discard_leftovers()
        return Report.accepted(self.source_key, self.rows, self.stored)

    def _discard_leftovers(self) -> None:
        """Delete the staged rows of earlier object versions of this key that were never
        published (their retries spent, the file uploaded or re-run again): each is first marked
        ``discarding`` (never publishable after that), its rows found by reading that version's
        file, deleted, and the file marked ``discarded``. Only versions that are not the key's
        current one: a newer upload being staged right now is left alone. A failure here leaves
        the file ``discarding`` and the retry finishes it."""
        for record in self.uploads.staged_files(self.source_key):
            file_id = str(record["pk"]).removeprefix("PUBLICATION#")
            old = S3Object(
                str(record["source_bucket"]), self.source_key, str(record["version_id"]) or None, str(record["etag"])
            )
            if file_id == self.file_id or self.uploads.is_current(old):
                continue
            if not self.uploads.discard(file_id, done=False):
                continue  # published meanwhile: it is someone's visible result
            version = f"{record['staged_at']}#{file_id}"
            try:
                rows = read_rows(iter_text_lines(self.uploads.stream(old)), RESULT_COLUMNS)
                deleted = self.deps.exams.delete_items(
                    (candidate_pk(row["id_number"].upper()), result_sk(row["session_id"], version))
                    for _, row in rows
                    if not isinstance(row, ReportError)
                )
            except ObjectGone:  # that version's object expired: its rows stay, invisible
                logger.warning("staged file gone before its rows were discarded", extra={"file_id": file_id})
                deleted = 0
            self.uploads.discard(file_id, done=True)
            logger.info("staged leftovers discarded", extra={"file_id": file_id, "write_calls": deleted})
            count("StagedFilesDiscarded")

    def failure_report(self, code: str) -> Report:
        """The report when this attempt fails for a reason not the file's (then re-raised)."""
        if self.published:  # only the late notifications are left: the retry redoes them
            return Report.accepted(self.source_key, self.rows, self.stored)
        note = "Nothing of it was published: what candidates and organisations see is unchanged."
        return Report.failed(self.source_key, self.rows, FAILED_MESSAGE.format(code=code, stored=note))

    def _parsed_rows(self, lines: Iterator[str]) -> Iterator[ParsedResult]:
        for _, row in read_rows(lines, RESULT_COLUMNS):
            if isinstance(row, ReportError):
                raise FileChanged(self.source_key)
            session = self.sessions.get(row["session_id"])
            if session is None:
                raise FileChanged(self.source_key)
            exam = EXAMS[session.exam_code]
            parsed, _ = validate_result_row(row, exam)
            if parsed is None:
                raise FileChanged(self.source_key)
            yield parsed

    def _write(self, parsed: Iterator[ParsedResult]) -> None:
        """Stage the rows as they are read, several BatchWriteItem calls in flight at once
        (``parallel``: a million rows in minutes, docs/capacity.md). Staged rows are invisible, so
        a failure half way changes nothing readers see; the rows are counted as they are handed
        to the writers, and only a write that returns has stored them all."""
        exams = self.deps.exams
        version = self.version

        def items() -> Iterator[dict[str, Any]]:
            for p in parsed:
                self.stored += 1
                yield exams.result_item(
                    Result(
                        id_number=p.id_number,
                        session_id=p.session_id,
                        overall_score=p.overall_score,
                        grade=p.grade,
                        cefr_level=p.cefr_level,
                        skills=p.skills,
                    ),
                    version,
                )

        self.write_calls += exams.write_items(items(), parallel=True)

    def _notify_released(self) -> None:
        """Late results: a session released before the publication (even a moment ago, by the
        schedule) has fanned out already, so this file's candidates of it are queued here — its
        sessions are read after the publishing write. A session still open now is released
        later, and that release's fan-out finds these results published. Needs a third pass
        over the file only when one of its sessions is released."""
        session_ids = [s for s, known in self.sessions.items() if known is not None]
        released = {s for s, known in self.deps.exams.get_sessions(session_ids).items() if known.status == "released"}
        if not released:
            return
        if not self.deps.settings.notify_queue_url:
            # Failing keeps the event for a retry and then for the operators' failure queue, so
            # these candidates are never silently skipped.
            raise NotifyQueueMissing("results of a released session need NOTIFY_QUEUE_URL to notify candidates")
        queue = self.deps.notify_queue
        pending: dict[str, list[str]] = {s: [] for s in released}
        for _, row in read_rows(iter_text_lines(self.uploads.stream(self.obj)), RESULT_COLUMNS):
            if isinstance(row, ReportError) or row["session_id"] not in pending:
                continue
            ids = pending[row["session_id"]]
            ids.append(row["id_number"].upper())
            if len(ids) == WRITE_CHUNK_ROWS:
                self._enqueue(queue, row["session_id"], ids)
                ids.clear()
        for session_id, ids in sorted(pending.items()):
            if ids:
                self._enqueue(queue, session_id, ids)

    def _enqueue(self, queue: NotifyQueue, session_id: str, id_numbers: list[str]) -> None:
        notifications.enqueue(queue, session_id, id_numbers, [self.version] * len(id_numbers))
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
    obj = S3Object(bucket, key, version_id, etag)
    return handle_upload(deps, obj, ResultsPublication(deps, obj), now)
