"""Results publication (SPEC §5): a results file from ``results/`` validated, then staged and
published in one write (all or nothing, faults included: docs/files.md "Staging and
publication"), and the candidates of a released session queued for their email.

The plumbing both kinds of file share (the two passes, the report, the processed-file marker)
is ``exam_results.usecases.uploads``; this module is what only the PublishResults function
imports.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from operator import itemgetter
from typing import Any

from exam_results import notifications
from exam_results.catalogue import EXAMS, SKILL_MIN, SKILLS_ALL, Exam, grade_for
from exam_results.csvfiles import (
    _ID_NUMBER,
    _SESSION_ID,
    RESULT_COLUMNS,
    FileRejected,
    Report,
    ReportError,
    RowReader,
    iter_text_lines,
    read_rows,
)
from exam_results.models import ExamSession, Result
from exam_results.observability import count, logger
from exam_results.repositories.candidates import candidate_pk
from exam_results.repositories.exams import result_sk
from exam_results.repositories.queue import NotifyQueue
from exam_results.repositories.uploads import BATCH_GET_KEYS, ObjectGone, S3Object, UploadsRepository
from exam_results.result_rows import ParsedResult, ResultsFileChecker, validate_result_row
from exam_results.usecases.uploads import (
    FAILED_MESSAGE,
    FileChanged,
    ReportErrors,
    chunks,
    handle_upload,
)
from exam_results.wiring import Deps

__all__ = ["CHECK_ROWS", "WRITE_CHUNK_ROWS", "FastResultCheck", "NotifyQueueMissing", "publish_results"]

CHECK_ROWS = 10 * BATCH_GET_KEYS
"""Rows checked together in the validation pass (their entries read 100 a call)."""

_IN_ORDER = tuple(range(len(RESULT_COLUMNS)))  # positions of RESULT_COLUMNS in rows that hold just them

WRITE_CHUNK_ROWS = 1000
"""Results parsed, written or queued together (a multiple of 25 and of 50, so chunking adds no
BatchWriteItem call and no partial notification batch)."""


def file_id(obj: S3Object) -> str:
    """A short id of one object version (its results' versions and publication item name it)."""
    return hashlib.sha256(f"{obj.bucket}/{obj.key}\n{obj.version}".encode()).hexdigest()[:20]


class NotifyQueueMissing(Exception):
    """Results of a released session were stored but no notification queue is configured."""


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

    def __init__(self, deps: Deps, obj: S3Object) -> None:
        self.deps = deps
        self.obj = obj
        self.source_key = obj.key
        self.file_id = file_id(obj)
        self.version = ""  # the rows' version, ``<staged_at>#<file id>``, once staged
        self.published = False
        self.uploads = UploadsRepository(deps.settings.data_table)
        self.checker = ResultsFileChecker()
        self.fast = FastResultCheck()
        self.sessions: dict[str, ExamSession | None] = {}
        self._fast_sessions: dict[str, tuple[str, _Plan]] = {}  # known session_id → (id, plan)
        self.errors = ReportErrors()
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
        self.errors.add_repeats(self.checker.ids)
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
            for chunk in chunks(self._parsed_rows(lines), WRITE_CHUNK_ROWS):
                self._write(chunk)
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
            parsed = self.fast.parse(row, exam) or validate_result_row(row, exam)[0]
            if parsed is None:
                raise FileChanged(self.source_key)
            yield parsed

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
                ),
                self.version,
            )
            for p in chunk
        )
        self.stored += len(chunk)

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
        url = self.deps.settings.notify_queue_url
        if not url:
            # Failing keeps the event for a retry and then for the operators' failure queue, so
            # these candidates are never silently skipped.
            raise NotifyQueueMissing("results of a released session need NOTIFY_QUEUE_URL to notify candidates")
        queue = NotifyQueue(url)
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
    return handle_upload(deps, obj, _ResultsPublication(deps, obj), now)
