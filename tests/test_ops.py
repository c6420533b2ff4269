"""Operator commands of docs/runbook.md, run against the template's stack."""

from __future__ import annotations

from datetime import UTC, date, datetime

from scripts.ops import Names, candidate_report

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
