"""The exam board's files (SPEC §5): what the entries import and the results publication share.

The two jobs live beside this module, ``entries_import`` and ``results_publication``: each
upload function imports (and compiles, at its cold start) only its own.

Each file is handled in up to two streaming passes over the S3 object (never held whole in
memory):

1. **validate** every row: the pure checks of ``exam_results.files`` plus the database checks
   (session exists, entry exists and belongs to the session, ...), looked up with one
   BatchGetItem per 100 rows as the rows stream by;
2. **store**, only when pass 1 found no error (all or nothing): the rows are read again (the same
   object version) and written with BatchWriteItem, 25 items a call.

Then the report goes to ``reports/<key>.json`` and a processed-file marker is written
(``UploadsRepository.mark_processed``). A delivery of an object version that has its marker, or
that is no longer the key's current version, changes nothing.

A file that is bad is never an exception: it is a rejected report. Exceptions are for failures
that are not the file's fault (throttling, a session released mid-import, ...): a ``failed``
report is written (the job's own ``failure_report`` when it has one: a results file is staged, so
it can say nothing was published), then the function fails and Lambda retries the event; nothing
half-done is lost because every write is a put of the same values and the marker comes last.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Protocol

from exam_results.files.duplicates import DuplicateIds, duplicate_errors
from exam_results.files.lines import iter_text_lines
from exam_results.files.report import Report, ReportError
from exam_results.observability import count, logger
from exam_results.repositories.aws import error_code
from exam_results.repositories.uploads import ObjectGone, S3Object, UploadsRepository
from exam_results.wiring import Deps

__all__ = [
    "FAILED_MESSAGE",
    "MAX_REPORTED_ERRORS",
    "FileChanged",
    "ReportErrors",
    "UploadJob",
    "file_id",
    "handle_upload",
]

MAX_REPORTED_ERRORS = 10_000
"""A report lists at most this many errors, then one line saying how many more there are."""


class FileChanged(Exception):
    """Pass 2 read rows that pass 1 did not validate: the object changed under us (retry)."""


# --------------------------------------------------------------------------------------------
# Shared plumbing


def _line_of(error: ReportError) -> int:
    return error.line or 0


class ReportErrors:
    """The report's errors: every error counted, the first ``MAX_REPORTED_ERRORS`` listed."""

    def __init__(self) -> None:
        self.listed: list[ReportError] = []
        self.count = 0

    def add(self, errors: Iterable[ReportError]) -> None:
        for error in errors:
            self.count += 1
            if len(self.listed) < MAX_REPORTED_ERRORS:
                self.listed.append(error)

    def add_repeats(self, ids: DuplicateIds) -> None:
        """Add the repeated-ID errors of a whole file, found after the others: merged in by line
        (after a line's other errors), the first listed still the first ``MAX_REPORTED_ERRORS``
        of the file."""
        errors, total = duplicate_errors(ids, MAX_REPORTED_ERRORS)
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


def file_id(obj: S3Object) -> str:
    """A short id of one object version (its staged rows' versions and publication item name it)."""
    return hashlib.sha256(f"{obj.bucket}/{obj.key}\n{obj.version}".encode()).hexdigest()[:20]


class UploadJob(Protocol):
    kind: str

    def validate(self, lines: Iterator[str]) -> Report: ...

    def store(self, lines: Iterator[str]) -> Report: ...


def handle_upload(deps: Deps, obj: S3Object, job: UploadJob, now: datetime | None) -> Report | None:
    uploads = deps.uploads
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
    except Exception as exc:
        # Not the file's fault (a bad file is a report, never an exception): the exam board hears
        # so at once, and Lambda retries the event (then parks it in UploadsFailedQueue). Each
        # attempt rewrites the report, so the last attempt's is the one that stays.
        _report_failure(uploads, obj, job, exc)
        raise
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


FAILED_MESSAGE = (
    "The file could not be processed because of a temporary problem of the service ({code}), not "
    "because of its content. {stored} It will be retried automatically within the next hours and this "
    'report rewritten; if it still says "failed" after that, upload the file again (or ask the '
    "operators to re-run it)."
)
"""A failed report's message; ``{stored}`` says what of the file readers can see meanwhile."""

_UNSTAGED = "Rows written before the failure may be stored; the retry writes the same rows again."


def _report_failure(uploads: UploadsRepository, obj: S3Object, job: UploadJob, exc: Exception) -> None:
    code = error_code(exc) or type(exc).__name__
    own = getattr(job, "failure_report", None)  # jobs that stage their rows know what is visible
    report = (
        own(code)
        if own is not None
        else Report.failed(obj.key, getattr(job, "rows", 0), FAILED_MESSAGE.format(code=code, stored=_UNSTAGED))
    )
    logger.exception("file failed", extra={"kind": job.kind, "source_key": obj.key, "error": code})
    count(f"{job.kind.capitalize()}FilesFailed")
    try:
        uploads.put_report(obj.bucket, report)
    except Exception:
        logger.exception("could not write the failure report", extra={"source_key": obj.key})
