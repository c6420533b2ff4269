"""All or nothing under faults (issue 18): a results file is staged, then published in one
conditional write; readers see all of it or none of it whatever AWS call fails, the exam board
always gets a report, and a retry of the same object version publishes the whole file once.

Faults come from ``tests.helpers.uploads.Faults`` (a botocore hook on the layer's client that
raises what DynamoDB returns once the SDK's retries are spent). Readers are the real ones:
``GET /me/results`` and ``POST /verifications`` through ``api``, and the release fan-out's
recipients (the notification queue after a ``ReleaseFunction`` run).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine

from tests.conftest import Candidate
from tests.helpers.notify import SenderPoller, queued_batches, results_emails, schedule_event
from tests.helpers.uploads import RESULT_HEADER, Board, Faults

LATE = "C1A-2026-05-16-PB"  # released before the file arrives: its results are visible at once
DUE = "C1A-2026-06-20-PB"  # still open; released by the schedule after the file
RELEASE_RUN = datetime(2026, 7, 25, 8, 0, tzinfo=UTC)
KEY = "results/day1.csv"
ROWS = 60  # rows 1-30 for LATE, 31-60 for DUE: 25 + 25 + 10 results a BatchWriteItem


def skills(i: int, bump: int = 0) -> tuple[int, str, str, list[int]]:
    values = [170 + (i * 3 + k) % 30 + bump for k in range(5)]
    overall = (2 * sum(values) + 5) // 10
    from exam_results.catalogue import EXAMS, grade_for

    grade, cefr = grade_for(EXAMS["C1A"], overall)
    return overall, grade, cefr or "", values


def ids() -> list[tuple[str, str]]:
    return [(f"LATE{i:05d}", LATE) for i in range(1, 31)] + [(f"DUE{i:06d}", DUE) for i in range(31, 61)]


def results_file(rows: list[tuple[str, str]], bump: int = 0) -> str:
    lines = [RESULT_HEADER]
    for n, (id_number, session_id) in enumerate(rows, start=1):
        overall, grade, cefr, values = skills(n, bump)
        lines.append(f"{session_id},{id_number},{overall},{grade},{cefr},{','.join(map(str, values))}")
    return "\n".join(lines) + "\n"


class Readers:
    """What candidates, organisations and the notification fan-out see of the file."""

    def __init__(self, api: Any, stack: Any, accounts: dict[str, str], candidates: dict[str, Candidate]) -> None:
        self.api, self.stack, self.accounts, self.candidates = api, stack, accounts, candidates

    def overall_seen(self) -> dict[str, int | None]:
        """Overall score each reader shows per ID (None: no result shown)."""
        seen: dict[str, int | None] = {}
        for id_number, token in self.accounts.items():
            r = self.api.call("GET", "/me/results", token=token)
            assert r.status == 200, r.body
            (item,) = r.json()["results"]
            assert item["status"] in ("released", "overdue"), item
            seen[f"me:{id_number}"] = item["statement"]["overall_score"] if item["status"] == "released" else None
        for id_number, c in self.candidates.items():
            body = {"id_number": id_number, "secret_number": c.secret_number}
            r = self.api.call("POST", "/verifications", body)
            assert r.status in (200, 404), r.body
            seen[f"verify:{id_number}"] = r.json()["overall_score"] if r.status == 200 else None
        return seen

    def queued(self) -> Counter[tuple[str, str]]:
        return Counter((b["session_id"], i) for b in queued_batches(self.stack) for i in b["id_numbers"])


@pytest.fixture
def readers(api: Any, stack: Any, seed: Any, registered: Any, exams: Any) -> Readers:
    from tests.helpers.uploads import seed_entries

    exams.session(
        LATE,
        "C1A",
        date(2026, 5, 16),
        "PB",
        datetime(2026, 6, 20, 8, tzinfo=UTC),
        released_at=datetime(2026, 6, 20, 8, tzinfo=UTC),
    )
    exams.session(DUE, "C1A", date(2026, 6, 20), "PB", RELEASE_RUN)
    watched = {"LATE00001", "LATE00030", "DUE000031", "DUE000060"}
    candidates: dict[str, Candidate] = {}
    accounts: dict[str, str] = {}
    for id_number, session_id in ids():
        if id_number in ("LATE00001", "LATE00030"):
            c, token = registered(id_number=id_number, session_id=session_id)
            accounts[id_number] = token
            candidates[id_number] = c
        elif id_number in watched:
            candidates[id_number] = seed(id_number=id_number, session_id=session_id)
    seed_entries((i, s) for i, s in ids() if i not in watched)
    return Readers(api, stack, accounts, candidates)


def expected(bump: int = 0) -> dict[str, int | None]:
    scores = {id_number: skills(n, bump)[0] for n, (id_number, _) in enumerate(ids(), start=1)}
    out: dict[str, int | None] = {}
    for id_number in ("LATE00001", "LATE00030"):
        out[f"me:{id_number}"] = scores[id_number]
    for id_number in ("LATE00001", "LATE00030", "DUE000031", "DUE000060"):
        out[f"verify:{id_number}"] = scores[id_number]
    return out


def release_due(stack: Any) -> None:
    with time_machine.travel(RELEASE_RUN, tick=False):
        stack.invoke("ReleaseFunction", schedule_event(stack, RELEASE_RUN))


def test_reproduction_every_other_batch_write_throttled_leaves_nothing_live_and_a_report(
    board: Board, readers: Readers, faults: Faults
) -> None:
    """The issue's failure: 60 rows, every other BatchWriteItem throttled past the SDK's retries.
    Before the fix: 25 results live after the release, and no report."""
    event = board.put(KEY, results_file(ids()))
    faults.fail("BatchWriteItem", "even")
    with pytest.raises(Exception, match="ProvisionedThroughputExceeded"):
        board.stack.invoke("PublishResultsFunction", event)
    faults.clear()
    release_due(board.stack)

    seen = readers.overall_seen()
    assert set(seen.values()) == {None}, seen  # nothing of the file is visible
    assert readers.queued() == Counter()  # and nobody is told
    report = board.report(KEY)
    assert report["status"] == "failed" and report["stored"] == 0 and report["rows"] == ROWS
    assert "retried" in report["errors"][0]["message"]
    # The operator's view of a candidate whose row was written before the fault (runbook). The
    # batches run in parallel, so which of them got an odd call, and was written, varies.
    from scripts.ops import Names, candidate_report

    names = Names(board.stack.physical("DataTable"), board.stack.physical("AuthTable"), board.bucket)
    views = [candidate_report(names, f"LATE{i:05d}") for i in range(1, 31)]
    staged = [lines for lines in views if any(line.startswith("staged, not published: 1 version") for line in lines)]
    assert staged, "no row of the LATE session was written before the fault"
    for lines in staged:
        assert "result: none published (check reports/results/)" in lines
        assert lines[-1].startswith("verdict: OVERDUE")


# Every write call of the import, in order: stage (UpdateItem 1), the rows (BatchWriteItem 1-3),
# publish (UpdateItem 2). Each fails once past the SDK's retries, throttled or as a service error.
WRITE_FAULTS = [
    pytest.param("UpdateItem", 1, "ProvisionedThroughputExceededException", id="stage-throttled"),
    pytest.param("BatchWriteItem", 1, "ProvisionedThroughputExceededException", id="first-batch-throttled"),
    pytest.param("BatchWriteItem", 2, "InternalServerError", id="middle-batch-service-error"),
    pytest.param("BatchWriteItem", 3, "ProvisionedThroughputExceededException", id="last-batch-throttled"),
    pytest.param("UpdateItem", 2, "InternalServerError", id="publish-service-error"),
    pytest.param("UpdateItem", 2, "ProvisionedThroughputExceededException", id="publish-throttled"),
]


@pytest.mark.parametrize(("operation", "call", "code"), WRITE_FAULTS)
def test_a_fault_at_any_write_leaves_readers_seeing_nothing_then_the_retry_publishes_it_all_once(
    board: Board, readers: Readers, faults: Faults, operation: str, call: int, code: str
) -> None:
    event = board.put(KEY, results_file(ids()))
    faults.fail(operation, {call}, code)
    with pytest.raises(Exception, match=code):
        board.stack.invoke("PublishResultsFunction", event)
    assert faults.raised == [(operation, call)]
    faults.clear()

    # Meanwhile: nothing visible to anyone, the session due now releases with nobody to tell,
    # and the board has a report saying what happened.
    release_due(board.stack)
    assert set(readers.overall_seen().values()) == {None}
    assert readers.queued() == Counter()
    report = board.report(KEY)
    assert (report["status"], report["rows"], report["stored"]) == ("failed", ROWS, 0)
    (error,) = report["errors"]
    assert code in error["message"] and "Nothing of it was published" in error["message"]
    assert "retried" in error["message"] and "upload the file again" in error["message"]

    # Lambda retries the same event: the whole file, once.
    answer = board.stack.invoke("PublishResultsFunction", event)
    assert answer == {"processed": [{"key": KEY, "status": "accepted", "stored": ROWS}]}
    assert readers.overall_seen() == expected()
    assert board.report(KEY) == {"source_key": KEY, "status": "accepted", "rows": ROWS, "stored": ROWS, "errors": []}
    # Both sessions are released by now: every candidate queued exactly once, with the version
    # readers see (the sender checks that item).
    queued = readers.queued()
    assert queued == Counter({(s, i): 1 for i, s in ids()})
    # A further delivery of the same event changes nothing and queues nobody again.
    assert board.stack.invoke("PublishResultsFunction", event)["processed"][0]["status"] == "skipped"
    assert readers.queued() == queued
    # The sender finds each queued version: the registered candidates get one email each.
    SenderPoller(board.stack).drain()
    assert len(results_emails()) == 2  # LATE00001 and LATE00030, the registered ones


def test_a_fault_after_publication_reports_the_file_accepted_and_the_retry_only_notifies(
    board: Board, readers: Readers, faults: Faults
) -> None:
    """Published, then the processed-file marker cannot be written: the report says accepted
    (it is), readers see everything, and the retry queues the late candidates again (the
    sender's marker makes the email once) without writing the rows again."""
    event = board.put(KEY, results_file(ids()))
    faults.fail("PutItem", {1}, "InternalServerError")
    with pytest.raises(Exception, match="InternalServerError"):
        board.stack.invoke("PublishResultsFunction", event)
    faults.clear()
    assert board.report(KEY)["status"] == "accepted"
    release_due(board.stack)
    assert readers.overall_seen() == expected()

    faults.fail("BatchWriteItem", "every")  # the retry must not write a row again
    assert board.stack.invoke("PublishResultsFunction", event)["processed"][0]["stored"] == ROWS
    assert faults.raised == []
    assert board.report(KEY)["status"] == "accepted"


def test_a_correction_that_fails_half_way_leaves_the_earlier_results_visible_unchanged(
    board: Board, readers: Readers, faults: Faults
) -> None:
    assert board.results(KEY, results_file(ids()))[0]["processed"][0]["status"] == "accepted"
    release_due(board.stack)
    before = readers.overall_seen()
    assert before == expected()

    # The correction raises the scores of 30 candidates of both sessions (rows 16-45).
    corrected = ids()[15:45]
    event = board.put("results/day1-corrections.csv", results_file(corrected, bump=3))
    faults.fail("BatchWriteItem", {2}, "ProvisionedThroughputExceededException")
    with pytest.raises(Exception, match="ProvisionedThroughput"):
        board.stack.invoke("PublishResultsFunction", event)
    faults.clear()
    assert readers.overall_seen() == before  # the first batch of the correction is not visible
    assert board.report("results/day1-corrections.csv")["status"] == "failed"

    SenderPoller(board.stack).drain()  # the first file's emails
    board.stack.invoke("PublishResultsFunction", event)
    SenderPoller(board.stack).drain()
    assert len(results_emails()) == 2  # a correction sends no second email
    bumped = {id_number: skills(n, 3)[0] for n, (id_number, _) in enumerate(corrected, start=1)}
    after = readers.overall_seen()
    for reader, score in after.items():
        id_number = reader.split(":")[1]
        assert score == bumped.get(id_number, before[reader]), reader


def test_an_older_file_retried_after_a_newer_one_does_not_hide_the_newer_results(
    board: Board, readers: Readers, faults: Faults
) -> None:
    """Order is the order files were first staged: the first file fails, its correction (another
    key) is published, then the first file's retry is published — the correction still wins."""
    first = board.put(KEY, results_file(ids()))
    faults.fail("UpdateItem", {2}, "InternalServerError")  # staged, not published
    with pytest.raises(Exception, match="InternalServerError"):
        board.stack.invoke("PublishResultsFunction", first)
    faults.clear()
    assert board.results("results/day1-corrections.csv", results_file(ids(), bump=3))[0]["processed"]
    board.stack.invoke("PublishResultsFunction", first)
    release_due(board.stack)
    assert readers.overall_seen() == expected(bump=3)


def test_an_entries_file_that_fails_half_way_gets_a_failed_report_and_the_retry_stores_it(
    board: Board, stack: Any, faults: Faults, table_items: Any
) -> None:
    """Entries are staged too (docs/files.md "Entries under faults", the fault matrix in
    tests/integration/import_entries/test_staging.py): the board hears that nothing took effect."""
    from tests.helpers.uploads import ENTRY_HEADER

    rows = [
        f"{DUE},C1A,2026-06-20,PB,ENT{i:06d},4821,{i:04d},Ana Silva,2004-05-17,GB123,Oxford Language Centre"
        for i in range(1, 31)
    ]
    event = board.put("entries/june.csv", "\n".join([ENTRY_HEADER, *rows]) + "\n")
    faults.fail("TransactWriteItems", "every", "InternalServerError")
    with pytest.raises(Exception, match="InternalServerError"):
        stack.invoke("ImportEntriesFunction", event)
    faults.clear()
    report = board.report("entries/june.csv")
    assert (report["status"], report["rows"], report["stored"]) == ("failed", 30, 0)
    assert "InternalServerError" in report["errors"][0]["message"]
    assert "Nothing of it took effect" in report["errors"][0]["message"] and "retried" in report["errors"][0]["message"]
    assert [r for r in table_items("ENTRY") if r["session_id"] == DUE] == []

    assert stack.invoke("ImportEntriesFunction", event)["processed"][0]["status"] == "accepted"
    assert board.report("entries/june.csv")["stored"] == 30
    assert len([r for r in table_items("ENTRY") if r["session_id"] == DUE]) == 30


def test_leftovers_of_a_version_never_published_are_deleted_when_the_key_is_uploaded_again(
    board: Board, readers: Readers, faults: Faults, table_items: Any
) -> None:
    first = board.put(KEY, results_file(ids()))
    faults.fail("UpdateItem", {2}, "InternalServerError")  # every row staged, the publishing write fails
    with pytest.raises(Exception, match="InternalServerError"):
        board.stack.invoke("PublishResultsFunction", first)
    faults.clear()
    assert len(table_items("RESULT#")) == ROWS  # staged leftovers, invisible
    (staged,) = table_items("PUBLICATION")
    assert (staged["status"], staged["gsi1pk"]) == ("staged", "STAGED_FILES")

    # The board uploads the corrected file under the same key (a new object version).
    assert board.results(KEY, results_file(ids(), bump=3))[0]["processed"][0]["status"] == "accepted"
    release_due(board.stack)
    assert readers.overall_seen() == expected(bump=3)
    assert len(table_items("RESULT#")) == ROWS  # only the published version's rows are left
    files = {r["pk"]: r for r in table_items("PUBLICATION")}
    assert files[staged["pk"]]["status"] == "discarded" and "gsi1pk" not in files[staged["pk"]]
    # Lambda's late retry of the first version changes nothing: it is not the key's content now.
    assert board.stack.invoke("PublishResultsFunction", first)["processed"][0]["status"] == "skipped"
    assert readers.overall_seen() == expected(bump=3)
