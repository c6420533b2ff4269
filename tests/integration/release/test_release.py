"""Release at the right instant, exactly once, with the fan-out resumed across runs."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import time_machine

from devtools.harness.stack import Stack
from exam_results.entry_rows import default_results_available_by
from tests.helpers.notify import (
    SenderPoller,
    fail_third_queue_send,
    queued_batches,
    results_emails,
    schedule_event,
    seed_results,
    seed_session,
)
from tests.helpers.uploads import session_record


def _at(stack: Stack, instant: datetime) -> dict[str, Any]:
    """One schedule run with the clock at ``instant``."""
    with time_machine.travel(instant, tick=False):
        return dict(stack.invoke("ReleaseFunction", schedule_event(stack, instant)))


def test_summer_session_is_released_at_nine_uk_time_which_is_eight_utc(stack: Stack) -> None:
    # 2026-06-20 + 35 days = 2026-07-25, 09:00 BST = 08:00 UTC
    session = seed_session("C1A-2026-06-20-PB", date(2026, 6, 20), "PB")
    assert session.results_available_by.astimezone(UTC) == datetime(2026, 7, 25, 8, 0, tzinfo=UTC)
    seed_results(session.session_id, ["SUMMER001"])

    before = _at(stack, datetime(2026, 7, 25, 7, 59, 59, tzinfo=UTC))
    assert before["released"] == []
    assert session_record(session.session_id)["status"] == "open"

    after = _at(stack, datetime(2026, 7, 25, 8, 0, 0, tzinfo=UTC))
    assert after["released"] == [session.session_id]
    record = session_record(session.session_id)
    assert record["status"] == "released"
    assert record["released_at"] == "2026-07-25T08:00:00Z"
    assert record["notify_done"] is True
    assert "gsi1pk" not in record  # left both GSI1 partitions: nothing more to do

    again = _at(stack, datetime(2026, 7, 25, 8, 5, 0, tzinfo=UTC))
    assert again["released"] == [] and again["fanouts"] == []
    assert session_record(session.session_id)["released_at"] == "2026-07-25T08:00:00Z"


def test_winter_session_is_released_at_nine_uk_time_which_is_nine_utc(stack: Stack) -> None:
    # 2026-11-14 + 35 days = 2026-12-19, 09:00 GMT = 09:00 UTC; a CB session: + 14 days
    pb = seed_session("B2F-2026-11-14-PB", date(2026, 11, 14), "PB", exam_code="B2F")
    cb = seed_session("B2F-2026-12-05-CB", date(2026, 12, 5), "CB", exam_code="B2F")
    assert pb.results_available_by.astimezone(UTC) == datetime(2026, 12, 19, 9, 0, tzinfo=UTC)
    assert cb.results_available_by.astimezone(UTC) == datetime(2026, 12, 19, 9, 0, tzinfo=UTC)

    # At 08:00 UTC it is 08:00 in London in winter: a clock that forgot the season would release.
    assert _at(stack, datetime(2026, 12, 19, 8, 0, 0, tzinfo=UTC))["released"] == []
    assert _at(stack, datetime(2026, 12, 19, 8, 59, 59, tzinfo=UTC))["released"] == []
    run = _at(stack, datetime(2026, 12, 19, 9, 0, 0, tzinfo=UTC))
    assert sorted(run["released"]) == sorted([pb.session_id, cb.session_id])
    assert session_record(pb.session_id)["released_at"] == "2026-12-19T09:00:00Z"


def test_clock_change_weekend_release(stack: Stack) -> None:
    """A window ending the morning after the clocks go back (25 Oct 2026) is 09:00 GMT."""
    session = seed_session("A2K-2026-09-20-PB", date(2026, 9, 20), "PB", exam_code="A2K")
    assert default_results_available_by(date(2026, 9, 20), "PB") == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    assert session.results_available_by.astimezone(UTC) == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    assert _at(stack, datetime(2026, 10, 25, 8, 30, tzinfo=UTC))["released"] == []
    assert _at(stack, datetime(2026, 10, 25, 9, 0, tzinfo=UTC))["released"] == [session.session_id]


def test_two_runs_at_once_release_once_and_email_each_candidate_once(stack: Stack, registered: Any) -> None:
    session = seed_session("C1A-2026-06-20-PB", date(2026, 6, 20), "PB")
    candidate, _ = registered(id_number="TWIN00001", session_id=session.session_id)
    others = [f"TWIN{n:05d}" for n in range(2, 130)]
    seed_results(session.session_id, [candidate.id_number, *others])

    instant = datetime(2026, 7, 25, 8, 0, 30, tzinfo=UTC)
    _at(stack, instant - timedelta(days=30))  # loads the handler; nothing is due yet
    barrier = threading.Barrier(2)
    reports: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            reports.append(dict(stack.invoke("ReleaseFunction", schedule_event(stack, instant))))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    # The clock keeps ticking from the release instant (SQS drops messages older than retention).
    with time_machine.travel(instant, tick=True):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        released = [s for r in reports for s in r["released"]]
        assert released == [session.session_id]

        # Every ID queued (the lease keeps the second run out; the sender dedupes anyway).
        queued = Counter(i for b in queued_batches(stack) for i in b["id_numbers"])
        assert set(queued) == {candidate.id_number, *others}

        SenderPoller(stack).drain()
    [email] = results_emails()
    assert email.to == [candidate.email]
    assert email.text.startswith(f"Dear {candidate.name},")


def test_fan_out_stops_before_the_deadline_and_resumes_from_the_cursor(stack: Stack, monkeypatch: Any) -> None:
    from exam_results.usecases import release
    from exam_results.wiring import deps

    session = seed_session("C1A-2026-06-20-PB", date(2026, 6, 20), "PB")
    ids = [f"CUR{n:06d}" for n in range(1234)]
    seed_results(session.session_id, ids)
    d = deps()

    # The deadline comes near after the first SendMessageBatch of this run.
    def deadline_after(checks: int) -> Any:
        state = {"n": 0}

        def remaining() -> int:
            state["n"] += 1
            return 600_000 if state["n"] <= checks else 1_000

        return remaining

    with time_machine.travel(datetime(2026, 7, 25, 8, 1, tzinfo=UTC), tick=True):
        first = release.run(d, deadline_after(3), owner="run-1")
        assert first.released == [session.session_id]
        assert first.stopped_for_deadline
        assert first.fanouts[0].enqueued == release.CHUNK and not first.fanouts[0].done
        record = session_record(session.session_id)
        assert record["notify_cursor"] == ids[release.CHUNK - 1]
        assert record["gsi1pk"] == "FANOUT_PENDING" and "fanout_owner" not in record

        # The next run (nothing due any more) finds the session in FANOUT_PENDING and resumes.
        second = release.run(d, lambda: 600_000, owner="run-2")
        assert second.released == []
        assert second.fanouts[0].enqueued == len(ids) - release.CHUNK
        assert second.fanouts[0].done

        record = session_record(session.session_id)
        assert record["notify_done"] is True and record["notify_enqueued"] == len(ids)
        batches = queued_batches(stack)
    assert sorted(i for b in batches for i in b["id_numbers"]) == ids  # each ID once over the two runs
    assert all(b["session_id"] == session.session_id and len(b["id_numbers"]) <= 50 for b in batches)


def test_a_run_that_crashed_mid_fan_out_is_resumed_by_the_next(stack: Stack, monkeypatch: Any) -> None:
    from exam_results.usecases import release
    from exam_results.wiring import deps

    session = seed_session("C1A-2026-06-20-PB", date(2026, 6, 20), "PB")
    ids = [f"CRS{n:06d}" for n in range(1600)]
    seed_results(session.session_id, ids)
    monkeypatch.setattr(release, "CURSOR_EVERY", 500)
    fail_third_queue_send(monkeypatch)
    d = deps()
    with time_machine.travel(datetime(2026, 7, 25, 8, 1, tzinfo=UTC), tick=True):
        try:
            release.run(d, lambda: 600_000, owner="run-1")
        except RuntimeError:
            pass
        else:  # pragma: no cover
            raise AssertionError("the fan-out should have failed")
        record = session_record(session.session_id)
        assert record["status"] == "released" and record["notify_cursor"] == ids[999]
        resumed = release.run(d, lambda: 600_000, owner="run-2")
        queued = [i for b in queued_batches(stack) for i in b["id_numbers"]]
    assert resumed.fanouts[0].done and resumed.fanouts[0].enqueued == 600
    assert sorted(queued) == ids
