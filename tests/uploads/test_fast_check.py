"""The results fast path never accepts a row the shared validator rejects, and parses it the same."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest

from exam_results.catalogue import EXAMS, SKILL_MIN, SKILLS_ALL, grade_for
from exam_results.csvfiles import validate_result_row
from exam_results.usecases import uploads
from exam_results.usecases.uploads import FastResultCheck
from tests.uploads.conftest import Board, seed_entries, seed_sessions
from tests.uploads.test_results import C1A, csv_text


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


@pytest.mark.parametrize("code", sorted(EXAMS))
def test_fast_path_agrees_with_the_validator(code: str) -> None:
    rng = random.Random(code)
    fast = FastResultCheck()
    exam = EXAMS[code]
    accepted_fast = 0
    for _ in range(3000):
        row = valid_row(rng, code)
        for _ in range(rng.choice([0, 0, 1, 2])):
            column = rng.choice(list(row))
            row[column] = rng.choice(MUTATIONS)(row[column])
        quick = fast.parse(row, exam)
        parsed, problems = validate_result_row(row, exam)
        if quick is not None:
            accepted_fast += 1
            assert problems == [] and quick == parsed, row
        elif not problems:
            # The fast path may defer a valid row to the validator, but only an unusual one.
            assert any(v.startswith("0") for v in row.values()), row
    assert accepted_fast > 1000


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
