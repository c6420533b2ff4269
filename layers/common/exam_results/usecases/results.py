"""Results for candidates (GET /me/results) and for organisations (POST /verifications)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from exam_results.catalogue import get_exam
from exam_results.errors import NotFound
from exam_results.models import Entry, ExamSession, Result
from exam_results.observability import count
from exam_results.repositories.candidates import ENTRY_SK
from exam_results.repositories.exams import result_files, visible_result
from exam_results.result_models import (
    Centre,
    Certificate,
    ExamRef,
    ResultItem,
    ResultsResponse,
    Statement,
    VerificationRequest,
    VerificationResponse,
)
from exam_results.usecases.identity import Principal, verify_secret_number
from exam_results.wiring import Deps

CERTIFICATE_DELAY = timedelta(days=28)


def _exam(code: str) -> ExamRef:
    exam = get_exam(code)
    return ExamRef(code=code, name=exam.name if exam else code)


def _statement(result: Result) -> Statement:
    return Statement(
        overall_score=result.overall_score,
        grade=result.grade,
        cefr_level=result.cefr_level,
        skills=dict(result.skills),
    )


def result_item(entry: Entry, session: ExamSession, result: Result | None) -> ResultItem:
    """One session of a candidate. Before release nothing of a result shows, not even whether
    there is one; after release the statement, or 'overdue' when there is none."""
    released = session.status == "released" and session.released_at is not None
    item = ResultItem(
        session_id=session.session_id,
        exam=_exam(session.exam_code),
        exam_date=session.exam_date,
        format=session.format,
        results_available_by=session.results_available_by,
        status="pending",
        centre=Centre(number=entry.centre_number, name=entry.centre_name),
    )
    if not released:
        return item
    if result is None:
        return item.model_copy(update={"status": "overdue"})
    assert session.released_at is not None
    return item.model_copy(
        update={
            "status": "released",
            "statement": _statement(result),
            "certificate": Certificate(expected_at_centre_by=(session.released_at + CERTIFICATE_DELAY).date()),
        }
    )


def published_results(deps: Deps, records: list[dict[str, Any]]) -> tuple[dict[str, ExamSession], dict[str, Result]]:
    """A candidate's sessions (those of its entries) and, per session, the result readers see:
    only versions of published files (staging, docs/files.md). One BatchGetItem reads the
    sessions and the files' publication items together. Shared by every reader of a
    candidate's partition (results page, Statement of Results)."""
    versions: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if str(r["sk"]).startswith("RESULT#"):
            versions.setdefault(str(r["session_id"]), []).append(r)
    session_ids = [str(r["session_id"]) for r in records if r["sk"] == ENTRY_SK]
    sessions, published = deps.exams.sessions_and_files(
        session_ids, result_files(r for rs in versions.values() for r in rs)
    )
    results: dict[str, Result] = {}
    for session_id, candidates in versions.items():
        shown = visible_result(candidates, published)
        if shown is not None:
            results[session_id] = Result.model_validate(shown)
    return sessions, results


def my_results(deps: Deps, principal: Principal) -> ResultsResponse:
    records = deps.exams.candidate_records(principal.account.id_number)
    entries = [Entry.model_validate(r) for r in records if r["sk"] == ENTRY_SK]
    sessions, results = published_results(deps, records)
    items = [
        result_item(entry, sessions[entry.session_id], results.get(entry.session_id))
        for entry in entries
        if entry.session_id in sessions
    ]
    return ResultsResponse(results=items)


def verify(deps: Deps, request: VerificationRequest) -> VerificationResponse:
    """A released result for an ID and Secret Number; every other case is the same NotFound."""
    entry = verify_secret_number(deps, request.id_number, request.secret_number)
    if entry is None:
        count("VerificationsRefused")
        raise NotFound()
    versions = deps.exams.result_versions(entry.id_number, entry.session_id)
    sessions, published = deps.exams.sessions_and_files([entry.session_id], result_files(versions))
    session = sessions.get(entry.session_id)
    shown = visible_result(versions, published)
    if session is None or session.status != "released" or shown is None:
        raise NotFound()
    result = Result.model_validate(shown)
    count("Verifications")
    return VerificationResponse(
        candidate_name=entry.candidate_name,
        exam=_exam(session.exam_code),
        exam_date=session.exam_date,
        overall_score=result.overall_score,
        grade=result.grade,
        cefr_level=result.cefr_level,
        skills=dict(result.skills),
    )
