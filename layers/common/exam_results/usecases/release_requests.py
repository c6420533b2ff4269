"""Release requests (SPEC §6, "Faster results"): a ``releases/*.csv`` file from the exam board
brings sessions forward. Each row names an open session and its ``release_at`` (blank: now);
the schedule then releases the session at its first run at or after that instant, exactly as
it would at the end of the result window.

The shared plumbing (report, processed-file marker, superseded versions) is
``exam_results.usecases.uploads``; this module is what only the ReleaseSessions function
imports. The file is all or nothing: pass 1 checks every row (its session read 100 a
BatchGetItem), and only a file without errors is applied, in one TransactWriteItems whose
updates are each conditional on the session being still open (``ExamRepository.
set_release_times``): a session the schedule released between the two makes the call fail and
Lambda retry, and the retry's pass 1 reports the row. ``results_available_by`` never changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from itertools import batched

from exam_results.files.reader import RELEASE_COLUMNS, read_rows
from exam_results.files.report import FileRejected, Report, ReportError
from exam_results.models import ExamSession
from exam_results.observability import count, logger
from exam_results.release_rows import ParsedRelease, ReleasesFileChecker
from exam_results.repositories.exams import MAX_TRANSACTION_ITEMS, instant
from exam_results.repositories.uploads import BATCH_GET_KEYS, S3Object
from exam_results.usecases.uploads import ReportErrors, handle_upload
from exam_results.wiring import Deps

__all__ = ["MAX_RELEASE_ROWS", "set_release_times"]

MAX_RELEASE_ROWS = MAX_TRANSACTION_ITEMS
"""Sessions one releases file may name: one all-or-nothing transaction (a board brings a few
sessions forward at a time; more go in several files)."""


class _ReleaseRequests:
    kind = "releases"

    def __init__(self, deps: Deps, source_key: str, now: datetime) -> None:
        self.deps = deps
        self.source_key = source_key
        self.now = now
        self.checker = ReleasesFileChecker()
        self.errors = ReportErrors()
        self.rows = 0
        self.plan: list[tuple[str, datetime]] = []  # (session_id, release instant), file order

    # -- pass 1 --

    def validate(self, lines: Iterator[str]) -> Report:
        def rows() -> Iterator[tuple[int, dict[str, str] | ReportError]]:
            try:
                yield from read_rows(lines, RELEASE_COLUMNS)
            except FileRejected as exc:  # the rows read before it have been checked
                self.errors.add(exc.errors)

        for block in batched(rows(), BATCH_GET_KEYS, strict=False):
            self._check_block(block)
        if self.rows > MAX_RELEASE_ROWS:
            self.errors.add(
                [
                    ReportError(
                        line=None,
                        field=None,
                        message=(
                            f"The file has {self.rows} rows: a releases file may name at most "
                            f"{MAX_RELEASE_ROWS} sessions. Split it into several files."
                        ),
                    )
                ]
            )
        if self.errors.count:
            self.plan.clear()
            return Report.rejected(self.source_key, self.rows, self.errors.for_report())
        return Report.accepted(self.source_key, self.rows, 0)

    def _check_block(self, block: Sequence[tuple[int, dict[str, str] | ReportError]]) -> None:
        """Row checks, then the sessions of the block's good rows (one BatchGetItem); the
        block's errors go to the report in line order."""
        errors: list[ReportError] = []
        parsed: list[tuple[int, ParsedRelease]] = []
        for line, row in block:
            self.rows += 1
            if isinstance(row, ReportError):
                errors.append(row)
                continue
            release, row_errors = self.checker.check(line, row)
            errors.extend(row_errors)
            if release is not None:
                parsed.append((line, release))
        if parsed and self.rows <= MAX_RELEASE_ROWS:  # a longer file is rejected for its length
            sessions = self.deps.exams.get_sessions(r.session_id for _, r in parsed)
            for line, release in parsed:
                error = self._check_session(line, release, sessions.get(release.session_id))
                if error is not None:
                    errors.append(error)
        errors.sort(key=lambda e: e.line or 0)  # stable: a line's row checks first
        self.errors.add(errors)

    def _check_session(self, line: int, release: ParsedRelease, session: ExamSession | None) -> ReportError | None:
        session_id = release.session_id
        if session is None:
            return ReportError(
                line=line,
                field="session_id",
                message=f"Session {session_id} does not exist: upload the entries file that creates it first.",
            )
        if session.status != "open":
            released = instant(session.released_at) if session.released_at else "already"
            return ReportError(
                line=line,
                field="session_id",
                message=f"Session {session_id} was released at {released}: it cannot be brought forward.",
            )
        promised = session.results_available_by
        if release.release_at is None:  # blank: now (or the window's end, if that has passed already)
            at = min(self.now, promised)
        elif release.release_at > promised:
            return ReportError(
                line=line,
                field="release_at",
                message=(
                    f"release_at {instant(release.release_at)} is after the session's results_available_by "
                    f"({instant(promised)}): results can be brought forward, never later than candidates "
                    "were promised."
                ),
            )
        else:
            at = release.release_at
        self.plan.append((session_id, at))
        return None

    # -- pass 2 --

    def store(self, lines: Iterator[str]) -> Report:
        """Apply pass 1's plan (the same object version: ``lines`` is not read again)."""
        self.deps.exams.set_release_times(self.plan, self.source_key)
        for session_id, at in self.plan:
            logger.info(
                "session release time set",
                extra={"session_id": session_id, "release_at": instant(at), "source_key": self.source_key},
            )
        count("SessionReleaseTimesSet", len(self.plan))
        return Report.accepted(self.source_key, self.rows, len(self.plan))


def set_release_times(
    deps: Deps,
    bucket: str,
    key: str,
    version_id: str | None,
    etag: str,
    *,
    now: datetime | None = None,
) -> Report | None:
    """Check a releases file and set its sessions' release times (all or nothing); the report,
    or None when this object version was processed already or is not the key's current content
    (nothing done)."""
    at = now or datetime.now(UTC)
    return handle_upload(deps, S3Object(bucket, key, version_id, etag), _ReleaseRequests(deps, key, at), at)
