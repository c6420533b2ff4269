"""Faster results (SPEC §6): a session brought forward by a releases/ file is released at the
first schedule run at or after its release_at, once, with one email per candidate — and
reaching the end of its window later changes nothing."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import time_machine

from devtools.harness.stack import Stack
from tests.helpers.notify import (
    SenderPoller,
    results_recipients,
    schedule_event,
    seed_results,
    seed_session,
)
from tests.helpers.uploads import Board, session_record

SESSION = "C1A-2026-06-20-PB"
PROMISED = datetime(2026, 7, 25, 8, 0, tzinfo=UTC)  # 09:00 UK time, 35 days after the exam


def _run(stack: Stack, instant: datetime) -> dict[str, Any]:
    """One schedule run with the clock at ``instant``; then the sender drains the queue."""
    with time_machine.travel(instant, tick=False):
        report = dict(stack.invoke("ReleaseFunction", schedule_event(stack, instant)))
    with time_machine.travel(instant, tick=True):
        SenderPoller(stack).drain()
    return report


def _bring_forward(stack: Stack, key: str, release_at: str, when: datetime) -> None:
    with time_machine.travel(when, tick=False):
        answer, _ = Board(stack).releases(key, f"session_id,release_at\r\n{SESSION},{release_at}\r\n")
    assert answer["processed"][0]["status"] == "accepted", Board(stack).report(key)


def test_released_early_then_the_window_end_sends_no_second_email(stack: Stack, registered: Any) -> None:
    seed_session(SESSION, date(2026, 6, 20), "PB")
    candidate, _ = registered(id_number="EARLY0001", session_id=SESSION)
    seed_results(SESSION, [candidate.id_number, "EARLY0002"])
    early = datetime(2026, 7, 10, 9, 0, tzinfo=UTC)
    _bring_forward(stack, "releases/early.csv", "2026-07-10T10:00:00+01:00", early - timedelta(days=2))

    assert _run(stack, early - timedelta(seconds=1))["released"] == []
    assert _run(stack, early + timedelta(minutes=3))["released"] == [SESSION]  # first run at or after it
    record = session_record(SESSION)
    assert record["status"] == "released"
    assert record["released_at"] == "2026-07-10T09:03:00Z"
    assert record["results_available_by"] == "2026-07-25T08:00:00Z"  # the promise, unchanged
    assert results_recipients() == [candidate.email]

    # The window's end comes: nothing is due, nothing is sent again.
    assert _run(stack, PROMISED)["released"] == []
    assert _run(stack, PROMISED + timedelta(minutes=5))["released"] == []
    assert results_recipients() == [candidate.email]
    assert session_record(SESSION)["released_at"] == "2026-07-10T09:03:00Z"


def test_a_release_brought_forward_twice_follows_the_later_file(stack: Stack, registered: Any) -> None:
    seed_session(SESSION, date(2026, 6, 20), "PB")
    candidate, _ = registered(id_number="TWICE0001", session_id=SESSION)
    seed_results(SESSION, [candidate.id_number])
    first, second = datetime(2026, 7, 8, 9, 0, tzinfo=UTC), datetime(2026, 7, 15, 9, 0, tzinfo=UTC)
    _bring_forward(stack, "releases/first.csv", "2026-07-08T09:00:00Z", datetime(2026, 7, 1, tzinfo=UTC))
    # A second file replaces the time (here: later, as the board decided to wait a week).
    _bring_forward(stack, "releases/second.csv", "2026-07-15T09:00:00Z", datetime(2026, 7, 2, tzinfo=UTC))
    assert session_record(SESSION)["release_at"] == "2026-07-15T09:00:00Z"

    assert _run(stack, first)["released"] == []
    assert _run(stack, second - timedelta(seconds=1))["released"] == []
    assert _run(stack, second)["released"] == [SESSION]
    assert results_recipients() == [candidate.email]

    # Once released, a third file for it is rejected and changes nothing.
    with time_machine.travel(second + timedelta(hours=1), tick=False):
        answer, _ = Board(stack).releases("releases/third.csv", f"session_id,release_at\r\n{SESSION},\r\n")
    assert answer["processed"][0]["status"] == "rejected"
    assert session_record(SESSION)["released_at"] == "2026-07-15T09:00:00Z"


def test_two_runs_at_once_release_an_early_session_once(stack: Stack, registered: Any) -> None:
    seed_session(SESSION, date(2026, 6, 20), "PB")
    candidate, _ = registered(id_number="RACE00001", session_id=SESSION)
    seed_results(SESSION, [candidate.id_number, *(f"RACE{n:05d}" for n in range(2, 80))])
    early = datetime(2026, 7, 10, 9, 0, tzinfo=UTC)
    _bring_forward(stack, "releases/race.csv", "2026-07-10T09:00:00Z", early - timedelta(days=1))
    _run(stack, early - timedelta(days=1))  # loads the handler; nothing is due yet

    barrier = threading.Barrier(2)
    reports: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            reports.append(dict(stack.invoke("ReleaseFunction", schedule_event(stack, early))))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with time_machine.travel(early + timedelta(seconds=30), tick=True):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        SenderPoller(stack).drain()
    assert not errors
    assert [s for r in reports for s in r["released"]] == [SESSION]
    assert results_recipients() == [candidate.email]
    assert _run(stack, PROMISED)["released"] == []
    assert results_recipients() == [candidate.email]
