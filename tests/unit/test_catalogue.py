from __future__ import annotations

import pytest

from exam_results.catalogue import (
    EXAMS,
    SKILL_MIN,
    SKILLS_ALL,
    Band,
    Exam,
    get_exam,
    grade_for,
    overall_score,
)


def test_catalogue_holds_the_five_exams_of_the_spec() -> None:
    assert list(EXAMS) == ["A2K", "B1P", "B2F", "C1A", "C2P"]
    names = {code: exam.name for code, exam in EXAMS.items()}
    assert names == {
        "A2K": "A2 Key",
        "B1P": "B1 Preliminary",
        "B2F": "B2 First",
        "C1A": "C1 Advanced",
        "C2P": "C2 Proficiency",
    }
    ranges = {code: (e.scale_min, e.scale_max) for code, e in EXAMS.items()}
    assert ranges == {
        "A2K": (100, 150),
        "B1P": (120, 170),
        "B2F": (140, 190),
        "C1A": (160, 210),
        "C2P": (180, 230),
    }
    four = ("reading", "writing", "listening", "speaking")
    assert EXAMS["A2K"].skills == four
    assert EXAMS["B1P"].skills == four
    for code in ("B2F", "C1A", "C2P"):
        assert EXAMS[code].skills == SKILLS_ALL
    assert SKILL_MIN == 80
    assert SKILLS_ALL == ("reading", "use_of_english", "writing", "listening", "speaking")


def test_exams_and_bands_are_frozen() -> None:
    exam = EXAMS["C1A"]
    assert isinstance(exam, Exam)
    assert isinstance(exam.bands[0], Band)
    with pytest.raises(AttributeError):
        exam.code = "X"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        exam.bands[0].grade = "Z"  # type: ignore[misc]
    with pytest.raises(TypeError):
        EXAMS["ZZZ"] = exam  # type: ignore[index]


def test_get_exam() -> None:
    assert get_exam("C1A") is EXAMS["C1A"]
    assert get_exam(" c1a ") is EXAMS["C1A"]
    assert get_exam("XYZ") is None
    assert get_exam("") is None


# (exam, overall) → (grade, cefr): every band edge of every exam, and the fail edge.
BOUNDARIES = {
    "A2K": [
        (150, "A", "B1"),
        (140, "A", "B1"),
        (139, "B", "A2"),
        (133, "B", "A2"),
        (132, "C", "A2"),
        (120, "C", "A2"),
        (119, "Level A1", "A1"),
        (100, "Level A1", "A1"),
        (99, "Fail", None),
        (80, "Fail", None),
    ],
    "B1P": [
        (170, "A", "B2"),
        (160, "A", "B2"),
        (159, "B", "B1"),
        (153, "B", "B1"),
        (152, "C", "B1"),
        (140, "C", "B1"),
        (139, "Level A2", "A2"),
        (120, "Level A2", "A2"),
        (119, "Fail", None),
    ],
    "B2F": [
        (190, "A", "C1"),
        (180, "A", "C1"),
        (179, "B", "B2"),
        (173, "B", "B2"),
        (172, "C", "B2"),
        (160, "C", "B2"),
        (159, "Level B1", "B1"),
        (140, "Level B1", "B1"),
        (139, "Fail", None),
    ],
    "C1A": [
        (210, "A", "C2"),
        (200, "A", "C2"),
        (199, "B", "C1"),
        (193, "B", "C1"),
        (192, "C", "C1"),
        (180, "C", "C1"),
        (179, "Level B2", "B2"),
        (160, "Level B2", "B2"),
        (159, "Fail", None),
    ],
    "C2P": [
        (230, "A", "C2"),
        (220, "A", "C2"),
        (219, "B", "C2"),
        (213, "B", "C2"),
        (212, "C", "C2"),
        (200, "C", "C2"),
        (199, "Level C1", "C1"),
        (180, "Level C1", "C1"),
        (179, "Fail", None),
    ],
}


@pytest.mark.parametrize(
    ("code", "overall", "grade", "cefr"),
    [(code, *case) for code, cases in BOUNDARIES.items() for case in cases],
)
def test_grade_for_band_boundaries(code: str, overall: int, grade: str, cefr: str | None) -> None:
    assert grade_for(EXAMS[code], overall) == (grade, cefr)


def test_every_score_in_range_has_exactly_one_band() -> None:
    for exam in EXAMS.values():
        for overall in range(exam.scale_min, exam.scale_max + 1):
            matching = [b for b in exam.bands if b.low <= overall <= b.high]
            assert len(matching) == 1
            assert grade_for(exam, overall) == (matching[0].grade, matching[0].cefr)


def test_grade_above_range_is_an_error() -> None:
    with pytest.raises(ValueError, match="above the range"):
        grade_for(EXAMS["A2K"], 151)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([200], 200),
        ([175, 176], 176),  # 175.5 rounds up
        ([174, 175], 175),  # 174.5 rounds up
        ([199, 200, 200, 200], 200),  # 199.75
        ([199, 199, 199, 200], 199),  # 199.25
        ([176, 175, 176, 175], 176),  # 175.5
        ([180, 181, 190, 200, 201], 190),  # 190.4
        ([180, 181, 190, 200, 202], 191),  # 190.6
        ([100, 101, 100, 101], 101),  # 100.5
        ([80, 80, 80, 81], 80),  # 80.25
        ([80, 81], 81),
    ],
)
def test_overall_score_rounds_half_up(scores: list[int], expected: int) -> None:
    assert overall_score(scores) == expected
    assert overall_score(iter(scores)) == expected  # any iterable


def test_overall_score_is_exact_where_float_rounding_is_not() -> None:
    # round() rounds half to even: round(176.5) == 176, the rule says 177.
    assert overall_score([176, 177]) == 177
    # Exhaustive check of the half-up rule over small sets against exact fractions.
    from fractions import Fraction
    from itertools import product

    for scores in product((80, 81, 150, 151, 209, 210), repeat=4):
        mean = Fraction(sum(scores), len(scores))
        expected = int(mean + Fraction(1, 2))  # floor(mean + 1/2): positive numbers
        assert overall_score(scores) == expected


def test_overall_score_needs_scores() -> None:
    with pytest.raises(ValueError):
        overall_score([])
