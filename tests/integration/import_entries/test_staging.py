"""Entries files all or nothing under faults (issue 18 item 4): an entries file's rows are staged
as versions of the file, its Confirmation of Entry documents written, and the file published
with its sessions in one write. Whatever DynamoDB call fails, registration and verification see
all of the file or none of it, the exam board gets a report, and a retry of the same object
version publishes the whole file once.

Faults come from ``tests.helpers.uploads.Faults`` (a botocore hook past the SDK's retries); the
readers are the real ones, through ``api``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from devtools.harness.apigw import ApiGateway
from devtools.harness.stack import Stack
from tests.conftest import Candidate, registration
from tests.helpers.uploads import ENTRY_HEADER, Board, Faults, seed_sessions

C1A = "C1A-2026-06-20-PB"  # released before the file: its candidates can be verified
B1P = "B1P-2026-11-10-CB"  # created by the file
KEY = "entries/gb123.csv"
ROWS = 250  # 100 + 100 + 50 staged a TransactWriteItems, then the publishing one
OLD, NEW = "4821", "6043"
WATCHED = {"ENT000002": "7352", "ENT000125": "8164", "ENT000250": "9275"}  # first, middle, last new ID


def row(id_number: str, secret: str, session: str, name: str = "Ana Silva") -> str:
    exam = {C1A: "C1A,2026-06-20,PB", B1P: "B1P,2026-11-10,CB"}[session]
    return f'{session},{exam},{id_number},{secret},0001,"{name}",2004-05-17,GB123,Oxford Language Centre'


def entries_file() -> str:
    """Row 1 corrects the seeded candidate (new secret, new name); rows 2-250 are new IDs, half in
    a session the file creates, a few with a blank secret (issued and printed by the import)."""
    lines = [ENTRY_HEADER, row("VER000001", NEW, C1A, name="New Name")]
    for n in range(2, ROWS + 1):
        id_number = f"ENT{n:06d}"
        secret = WATCHED.get(id_number, "" if n % 50 == 0 else f"{3000 + n}")
        lines.append(row(id_number, secret, C1A if n <= 120 else B1P))
    return "\n".join(lines) + "\n"


def register(api: ApiGateway, id_number: str, secret: str) -> int:
    c = Candidate(id_number, secret, "", "", email=f"{id_number.lower()}@example.com")
    return api.call("POST", "/registrations", registration(c)).status


def verified_name(api: ApiGateway, id_number: str, secret: str) -> str | None:
    r = api.call("POST", "/verifications", {"id_number": id_number, "secret_number": secret})
    assert r.status in (200, 404), r.body
    return str(r.json()["candidate_name"]) if r.status == 200 else None


def sessions(table_items: Any) -> set[str]:
    return {str(r["session_id"]) for r in table_items("SESSION")}


@pytest.fixture
def seeded(seed: Any, exams: Any) -> None:
    """A released session with one candidate (stored before staging) and its published result."""
    seed_sessions([(C1A, "C1A", date(2026, 6, 20), "PB", "released")])
    seed(id_number="VER000001", secret_number=OLD, name="Old Name", session_id=C1A)
    exams.result("VER000001", C1A, 190, "B", "C1", {"reading": 190})


def assert_nothing_in_effect(api: ApiGateway, table_items: Any) -> None:
    assert verified_name(api, "VER000001", OLD) == "Old Name"  # the earlier entry still applies
    assert verified_name(api, "VER000001", NEW) is None
    assert sessions(table_items) == {C1A}  # the file's new session is not there either
    for id_number, secret in WATCHED.items():
        assert register(api, id_number, secret) == 403, id_number  # credentials_mismatch


def assert_all_in_effect(api: ApiGateway, table_items: Any) -> None:
    assert verified_name(api, "VER000001", NEW) == "New Name"
    assert verified_name(api, "VER000001", OLD) is None
    assert sessions(table_items) == {C1A, B1P}
    assert len(table_items("ENTRY")) == ROWS
    for id_number, secret in WATCHED.items():
        assert register(api, id_number, secret) == 201, id_number


# Every write call of the import, in order: stage (UpdateItem 1), the rows (TransactWriteItems
# 1-3), publish with the new session (TransactWriteItems 4). Each fails once past the SDK's
# retries, throttled or as a service error.
WRITE_FAULTS = [
    pytest.param("UpdateItem", 1, "ProvisionedThroughputExceededException", id="stage-throttled"),
    pytest.param("TransactWriteItems", 1, "ProvisionedThroughputExceededException", id="first-rows-throttled"),
    pytest.param("TransactWriteItems", 2, "InternalServerError", id="middle-rows-service-error"),
    pytest.param("TransactWriteItems", 3, "ProvisionedThroughputExceededException", id="last-rows-throttled"),
    pytest.param("TransactWriteItems", 4, "InternalServerError", id="publish-service-error"),
    pytest.param("TransactWriteItems", 4, "ProvisionedThroughputExceededException", id="publish-throttled"),
]


@pytest.mark.parametrize(("operation", "call", "code"), WRITE_FAULTS)
def test_a_fault_at_any_write_leaves_nothing_of_the_file_in_effect_then_the_retry_publishes_it_all_once(
    board: Board,
    stack: Stack,
    api: ApiGateway,
    table_items: Any,
    faults: Faults,
    seeded: None,
    operation: str,
    call: int,
    code: str,
) -> None:
    event = board.put(KEY, entries_file())
    faults.fail(operation, {call}, code)
    with pytest.raises(Exception, match=code):
        stack.invoke("ImportEntriesFunction", event)
    assert faults.raised == [(operation, call)]
    faults.clear()

    report = board.report(KEY)
    assert (report["status"], report["rows"], report["stored"]) == ("failed", ROWS, 0)
    (error,) = report["errors"]
    assert code in error["message"] and "Nothing of it took effect" in error["message"]
    assert "retried" in error["message"] and "upload the file again" in error["message"]
    assert_nothing_in_effect(api, table_items)

    # Lambda retries the same event: the whole file, once.
    answer = stack.invoke("ImportEntriesFunction", event)
    assert answer == {"processed": [{"key": KEY, "status": "accepted", "stored": ROWS}]}
    assert board.report(KEY)["status"] == "accepted"
    assert_all_in_effect(api, table_items)
    # A further delivery changes nothing (the processed-file marker).
    assert stack.invoke("ImportEntriesFunction", event)["processed"][0]["status"] == "skipped"


def test_a_fault_after_publication_reports_the_file_accepted_and_the_retry_writes_nothing(
    board: Board, stack: Stack, api: ApiGateway, table_items: Any, faults: Faults, seeded: None
) -> None:
    event = board.put(KEY, entries_file())
    faults.fail("PutItem", {1}, "InternalServerError")  # the processed-file marker
    with pytest.raises(Exception, match="InternalServerError"):
        stack.invoke("ImportEntriesFunction", event)
    faults.clear()
    assert board.report(KEY)["status"] == "accepted"

    faults.fail("TransactWriteItems", "every")  # the retry must not stage or publish again
    assert stack.invoke("ImportEntriesFunction", event)["processed"][0]["status"] == "accepted"
    assert faults.raised == []
    faults.clear()
    assert_all_in_effect(api, table_items)


def test_a_correction_leaves_the_earlier_files_entry_in_effect_until_it_is_published(
    board: Board, stack: Stack, api: ApiGateway, table_items: Any, faults: Faults, exams: Any
) -> None:
    """Both versions staged by files: the first file's stays in effect while the correction
    fails, for registration, verification and the results import's entry check."""
    seed_sessions([(C1A, "C1A", date(2026, 6, 20), "PB", "released")])
    header = ENTRY_HEADER
    answer, _ = board.entries("entries/first.csv", f"{header}\n{row('COR000001', OLD, C1A, 'First Name')}\n")
    assert answer["processed"][0]["status"] == "accepted"
    exams.result("COR000001", C1A, 190, "B", "C1", {"reading": 190})
    assert verified_name(api, "COR000001", OLD) == "First Name"

    correction = (
        f"{header}\n{row('COR000001', NEW, C1A, 'Second Name')}\n{row('COR000002', WATCHED['ENT000002'], C1A)}\n"
    )
    event = board.put("entries/second.csv", correction)
    faults.fail("TransactWriteItems", {2}, "InternalServerError")  # the publishing write
    with pytest.raises(Exception, match="InternalServerError"):
        stack.invoke("ImportEntriesFunction", event)
    faults.clear()
    assert verified_name(api, "COR000001", OLD) == "First Name"
    assert verified_name(api, "COR000001", NEW) is None
    # A results file naming the correction's new candidate finds no entry for it yet.
    rows = "\n".join(
        [
            "session_id,id_number,overall_score,grade,cefr_level,reading,use_of_english,writing,listening,speaking",
            f"{C1A},COR000002,190,B,C1,190,190,190,190,190",
        ]
    )
    assert board.results("results/cor.csv", rows + "\n")[0]["processed"][0]["status"] == "rejected"
    errors = board.report("results/cor.csv")["errors"]
    assert any(e["field"] == "id_number" and "has no entry" in e["message"] for e in errors), errors

    assert stack.invoke("ImportEntriesFunction", event)["processed"][0]["stored"] == 2
    assert verified_name(api, "COR000001", NEW) == "Second Name"
    assert verified_name(api, "COR000001", OLD) is None
    assert register(api, "COR000002", WATCHED["ENT000002"]) == 201
