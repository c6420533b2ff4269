"""The results validator's quick look-up of the common row never accepts a row its full checks
reject, and parses it the same; and how reports cap their errors."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest

from exam_results.catalogue import EXAMS, SKILL_MIN, SKILLS_ALL, grade_for
from exam_results.result_rows import validate_result_row
from exam_results.usecases import uploads
from tests.helpers.uploads import Board, seed_entries, seed_sessions
from tests.integration.publish_results.test_results import C1A, csv_text


def valid_row(rng: random.Random, code: str) -> dict[str, str]:
    exam = EXAMS[code]
    skills = {s: rng.randint(SKILL_MIN, exam.scale_max) for s in exam.skills}
    overall = (2 * sum(skills.values()) + len(skills)) // (2 * len(skills))
    grade, cefr = grade_for(exam, overall)
    row = {
        "session_id": f"{code}-2026-06-20-PB",
        "id_number": f"ID{rng.randint(0, 10**8):08d}",
        "overall_score": str(overall),
        "grade": grade,
        "cefr_level": cefr or "",
    }
    for skill in SKILLS_ALL:
        row[skill] = str(skills[skill]) if skill in skills else ""
    return row


MUTATIONS = [
    lambda v: str(int(v) + 1) if v.isdigit() else "1",
    lambda v: str(int(v) - 1) if v.isdigit() else "",
    lambda v: "",
    lambda v: "0" + v,
    lambda v: "-" + v,
    lambda v: v + ".0",
    lambda v: v.lower(),
    lambda v: v.upper(),
    lambda v: "١٢٣",  # Arabic-Indic digits: isdigit() but not ASCII
    lambda v: "x" * 70,
    lambda v: "C",
    lambda v: "Fail",
    lambda v: "Level B2",
    lambda v: "B1",
    lambda v: "200",
    lambda v: "79",
    lambda v: "231",
    lambda v: "99999999999",
]


def padded(row: dict[str, str]) -> dict[str, str]:
    """The row with a space around every value: the validator strips them, and its quick look-up
    (values exactly as a board writes them) never accepts such a row — the full checks decide."""
    return {column: f" {value} " for column, value in row.items()}


@pytest.mark.parametrize("code", sorted(EXAMS))
def test_the_quick_look_up_agrees_with_the_full_checks(code: str) -> None:
    rng = random.Random(code)
    exam = EXAMS[code]
    accepted = 0
    for _ in range(3000):
        row = valid_row(rng, code)
        for _ in range(rng.choice([0, 0, 1, 2])):
            column = rng.choice(list(row))
            row[column] = rng.choice(MUTATIONS)(row[column])
        parsed, problems = validate_result_row(row, exam)
        assert (parsed, problems) == validate_result_row(padded(row), exam), row
        accepted += parsed is not None
    assert accepted > 1000


def test_a_report_lists_at_most_the_cap_then_says_how_many_more(
    board: Board, monkeypatch: pytest.MonkeyPatch, stack: Any
) -> None:
    monkeypatch.setattr(uploads, "MAX_REPORTED_ERRORS", 2)
    seed_sessions([(C1A, "C1A", date(2026, 6, 20), "PB", "open")])
    seed_entries([])
    rows = [f"{C1A},NOPE0000{i},203,A,C2,200,205,198,210,202" for i in range(5)]
    board.results("results/many.csv", csv_text(*rows))

    report = board.report("results/many.csv")
    assert report["rows"] == 5 and report["status"] == "rejected"
    assert [e["line"] for e in report["errors"]] == [2, 3, None]
    assert report["errors"][-1] == {
        "line": None,
        "field": None,
        "message": "3 more errors are not listed: correct the errors above and upload the file again.",
    }


def test_repeated_ids_join_the_report_in_line_order_within_the_cap(
    board: Board, monkeypatch: pytest.MonkeyPatch, stack: Any
) -> None:
    monkeypatch.setattr(uploads, "MAX_REPORTED_ERRORS", 3)
    seed_sessions([(C1A, "C1A", date(2026, 6, 20), "PB", "open")])
    seed_entries([("C1A000001", C1A), ("C1A000002", C1A)])
    good = "203,A,C2,200,205,198,210,202"
    rows = [
        f"{C1A},C1A000001,{good}",  # line 2
        f"{C1A},C1A000002,203,A,C2,200,205,198,210,x",  # 3: bad speaking
        f"{C1A},c1a000001,{good}",  # 4: repeats line 2
        f"{C1A},C1A000002,203,A,C2,200,205,198,210,y",  # 5: bad speaking, repeats line 3
        f"{C1A},C1A000001,{good}",  # 6: repeats line 2
    ]
    board.results("results/repeats.csv", csv_text(*rows))

    report = board.report("results/repeats.csv")
    assert report["status"] == "rejected" and report["rows"] == 5
    twice = "ID Number {} appears more than once in this file (first on line {})."
    assert [(e["line"], e["field"], e["message"]) for e in report["errors"]] == [
        (3, "speaking", "speaking must be a whole number, not 'x'."),
        (4, "id_number", twice.format("C1A000001", 2)),
        (5, "speaking", "speaking must be a whole number, not 'y'."),
        (None, None, "2 more errors are not listed: correct the errors above and upload the file again."),
    ]
