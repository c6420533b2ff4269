"""Operator commands of docs/runbook.md, run against the template's stack."""

from __future__ import annotations

from datetime import UTC, date, datetime

from scripts.ops import Names, candidate_report, release_file, upcoming_releases
from tests.helpers.uploads import CallCounter

AVAILABLE = datetime(2026, 7, 25, 8, 0, tzinfo=UTC)
SESSION = "C1A-2026-06-20-PB"
SKILLS = {"reading": 190, "use_of_english": 185, "writing": 176, "listening": 201, "speaking": 193}


def names(stack) -> Names:
    return Names(data_table=stack.physical("DataTable"), auth_table=stack.physical("AuthTable"), bucket="")


def test_unknown_id(stack):
    report = candidate_report(names(stack), "NOBODY123")
    assert report[-1].startswith("no entry")


def test_pending_then_overdue_then_visible(stack, registered, exams, api):
    exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE)
    c, _ = registered(session_id=SESSION)
    report = candidate_report(names(stack), c.id_number.lower())
    assert "verdict: pending: not released yet" in report
    assert "account: j***@example.com, email confirmed" in report
    assert c.email not in "\n".join(report)

    exams.release(SESSION, AVAILABLE)
    assert candidate_report(names(stack), c.id_number)[-1].startswith("verdict: OVERDUE")

    exams.result(c.id_number, SESSION, 189, "C", "C1", SKILLS)
    report = candidate_report(names(stack), c.id_number)
    assert "result: present" in report
    assert report[-1] == "verdict: visible to the candidate"


def test_reports_an_active_lock(stack, registered, api):
    c, _ = registered()
    for _ in range(4):
        api.call("POST", "/sessions", {"id_number": c.id_number, "password": "Wrong-pass-99"})
    report = candidate_report(names(stack), c.id_number, now=datetime.now(UTC))
    assert "login locked for another 30 minutes" in report


def test_bring_forward_writes_the_releases_file_and_upcoming_says_why(stack, exams):
    """The runbook's two commands: `bring-forward` writes releases/ops-….csv (checked and applied
    by ReleaseSessionsFunction like the board's own file), `upcoming` lists what the schedule
    releases in the next hour from the index it queries, with the reason."""
    from tests.helpers.uploads import Board

    now = datetime(2026, 7, 10, 8, 30, tzinfo=UTC)
    exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE)
    exams.session("B2F-2026-06-26-CB", "B2F", date(2026, 6, 26), "CB", datetime(2026, 7, 10, 9, 0, tzinfo=UTC))
    exams.session("A2K-2026-06-27-PB", "A2K", date(2026, 6, 27), "PB", datetime(2026, 8, 1, 8, 0, tzinfo=UTC))
    board = Board(stack)
    ops = Names(data_table=stack.physical("DataTable"), auth_table=stack.physical("AuthTable"), bucket=board.bucket)

    key = release_file(ops, [(SESSION, "2026-07-10T10:15:00+01:00")], now=now)
    assert key == "releases/ops-20260710T083000000000Z.csv"
    body = stack.client("s3").get_object(Bucket=board.bucket, Key=key)
    assert body["Body"].read() == f"session_id,release_at\r\n{SESSION},2026-07-10T10:15:00+01:00\r\n".encode()
    event = board.event(key)
    assert stack.invoke("ReleaseSessionsFunction", event)["processed"][0]["status"] == "accepted"

    scans, queries = CallCounter("Scan"), CallCounter("Query")
    lines = upcoming_releases(ops, hours=1, now=now)
    assert (scans.calls, queries.calls) == (0, 1)  # a Query on the schedule's index, never a scan
    assert lines == [
        "open sessions released by 2026-07-10T09:30:00Z: 2",
        "2026-07-10T09:00:00Z  B2F-2026-06-26-CB  due: end of its result window (results_available_by)",
        f"2026-07-10T09:15:00Z  {SESSION}  due: brought forward by {key} (results available by 2026-07-25T08:00:00Z)",
    ]
    assert upcoming_releases(ops, hours=1, now=datetime(2026, 7, 10, 9, 20, tzinfo=UTC))[1].endswith(
        "due now: end of its result window (results_available_by)"
    )
