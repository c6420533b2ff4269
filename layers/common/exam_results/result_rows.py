"""Results files, row by row (SPEC §5): the checks of a results row that need no database.

Pure code, like ``exam_results.files`` (reading, reports, repeated IDs), which it builds on;
only the results publication imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from exam_results.catalogue import SKILL_LABELS, SKILL_MIN, SKILLS_ALL, Exam, grade_for, overall_score
from exam_results.credentials import ID_NUMBER_RE
from exam_results.files.duplicates import DuplicateIds
from exam_results.files.fields import SESSION_ID_RE, check_id_number, check_session_id, quoted, whole_number
from exam_results.files.report import FieldProblem, ReportError, report_errors

__all__ = ["ParsedResult", "ResultsFileChecker", "validate_result_row"]


@dataclass(frozen=True, slots=True)
class ParsedResult:
    """A valid results row. ``skills`` holds exactly the exam's skills, in catalogue order;
    ``grade`` and ``cefr_level`` are the catalogue's spelling (``cefr_level`` None for Fail)."""

    session_id: str
    id_number: str
    overall_score: int
    grade: str
    cefr_level: str | None
    skills: dict[str, int]


@dataclass(frozen=True, slots=True)
class _Scores:
    """One exam's valid rows as look-up tables (``_scores``), for ``_valid_as_written``."""

    skills: tuple[str, ...]  # the exam's skills, in catalogue order
    absent: tuple[str, ...]  # the skills it lacks
    scores: dict[str, int]  # a valid skill score, spelled as a board writes it → its value
    valid: frozenset[tuple[int, str, str, str]]  # (skills' total, overall_score, grade, cefr_level)


_SCORES: dict[str, _Scores] = {}


def _scores(exam: Exam) -> _Scores:
    table = _SCORES.get(exam.code)
    if table is None:
        n = len(exam.skills)
        bands = {}
        for score in range(SKILL_MIN, exam.scale_max + 1):
            grade, cefr = grade_for(exam, score)
            bands[score] = (grade, cefr or "")
        table = _SCORES[exam.code] = _Scores(
            skills=tuple(s for s in SKILLS_ALL if s in exam.skills),
            absent=tuple(s for s in SKILLS_ALL if s not in exam.skills),
            scores={str(v): v for v in range(SKILL_MIN, exam.scale_max + 1)},
            # every valid row's (total, overall, grade, cefr): the overall is the total's mean
            # rounded half up, grade and cefr its band
            valid=frozenset(
                (total, str(mean), *bands[mean])
                for total in range(n * SKILL_MIN, n * exam.scale_max + 1)
                for mean in ((2 * total + n) // (2 * n),)
            ),
        )
    return table


def _valid_as_written(row: Mapping[str, str], exam: Exam) -> ParsedResult | None:
    """The common row — valid, every value written as the checks below would give it back —
    recognised with a few look-ups; None for any other row, which the checks then word. Never
    more lenient than they are (``tests/integration/publish_results/test_result_checks.py``): a
    score spelled ``"0185"`` or ``" 185"`` simply takes the long way."""
    table = _scores(exam)
    session_id = row.get("session_id", "")
    id_number = row.get("id_number", "")
    if not SESSION_ID_RE.fullmatch(session_id) or not ID_NUMBER_RE.fullmatch(id_number):
        return None
    if any(row.get(skill) for skill in table.absent):
        return None
    try:
        skills = {skill: table.scores[row[skill]] for skill in table.skills}
    except KeyError:
        return None
    overall, grade, cefr = row.get("overall_score", ""), row.get("grade", ""), row.get("cefr_level", "")
    if (sum(skills.values()), overall, grade, cefr) not in table.valid:
        return None
    return ParsedResult(
        session_id=session_id,
        id_number=id_number.upper(),
        overall_score=table.scores[overall],
        grade=grade,
        cefr_level=cefr or None,
        skills=skills,
    )


def validate_result_row(row: Mapping[str, str], exam: Exam) -> tuple[ParsedResult | None, list[FieldProblem]]:
    """Check one results row against ``exam`` (the exam of the row's session).

    Checks: session_id and id_number present and well formed; each skill of the exam a whole
    number from 80 to the top of the exam's range; skills the exam lacks (``use_of_english``
    for A2 Key and B1 Preliminary) empty; overall_score a whole number equal to the rounded
    mean; grade and cefr_level exactly as the band gives them (cefr_level empty for a Fail).
    Database checks (session and entry exist and match) and duplicates are the caller's.

    Returns ``(ParsedResult, [])`` or ``(None, [(field, message), ...])``.
    """
    parsed = _valid_as_written(row, exam)
    if parsed is not None:
        return parsed, []
    problems: list[FieldProblem] = []
    session_id = check_session_id(row.get("session_id", "").strip(), problems)
    id_number = check_id_number(row.get("id_number", "").strip(), problems)

    skills: dict[str, int] = {}
    skills_ok = True
    top = exam.scale_max
    for skill in SKILLS_ALL:
        raw = row.get(skill, "").strip()
        if skill not in exam.skills:
            if raw:
                problems.append(
                    (
                        skill,
                        (f"{skill} must be empty for {exam.name}, which has no {SKILL_LABELS[skill]} paper."),
                    )
                )
            continue
        if not raw:
            problems.append((skill, f"{skill} is required for {exam.name}."))
            skills_ok = False
            continue
        value = whole_number(raw)
        if value is None:
            problems.append((skill, f"{skill} must be a whole number, not {quoted(raw)}."))
            skills_ok = False
        elif not SKILL_MIN <= value <= top:
            problems.append(
                (
                    skill,
                    (f"{skill} {value} is out of range: {exam.name} skill scores run from {SKILL_MIN} to {top}."),
                )
            )
            skills_ok = False
        else:
            skills[skill] = value

    mean = overall_score(skills.values()) if skills_ok else None
    given: int | None = None
    raw_overall = row.get("overall_score", "").strip()
    if not raw_overall:
        problems.append(("overall_score", "overall_score is required."))
    else:
        given = whole_number(raw_overall)
        if given is None:
            problems.append(
                (
                    "overall_score",
                    f"overall_score must be a whole number, not {quoted(raw_overall)}.",
                )
            )
        elif not SKILL_MIN <= given <= top:
            problems.append(
                (
                    "overall_score",
                    (f"overall_score {given} is out of range: {exam.name} scores run from {SKILL_MIN} to {top}."),
                )
            )
            given = None
        elif mean is not None and given != mean:
            problems.append(
                (
                    "overall_score",
                    f"overall_score {given} is not the mean of the skill scores ({mean}).",
                )
            )

    # Grade and CEFR level follow the true overall (the mean) when the skills allow it.
    reference = mean if mean is not None else given
    score = (
        f"the overall score {reference}"
        if given is None or given == reference
        else f"the mean of the skill scores ({reference})"
    )
    grade = row.get("grade", "").strip()
    cefr = row.get("cefr_level", "").strip()
    expected_grade: str | None = None
    expected_cefr: str | None = None
    if not grade:
        problems.append(("grade", "grade is required."))
    if reference is not None:
        expected_grade, expected_cefr = grade_for(exam, reference)
        if grade and grade != expected_grade:
            if grade.casefold() == expected_grade.casefold():
                message = f"grade must be written exactly as '{expected_grade}', not {quoted(grade)}."
            else:
                message = (
                    f"grade {quoted(grade)} does not match {score}, which is grade '{expected_grade}' in {exam.name}."
                )
            problems.append(("grade", message))
        if expected_cefr is None:
            if cefr:
                problems.append(
                    (
                        "cefr_level",
                        (
                            f"cefr_level must be empty for a Fail ({score} is "
                            f"below {exam.scale_min}), not {quoted(cefr)}."
                        ),
                    )
                )
        elif cefr != expected_cefr:
            if not cefr:
                message = f"cefr_level is required: {score} is CEFR level {expected_cefr} in {exam.name}."
            elif cefr.casefold() == expected_cefr.casefold():
                message = f"cefr_level must be written exactly as '{expected_cefr}', not {quoted(cefr)}."
            else:
                message = (
                    f"cefr_level {quoted(cefr)} does not match {score}, "
                    f"which is CEFR level {expected_cefr} in {exam.name}."
                )
            problems.append(("cefr_level", message))

    if problems or mean is None or expected_grade is None:
        return None, problems
    return (
        ParsedResult(
            session_id=session_id,
            id_number=id_number,
            overall_score=mean,
            grade=expected_grade,
            cefr_level=expected_cefr,
            skills=skills,
        ),
        problems,
    )


class ResultsFileChecker:
    """The checks of one results file that need no database: ``validate_result_row`` plus
    "no ID twice in a file". Use one instance per file, rows in file order; ``check`` records
    each well-formed ID Number in ``ids`` and ``duplicate_errors(checker.ids)`` names the
    repeats once the whole file has been checked."""

    def __init__(self) -> None:
        self.ids = DuplicateIds()

    def check(self, line: int, row: Mapping[str, str], exam: Exam) -> tuple[ParsedResult | None, list[ReportError]]:
        """``(ParsedResult, [])`` or ``(None, [ReportError(line, field, message), ...])``."""
        parsed, problems = validate_result_row(row, exam)
        raw_id = row.get("id_number", "").strip()
        if ID_NUMBER_RE.fullmatch(raw_id):
            self.ids.add_one(line, raw_id)
        if problems:
            return None, report_errors(line, problems)
        return parsed, []
