"""Entries import (SPEC §5): an entries file from ``entries/`` validated, then its entries
staged (Secret Numbers only as hashes), the centres' Confirmation of Entry documents written,
and the file published with its sessions in one write: all or nothing, faults included
(docs/files.md "Entries under faults").

The plumbing both kinds of file share (the two passes, the report, the processed-file marker)
is ``exam_results.usecases.uploads``; this module is what only the ImportEntries function
imports.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import batched
from typing import Any

from exam_results.confirmations import Confirmation, Sitting, confirmation_key, render_csv, render_pdf
from exam_results.credentials import derive_secret, generation_key, hash_secret
from exam_results.entry_rows import EntriesFileChecker, ParsedEntry, validate_entry_row
from exam_results.files.reader import ENTRY_COLUMNS, ENTRY_OPTIONAL_COLUMNS, read_rows
from exam_results.files.report import FileRejected, Report, ReportError
from exam_results.models import Entry, ExamSession
from exam_results.observability import count, logger
from exam_results.repositories.candidates import VERSIONS, effective_fields
from exam_results.repositories.exams import MAX_TRANSACTION_ITEMS
from exam_results.repositories.uploads import BATCH_GET_KEYS, S3Object, SessionChanged
from exam_results.usecases.uploads import (
    FAILED_MESSAGE,
    FileChanged,
    ReportErrors,
    file_id,
    handle_upload,
)
from exam_results.wiring import Deps

__all__ = ["ImportConflict", "SecretIssuer", "import_entries"]


class ImportConflict(Exception):
    """A session changed between validation and writing (released, or created by another
    file): the event is retried and the file validated again."""


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
        self.uploads = deps.uploads
        self.checker = EntriesFileChecker()
        self.stored_sessions: dict[str, ExamSession | None] = {}
        self.errors = ReportErrors()
        self.rows = 0
        self.sittings: dict[str, Sitting] = {}
        self.file_id = file_id(obj)
        self.published = False
        self.files: dict[str, bool] = {}  # entries files met in the stored entries: published?

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
        self.errors.add_repeats(self.checker.ids)
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

    def _session_writes(self) -> tuple[list[dict[str, Any]], int, int]:
        """The conditional puts of the sessions this file creates or changes (made in the
        publishing write, ``UploadsRepository.publish_entries``), and how many of each."""
        operations: list[dict[str, Any]] = []
        new: list[ExamSession] = []
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
                # an earlier release set by a releases/ file stays (put_session checks it is unchanged)
                release_at=stored.release_at if stored else None,
                release_set_by=stored.release_set_by if stored else None,
            )
            self.sittings[session_id] = _sitting(session)
            if stored == session:
                continue
            if stored is None:
                created += 1
                new.append(session)
            else:
                updated += 1
                operations.append(self.uploads.put_session_op(self.deps.exams, session, new=False))
        # A file with more sessions than one transaction holds creates the new ones first: a
        # session no entry in effect names is seen by no one (docs/files.md).
        room = MAX_TRANSACTION_ITEMS - 1 - len(operations)
        for session in new[: max(0, len(new) - room)]:
            if not self.uploads.put_session(self.deps.exams, session, new=True):
                raise ImportConflict(f"session {session.session_id} changed while {self.source_key} was imported")
        operations += [
            self.uploads.put_session_op(self.deps.exams, s, new=True) for s in new[max(0, len(new) - room) :]
        ]
        return operations, created, updated

    def store(self, lines: Iterator[str]) -> Report:
        """Pass 2: the entries staged 100 rows a chunk as versions of this file (in no reader's
        view: ``candidates.effective_entry``), then the Confirmation of Entry documents of the
        secrets this file had generated, then one write publishing the file with its sessions.

        A blank ``secret_number`` for a new ID Number, or ``regenerate`` = ``yes``, gets a
        secret from ``SecretIssuer``; a blank one for an ID Number that has an entry keeps its
        secret — unless the stored hash is the one this very object version issues, which means
        an earlier attempt at this file stored it and crashed before it finished: that row is
        treated as the attempt treated it, so its page is written again, with the same secret.

        Order: nothing of the file takes effect until every document is in S3, so a failed
        document write never leaves a candidate with a secret nobody printed (with
        ``regenerate`` the old secret keeps working until then), and a failure anywhere leaves
        what readers see as it was; the retried event finds the same publication item (same
        ``staged_at``, same versions), issues the same secrets and finishes. Once published, a
        retry writes nothing again.
        """
        now = datetime.now(UTC)
        staged_at, status = self.uploads.stage(self.file_id, self.obj, now)
        if status not in ("staged", "published"):
            raise FileChanged(self.source_key)
        if status == "published":  # a retry after the publishing write: nothing left to write
            self.published = True
            return Report.accepted(self.source_key, self.rows, self.rows)
        version = f"{staged_at}#{self.file_id}"
        sessions, sessions_created, sessions_updated = self._session_writes()
        pepper = self.deps.pepper()
        issuer = SecretIssuer(pepper, f"{self.obj.bucket}/{self.obj.key}#{self.obj.version}")
        documents: dict[tuple[str, str], list[Confirmation]] = {}
        created = updated = generated = reissued = 0

        def parsed_rows() -> Iterator[ParsedEntry]:
            for _, row in read_rows(lines, ENTRY_COLUMNS, ENTRY_OPTIONAL_COLUMNS):
                parsed = None if isinstance(row, ReportError) else validate_entry_row(row)[0]
                if parsed is None:
                    raise FileChanged(self.source_key)
                yield parsed

        def entries() -> Iterator[tuple[Entry, bool]]:
            nonlocal created, updated, generated, reissued
            for chunk in batched(parsed_rows(), BATCH_GET_KEYS, strict=False):
                records = {
                    str(r["pk"]).removeprefix("CANDIDATE#"): r
                    for r in self.uploads.entry_records(
                        (p.id_number for p in chunk), ("pk", "id_number", "secret_hash", VERSIONS)
                    )
                }
                self._learn_files(records.values())
                published = [f for f, yes in self.files.items() if yes]
                for p in chunk:
                    record = records.get(p.id_number)
                    before = effective_fields(record, published)
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
                    yield entry, record is not None and VERSIONS in record

        write_calls = self.uploads.stage_entries(entries(), version)
        written = self._write_documents(documents)
        stored = created + updated
        try:
            self.uploads.publish_entries(self.file_id, stored, now, sessions)
        except SessionChanged as exc:
            raise ImportConflict(f"a session changed while {self.source_key} was imported") from exc
        self.published = True
        write_calls += 1
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

    def _learn_files(self, records: Any) -> None:
        """Which entries files of these entry items are published (one read for those not met
        before in this import: a few files, read once)."""
        from exam_results.repositories.candidates import entry_files

        unknown = set().union(*map(entry_files, records)) - self.files.keys()
        if unknown:
            published = self.deps.candidates.published(unknown)
            self.files.update((f, f in published) for f in unknown)

    def failure_report(self, code: str) -> Report:
        """The report when this attempt fails for a reason not the file's (then re-raised)."""
        if self.published:  # published, then the marker or report failed: it is in effect
            return Report.accepted(self.source_key, self.rows, self.rows)
        note = "Nothing of it took effect: the entries and sessions as they were before still apply."
        return Report.failed(self.source_key, self.rows, FAILED_MESSAGE.format(code=code, stored=note))

    def _write_documents(self, documents: dict[tuple[str, str], list[Confirmation]]) -> int:
        """One PDF and one CSV per (centre, session), each built, put and dropped in turn (only
        one centre's document is in memory at a time). Written before the entries carrying their
        secrets: a file that is rejected leaves no document; a retry rewrites the same pages
        (same secrets) under the same keys."""
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
    return handle_upload(deps, obj, _EntriesImport(deps, obj), now)
