"""The schedule's work (SPEC §6): release due sessions, then fan their candidates out to the queue.

1. **Release.** Open sessions whose release time has passed (``release_at`` if the exam board
   set an earlier one with a ``releases/`` file, else ``results_available_by``) come from a GSI1
   query (``OPEN_SESSIONS``, sorted by that time). Each is released with one conditional update that also puts it in the
   ``FANOUT_PENDING`` partition: two overlapping runs release it once, and a crash right after
   the release cannot lose its notifications.
2. **Fan-out.** For each session in ``FANOUT_PENDING`` (a GSI1 query, oldest first) the run takes
   a lease, pages through the session's results in ID order (GSI1 ``RESULTS#<session>#<n>``,
   16 shards and the legacy unsharded key merged: ``FanoutRepository.result_versions``) and
   puts ``NotificationBatch`` messages on the queue, 50 IDs a message and 10 messages a
   ``SendMessageBatch`` call. Every ``CURSOR_EVERY`` IDs (and before stopping) it stores the last
   ID enqueued as ``notify_cursor``. When the Lambda deadline comes near it stops and gives the
   lease back; the next run resumes after the cursor. When the results run out the session
   leaves ``FANOUT_PENDING`` (``notify_done``).

Enqueueing is at least once (a crash between a send and the cursor write repeats up to
``CURSOR_EVERY`` IDs); the sender's per-candidate marker makes the email exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from exam_results import notifications
from exam_results.observability import count, logger
from exam_results.repositories.exams import file_of
from exam_results.wiring import Deps

CHUNK = notifications.MAX_RECIPIENTS * 10
"""IDs enqueued together: 10 messages of 50, exactly one ``SendMessageBatch`` call."""
CURSOR_EVERY = 5_000
"""IDs between two cursor writes (at most this many are enqueued again after a crash)."""
SAFETY_MS = 20_000
"""Stop starting new work when less than this is left before the Lambda deadline."""
LEASE_MARGIN_SECONDS = 60
DUE_PAGE = 100


@dataclass
class FanoutProgress:
    session_id: str
    enqueued: int = 0
    sqs_calls: int = 0
    cursor: str | None = None
    done: bool = False
    skipped: str | None = None  # why this run did not fan the session out (another run holds it)


@dataclass
class ReleaseReport:
    released: list[str] = field(default_factory=list)
    fanouts: list[FanoutProgress] = field(default_factory=list)
    stopped_for_deadline: bool = False

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def run(
    d: Deps,
    remaining_ms: Callable[[], int],
    owner: str,
    clock: Callable[[], datetime] = _utcnow,
) -> ReleaseReport:
    """One schedule run: release what is due, then fan out until done or near the deadline."""
    report = ReleaseReport()
    release_due(d, report, remaining_ms, clock)
    for record in d.fanout.pending():
        if remaining_ms() < SAFETY_MS:
            report.stopped_for_deadline = True
            break
        progress = fan_out(d, str(record["session_id"]), owner, remaining_ms, clock)
        report.fanouts.append(progress)
        if not progress.done and progress.skipped is None:
            report.stopped_for_deadline = True
            break
    return report


def release_due(d: Deps, report: ReleaseReport, remaining_ms: Callable[[], int], clock: Callable[[], datetime]) -> None:
    for _ in range(20):
        due = d.exams.due_sessions(clock(), limit=DUE_PAGE)
        released_now = 0
        for session in due:
            if remaining_ms() < SAFETY_MS:
                report.stopped_for_deadline = True
                return
            released = d.fanout.release(session.session_id, clock())
            if released is None:
                continue  # another run released it (or the index lagged behind)
            released_now += 1
            report.released.append(released.session_id)
            count("SessionsReleased")
            logger.info(
                "session released",
                extra={
                    "session_id": released.session_id,
                    "results_available_by": released.results_available_by.isoformat(),
                    "release_at": released.release_at.isoformat() if released.release_at else None,
                    "release_set_by": released.release_set_by,
                    "released_at": released.released_at.isoformat() if released.released_at else None,
                },
            )
        if len(due) < DUE_PAGE or released_now == 0:
            return


def fan_out(
    d: Deps,
    session_id: str,
    owner: str,
    remaining_ms: Callable[[], int],
    clock: Callable[[], datetime] = _utcnow,
) -> FanoutProgress:
    """Enqueue the session's candidates from its cursor on, while time allows."""
    progress = FanoutProgress(session_id=session_id)

    def lease_until() -> float:
        return time.time() + remaining_ms() / 1000 + LEASE_MARGIN_SECONDS

    record = d.fanout.take_lease(session_id, owner, time.time(), lease_until())
    if record is None:
        progress.skipped = "leased by another run or already done"
        return progress
    cursor = record.get("notify_cursor")
    progress.cursor = str(cursor) if cursor else None
    chunk: list[str] = []
    versions: list[str | None] = []
    unsaved = 0
    last_enqueued: str | None = progress.cursor

    def flush() -> None:
        nonlocal unsaved, last_enqueued
        progress.sqs_calls += notifications.enqueue(d.notify_queue, session_id, chunk, versions)
        progress.enqueued += len(chunk)
        unsaved += len(chunk)
        last_enqueued = chunk[-1]
        chunk.clear()
        versions.clear()

    def save() -> bool:
        nonlocal unsaved
        if unsaved == 0 or last_enqueued is None:
            return True
        if not d.fanout.save_cursor(session_id, owner, last_enqueued, unsaved, lease_until()):
            logger.warning("fan-out lease lost", extra={"session_id": session_id})
            return False
        progress.cursor = last_enqueued
        unsaved = 0
        return True

    try:
        for id_number, shown in _published(d, d.fanout.result_versions(session_id, start_after=progress.cursor)):
            chunk.append(id_number)
            versions.append(shown)
            if len(chunk) < CHUNK:
                continue
            flush()
            near_deadline = remaining_ms() < SAFETY_MS
            if (unsaved >= CURSOR_EVERY or near_deadline) and not save():
                progress.skipped = "lease lost"
                return progress
            if near_deadline:
                d.fanout.stop(session_id, owner)
                logger.info("fan-out paused for the deadline", extra=_log(progress))
                count("NotificationsEnqueued", progress.enqueued)
                return progress
        if chunk:
            flush()
        if not save():
            progress.skipped = "lease lost"
            return progress
        progress.done = d.fanout.finish(session_id, owner, clock())
    except Exception:
        logger.exception("fan-out failed; the next run resumes from the cursor", extra=_log(progress))
        try:
            save()
        finally:
            d.fanout.stop(session_id, owner)
        raise
    count("NotificationsEnqueued", progress.enqueued)
    logger.info("fan-out finished" if progress.done else "fan-out stopped", extra=_log(progress))
    return progress


def _published(d: Deps, candidates: Iterable[tuple[str, list[str | None]]]) -> Iterator[tuple[str, str | None]]:
    """The candidates with a published result, each with the version readers see (the latest
    of a published file, as ``visible_result``): staged rows of a file not yet published are
    nobody's news. Files are looked up once per run; a file published after that look-up
    notifies its released sessions itself (results publication reads them after publishing)."""
    checked: set[str] = set()
    published: set[str] = set()
    for id_number, versions in candidates:
        files = {file_of(v) for v in versions if v} - checked
        if files:
            published |= d.fanout.published(files)
            checked |= files
        visible = [v or "" for v in versions if v is None or file_of(v) in published]
        if visible:
            shown = max(visible)
            yield id_number, shown or None


def _log(progress: FanoutProgress) -> dict[str, object]:
    return {
        "session_id": progress.session_id,
        "enqueued": progress.enqueued,
        "sqs_calls": progress.sqs_calls,
        "cursor": progress.cursor,
    }
