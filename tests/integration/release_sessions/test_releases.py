"""releases/*.csv (SPEC §6, "Faster results"): checked like every file, all or nothing, applied
once; the session's release time moves on the index the schedule queries, its promise does not."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine

from devtools.harness.stack import Stack
from tests.helpers.uploads import ENTRY_HEADER, Board, session_record

PROMISED = datetime(2026, 7, 25, 8, 0, tzinfo=UTC)  # C1A 2026-06-20 PB: 09:00 UK time + 35 days
OPEN = "C1A-2026-06-20-PB"
OTHER = "B2F-2026-06-27-CB"
GONE = "A2K-2026-05-02-PB"
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def csv(*rows: str) -> str:
    return "session_id,release_at\r\n" + "".join(f"{r}\r\n" for r in rows)


@pytest.fixture
def sessions(exams: Any) -> None:
    exams.session(OPEN, "C1A", date(2026, 6, 20), "PB", PROMISED)
    exams.session(OTHER, "B2F", date(2026, 6, 27), "CB", datetime(2026, 7, 11, 8, 0, tzinfo=UTC))
    exams.session(GONE, "A2K", date(2026, 5, 2), "PB", datetime(2026, 6, 6, 8, 0, tzinfo=UTC), released_at=NOW)


def due(at: datetime) -> list[str]:
    from exam_results.wiring import deps

    return [s.session_id for s in deps().exams.due_sessions(at)]


def test_a_good_file_moves_the_release_time_on_the_index_and_keeps_the_promise(board: Board, sessions: None) -> None:
    answer, _ = board.releases("releases/day1.csv", csv(f"{OPEN},2026-07-10T10:00:00+01:00"))
    assert answer["processed"] == [{"key": "releases/day1.csv", "status": "accepted", "stored": 1}]
    assert board.report("releases/day1.csv") == {
        "source_key": "releases/day1.csv",
        "status": "accepted",
        "rows": 1,
        "stored": 1,
        "errors": [],
    }
    stored = session_record(OPEN)
    assert stored["release_at"] == "2026-07-10T09:00:00Z"
    assert stored["release_set_by"] == "releases/day1.csv"
    assert stored["results_available_by"] == "2026-07-25T08:00:00Z"  # the promise never changes
    assert stored["gsi1pk"] == "OPEN_SESSIONS" and stored["gsi1sk"] == "2026-07-10T09:00:00Z"
    # The schedule's query (GSI1, never a scan) finds it at release_at, not before.
    assert OPEN not in due(datetime(2026, 7, 10, 8, 59, 59, tzinfo=UTC))
    assert OPEN in due(datetime(2026, 7, 10, 9, 0, tzinfo=UTC))


def test_a_blank_release_at_means_now(board: Board, sessions: None) -> None:
    with time_machine.travel(NOW, tick=False):
        board.releases("releases/now.csv", csv(f"{OPEN},"))
    assert session_record(OPEN)["release_at"] == "2026-07-01T12:00:00Z"
    assert OPEN in due(NOW)


def test_a_bad_file_is_reported_row_by_row_and_changes_nothing(board: Board, sessions: None) -> None:
    answer, _ = board.releases(
        "releases/bad.csv",
        csv(
            f"{OTHER},2026-07-05T09:00:00Z",  # good, but the file is all or nothing
            "NOPE-2026-01-01-PB,2026-07-05T09:00:00Z",
            f"{GONE},2026-06-01T09:00:00Z",
            f"{OPEN},2026-07-10 09:00",
            f"{OPEN},next tuesday",
            f"{OPEN},2026-07-25T09:00:01+01:00",
            f"{OTHER},",
            "bad id!,",
        ),
    )
    assert answer["processed"][0]["status"] == "rejected"
    report = board.report("releases/bad.csv")
    assert (report["status"], report["rows"], report["stored"]) == ("rejected", 8, 0)
    errors = [(e["line"], e["field"]) for e in report["errors"]]
    assert errors == [
        (3, "session_id"),
        (4, "session_id"),
        (5, "release_at"),
        (6, "release_at"),
        (7, "release_at"),
        (8, "session_id"),
        (9, "session_id"),
    ]
    messages = [e["message"] for e in report["errors"]]
    assert "does not exist" in messages[0]
    assert "was released at 2026-07-01T12:00:00Z" in messages[1]
    assert "needs a UTC offset" in messages[2]
    assert "is not an ISO 8601 date and time" in messages[3]
    assert "after the session's results_available_by (2026-07-25T08:00:00Z)" in messages[4]
    assert "appears more than once in this file (first on line 2)" in messages[5]
    assert "is not valid" in messages[6]
    for session_id in (OPEN, OTHER):
        assert "release_at" not in session_record(session_id)
    assert session_record(OTHER)["gsi1sk"] == "2026-07-11T08:00:00Z"


def test_a_file_without_the_columns_is_rejected(board: Board, sessions: None) -> None:
    board.releases("releases/cols.csv", f"session_id,when\r\n{OPEN},2026-07-05T09:00:00Z\r\n")
    report = board.report("releases/cols.csv")
    assert report["status"] == "rejected"
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(1, "release_at")]


def test_a_file_of_more_sessions_than_one_transaction_is_rejected(board: Board, sessions: None) -> None:
    rows = [f"S{n:03d}-2026-06-20-PB,2026-07-05T09:00:00Z" for n in range(101)]
    board.releases("releases/many.csv", csv(*rows))
    report = board.report("releases/many.csv")
    assert report["status"] == "rejected" and report["rows"] == 101
    assert report["errors"][-1]["line"] is None and "at most 100 sessions" in report["errors"][-1]["message"]


def test_the_same_object_processed_twice_changes_nothing(stack: Stack, board: Board, sessions: None) -> None:
    _, first = board.releases("releases/a.csv", csv(f"{OPEN},2026-07-10T09:00:00Z"))
    board.releases("releases/b.csv", csv(f"{OPEN},2026-07-12T09:00:00Z"))  # a later file replaces it
    assert session_record(OPEN)["release_at"] == "2026-07-12T09:00:00Z"

    again = stack.invoke("ReleaseSessionsFunction", first)  # S3 delivered releases/a.csv twice
    assert again["processed"][0]["status"] == "skipped"
    assert session_record(OPEN)["release_at"] == "2026-07-12T09:00:00Z"
    assert session_record(OPEN)["gsi1sk"] == "2026-07-12T09:00:00Z"
    assert board.report_versions("releases/a.csv") == 1


def test_a_session_released_while_the_file_is_applied_fails_the_call_then_is_reported(
    stack: Stack, board: Board, sessions: None
) -> None:
    """The schedule releases the session between the file's check and its write (injected at
    the TransactWriteItems call): nothing of the file is applied, Lambda's retry reports it."""
    from exam_results.repositories.aws import client
    from exam_results.repositories.exams import ReleaseTimeConflict
    from exam_results.repositories.fanout import FanoutRepository
    from exam_results.wiring import deps

    def schedule_runs_first(**_: Any) -> None:
        FanoutRepository(deps().settings.data_table).release(OPEN, PROMISED)

    events = client("dynamodb").meta.events
    events.register_first("before-call.dynamodb.TransactWriteItems", schedule_runs_first, unique_id="race")
    event = board.put("releases/race.csv", csv(f"{OTHER},2026-07-05T09:00:00Z", f"{OPEN},2026-07-10T09:00:00Z"))
    try:
        with pytest.raises(ReleaseTimeConflict):
            stack.invoke("ReleaseSessionsFunction", event)
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="race")
    assert "release_at" not in session_record(OTHER)  # all or nothing

    assert stack.invoke("ReleaseSessionsFunction", event)["processed"][0]["status"] == "rejected"  # the retry
    report = board.report("releases/race.csv")
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(3, "session_id")]
    assert "release_at" not in session_record(OTHER)


def test_an_entries_file_after_a_releases_file_keeps_the_release_time(board: Board, sessions: None) -> None:
    board.releases("releases/early.csv", csv(f"{OPEN},2026-07-10T09:00:00Z"))
    row = f"{OPEN},C1A,2026-06-20,PB,LATE00001,1234,0001,Late Entry,2004-01-01,GB123,Oxford Language Centre"
    board.entries("entries/late.csv", f"{ENTRY_HEADER}\r\n{row}\r\n")
    assert board.report("entries/late.csv")["status"] == "accepted"
    stored = session_record(OPEN)
    assert (stored["release_at"], stored["gsi1sk"]) == ("2026-07-10T09:00:00Z", "2026-07-10T09:00:00Z")
    assert stored["results_available_by"] == "2026-07-25T08:00:00Z"


def test_a_release_time_set_while_an_entries_file_is_imported_is_not_overwritten(
    stack: Stack, board: Board, sessions: None
) -> None:
    """A releases file lands between an entries file's check (which read the session) and its
    session write (injected at the publishing TransactWriteItems that carries the session's
    put): the put is conditional on the release time it read, so the file's publication fails
    as a whole and Lambda's retry keeps the new time."""
    from exam_results.repositories.aws import client
    from exam_results.usecases.entries_import import ImportConflict
    from exam_results.wiring import deps

    def board_brings_it_forward(params: dict[str, Any], **_: Any) -> None:
        puts = [a["Put"]["Item"] for a in params.get("TransactItems", []) if "Put" in a]
        if any(item.get("sk") == {"S": "SESSION"} for item in puts):
            # The releases file's own function, not this import: another thread (the recorder
            # attributes calls by context, and the import's policy rightly grants no UpdateItem).
            other = threading.Thread(
                target=deps().exams.set_release_times,
                args=([(OPEN, datetime(2026, 7, 10, 9, 0, tzinfo=UTC))], "releases/mid.csv"),
            )
            other.start()
            other.join()

    row = f"{OPEN},C1A,2026-06-20,PB,MID000001,1234,0001,Mid Import,2004-01-01,GB123,Oxford Language Centre"
    # results_available_by given (a day earlier): the session item is rewritten.
    header = f"{ENTRY_HEADER},results_available_by"
    event = board.put("entries/mid.csv", f"{header}\r\n{row},2026-07-24T09:00:00+01:00\r\n")
    events = client("dynamodb").meta.events
    hook = "before-parameter-build.dynamodb.TransactWriteItems"
    events.register_first(hook, board_brings_it_forward, unique_id="mid")
    try:
        with pytest.raises(ImportConflict):
            stack.invoke("ImportEntriesFunction", event)
    finally:
        events.unregister(hook, unique_id="mid")
    assert stack.invoke("ImportEntriesFunction", event)["processed"][0]["status"] == "accepted"  # the retry
    stored = session_record(OPEN)
    assert (stored["release_at"], stored["gsi1sk"]) == ("2026-07-10T09:00:00Z", "2026-07-10T09:00:00Z")
    assert stored["results_available_by"] == "2026-07-24T08:00:00Z"
