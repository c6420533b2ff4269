"""Results for candidates (GET /me/results, the Statement of Results PDF) and for organisations
(POST /verifications)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

from exam_results.catalogue import get_exam
from exam_results.errors import NotFound
from exam_results.models import Entry, ExamSession, Result, TokenRecord
from exam_results.observability import count
from exam_results.repositories.candidates import ENTRY_SK, effective_entry, entry_files, entry_sessions
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
from exam_results.usecases.identity import Principal, principal, utc_now, verify_secret_number
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
        id_number=entry.id_number,
        candidate_number=entry.candidate_number,
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


def published_results(
    deps: Deps, records: list[dict[str, Any]], session_id: str | None = None
) -> tuple[list[Entry], dict[str, ExamSession], dict[str, Result]]:
    """A candidate's entry in effect (only ``session_id``'s when given), its session and, per
    session, the result readers see: only versions of published files (staging, docs/files.md,
    for entries files and results files alike). One BatchGetItem reads the sessions of the
    entry's versions and the files' publication items together. Shared by every reader of a
    candidate's partition (results page, Statement of Results)."""
    versions: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if str(r["sk"]).startswith("RESULT#"):
            versions.setdefault(str(r["session_id"]), []).append(r)
    record = next((r for r in records if r["sk"] == ENTRY_SK), None)
    session_ids = entry_sessions(record)
    if session_id is not None:
        session_ids &= {session_id}
    if not session_ids:
        return [], {}, {}
    files = entry_files(record) | result_files(r for rs in versions.values() for r in rs)
    sessions, published = deps.exams.sessions_and_files(session_ids, files)
    entry = effective_entry(record, published)
    entries = [entry] if entry is not None and (session_id is None or entry.session_id == session_id) else []
    results: dict[str, Result] = {}
    for sid, candidates in versions.items():
        shown = visible_result(candidates, published)
        if shown is not None:
            results[sid] = Result.model_validate(shown)
    return entries, sessions, results


def _entries_and_items(
    deps: Deps, session: TokenRecord, session_id: str | None = None
) -> tuple[Principal, list[tuple[Entry, ResultItem]]]:
    """The candidate of a session token and its entries with their result items (only
    ``session_id``'s when given): one query for the partition, which also holds the account the
    token is checked against (its generation), one batch read for the sessions and the files'
    publication items."""
    partition = deps.candidates.partition(session.id_number)
    candidate = principal(session, partition.account)
    entries, sessions, results = published_results(deps, partition.records, session_id)
    return candidate, [
        (entry, result_item(entry, sessions[entry.session_id], results.get(entry.session_id)))
        for entry in entries
        if entry.session_id in sessions
    ]


def my_results(deps: Deps, session: TokenRecord) -> ResultsResponse:
    """The results page of the candidate of a live session token (``identity.session_token``)."""
    _, found = _entries_and_items(deps, session)
    return ResultsResponse(results=[item for _, item in found])


class StatementFile(NamedTuple):
    filename: str
    content: bytes


def my_statement(deps: Deps, session: TokenRecord, session_id: str) -> StatementFile:
    """The Statement of Results PDF of one of the candidate's released sessions, in the account's
    language. Another candidate's session, an unknown, pending or overdue one: the same NotFound."""
    from exam_results import statements

    candidate, found = _entries_and_items(deps, session, session_id)
    if not found or found[0][1].status != "released":
        raise NotFound("error.not_found_statement")
    entry, item = found[0]
    assert item.statement is not None and item.certificate is not None
    document = statements.StatementOfResults(
        language=candidate.account.language,
        candidate_name=entry.candidate_name,
        id_number=entry.id_number,
        candidate_number=entry.candidate_number,
        date_of_birth=entry.date_of_birth,
        centre_number=entry.centre_number,
        centre_name=entry.centre_name,
        session_id=item.session_id,
        exam_name=item.exam.name,
        exam_date=item.exam_date,
        format=item.format,
        skills=dict(item.statement.skills),
        overall_score=item.statement.overall_score,
        grade=item.statement.grade,
        cefr_level=item.statement.cefr_level,
        certificate_expected_by=item.certificate.expected_at_centre_by,
        issued_at=utc_now(),
        verify_url=deps.settings.link("verify.html"),
    )
    count("StatementsIssued")
    return StatementFile(statements.statement_filename(item.session_id), statements.render_statement(document))


def verify(deps: Deps, request: VerificationRequest) -> VerificationResponse:
    """A released result for an ID and Secret Number; every other case is the same NotFound."""
    checked = verify_secret_number(deps, request.id_number, request.secret_number)
    # The session and the files' publication were read before the check, for a refusal too (a
    # session that does not exist): a right secret with nothing released must not take longer
    # than a wrong one (SPEC §4). The result versions came with the entry (the partition's query).
    entry, sessions, published = checked.entry, checked.sessions, checked.published
    session_id = entry.session_id if entry else ""
    versions = [
        r for r in checked.partition.records if str(r["sk"]).startswith("RESULT#") and r.get("session_id") == session_id
    ]
    if entry is None:
        count("VerificationsRefused")
        raise NotFound()
    session = sessions.get(session_id)
    shown = visible_result(versions, set(published))
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
        centre=Centre(number=entry.centre_number, name=entry.centre_name),
    )
