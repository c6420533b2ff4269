"""The exam catalogue and grade bands (SPEC §2): the one place they are defined.

Everything here is pure and immutable. Scores are whole numbers on the Cambridge English Scale;
the overall score is the mean of the skill scores rounded half up, computed with exact integer
arithmetic (never with float rounding).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "EXAMS",
    "FAIL_CEFR",
    "FAIL_GRADE",
    "SKILLS_ALL",
    "SKILL_LABELS",
    "SKILL_MIN",
    "Band",
    "Exam",
    "get_exam",
    "grade_for",
    "overall_score",
]

SKILLS_ALL: tuple[str, ...] = (
    "reading",
    "use_of_english",
    "writing",
    "listening",
    "speaking",
)
"""Every skill column, in the order the results file and the statement list them."""

SKILL_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "reading": "Reading",
        "use_of_english": "Use of English",
        "writing": "Writing",
        "listening": "Listening",
        "speaking": "Speaking",
    }
)
"""Skill names for people."""

SKILL_MIN = 80
"""The bottom of the Cambridge English Scale: the lowest skill score that can be reported."""

FAIL_GRADE = "Fail"
FAIL_CEFR: str | None = None


@dataclass(frozen=True, slots=True)
class Band:
    """Overall scores ``low``..``high`` (inclusive) take ``grade`` and CEFR level ``cefr``."""

    low: int
    high: int
    grade: str
    cefr: str


@dataclass(frozen=True, slots=True)
class Exam:
    """One exam of the catalogue.

    ``scale_min``..``scale_max`` is the reported range of the overall score; ``bands`` cover it
    exactly, highest band first. Skill scores run from ``SKILL_MIN`` to ``scale_max``.
    """

    code: str
    name: str
    skills: tuple[str, ...]
    scale_min: int
    scale_max: int
    bands: tuple[Band, ...]


_FOUR = ("reading", "writing", "listening", "speaking")
_FIVE = SKILLS_ALL


def _exam(
    code: str,
    name: str,
    skills: tuple[str, ...],
    bands: tuple[tuple[int, int, str, str], ...],
) -> Exam:
    built = tuple(Band(low, high, grade, cefr) for low, high, grade, cefr in bands)
    return Exam(
        code=code,
        name=name,
        skills=skills,
        scale_min=min(b.low for b in built),
        scale_max=max(b.high for b in built),
        bands=built,
    )


_CATALOGUE: tuple[Exam, ...] = (
    _exam(
        "A2K",
        "A2 Key",
        _FOUR,
        (
            (140, 150, "A", "B1"),
            (133, 139, "B", "A2"),
            (120, 132, "C", "A2"),
            (100, 119, "Level A1", "A1"),
        ),
    ),
    _exam(
        "B1P",
        "B1 Preliminary",
        _FOUR,
        (
            (160, 170, "A", "B2"),
            (153, 159, "B", "B1"),
            (140, 152, "C", "B1"),
            (120, 139, "Level A2", "A2"),
        ),
    ),
    _exam(
        "B2F",
        "B2 First",
        _FIVE,
        (
            (180, 190, "A", "C1"),
            (173, 179, "B", "B2"),
            (160, 172, "C", "B2"),
            (140, 159, "Level B1", "B1"),
        ),
    ),
    _exam(
        "C1A",
        "C1 Advanced",
        _FIVE,
        (
            (200, 210, "A", "C2"),
            (193, 199, "B", "C1"),
            (180, 192, "C", "C1"),
            (160, 179, "Level B2", "B2"),
        ),
    ),
    _exam(
        "C2P",
        "C2 Proficiency",
        _FIVE,
        (
            (220, 230, "A", "C2"),
            (213, 219, "B", "C2"),
            (200, 212, "C", "C2"),
            (180, 199, "Level C1", "C1"),
        ),
    ),
)

EXAMS: Mapping[str, Exam] = MappingProxyType({exam.code: exam for exam in _CATALOGUE})
"""Exam code → exam, in catalogue order."""


def _check_catalogue() -> None:
    # Bands must tile the range exactly, highest first: a typo here would mis-grade candidates.
    for exam in _CATALOGUE:
        expected_high = exam.scale_max
        for band in exam.bands:
            if band.high != expected_high or band.low > band.high:
                raise AssertionError(f"bands of {exam.code} do not tile its range")
            expected_high = band.low - 1
        if expected_high != exam.scale_min - 1:
            raise AssertionError(f"bands of {exam.code} do not reach its scale minimum")
        if not set(exam.skills) <= set(SKILLS_ALL):
            raise AssertionError(f"unknown skill in {exam.code}")


_check_catalogue()


def get_exam(code: str) -> Exam | None:
    """The exam with this code (``"C1A"``; surrounding spaces and case are ignored), or None."""
    return EXAMS.get(code.strip().upper())


def overall_score(scores: Iterable[int]) -> int:
    """The mean of ``scores`` rounded half up (175.5 → 176), in exact integer arithmetic.

    Raises ValueError for no scores.
    """
    total = 0
    count = 0
    for score in scores:
        total += score
        count += 1
    if count == 0:
        raise ValueError("overall_score needs at least one skill score")
    # floor(total / count + 1/2) == floor((2 * total + count) / (2 * count)), exactly.
    return (2 * total + count) // (2 * count)


def grade_for(exam: Exam, overall: int) -> tuple[str, str | None]:
    """``(grade, cefr_level)`` for an overall score: its band's, or ``("Fail", None)`` below range.

    Raises ValueError above the exam's range (impossible for a mean of valid skill scores).
    """
    if overall < exam.scale_min:
        return FAIL_GRADE, FAIL_CEFR
    for band in exam.bands:
        if band.low <= overall <= band.high:
            return band.grade, band.cefr
    raise ValueError(f"overall score {overall} is above the range of {exam.name}")
