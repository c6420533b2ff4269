"""Results files (SPEC §5): real S3 events on objects in moto's S3, all or nothing, exact reports."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from tests.helpers.uploads import RESULT_HEADER, Board, CallCounter, seed_entries, seed_sessions

C1A = "C1A-2026-06-20-PB"
A2K = "A2K-2026-06-13-CB"
B2F = "B2F-2026-06-27-PB"
KEY = "results/June 2026+late day1.csv"  # a space and a plus: URL-encoded in the event

VALID = [
    # C1A: 931/5 = 186.2 → 186 C C1; 1015/5 = 203 A C2; 878/5 = 175.6 → 176 Level B2 B2
    f"{C1A},C1A000001,186,C,C1,185,190,178,192,186",
    f"{C1A},C1A000002,203,A,C2,200,205,198,210,202",
    f"{C1A},c1a000003,176,Level B2,B2,170,175,180,176,177",
    # A2K (no Use of English): 562/4 = 140.5 → 141 A B1 (half up); 373/4 → 93: Fail, no CEFR
    f"{A2K},A2K000001,141,A,B1,141,,141,140,140",
    f"{A2K},A2K000002,93,Fail,,90,,95,92,96",
    # B2F: 900/5 = 180 A C1; 815/5 = 163 C B2
    f"{B2F},B2F000001,180,A,C1,180,175,182,178,185",
    f"{B2F},B2F000002,163,C,B2,160,165,158,170,162",
]


@pytest.fixture
def sessions(stack: Any) -> None:
    seed_sessions(
        [
            (C1A, "C1A", date(2026, 6, 20), "PB", "open"),
            (A2K, "A2K", date(2026, 6, 13), "CB", "open"),
            (B2F, "B2F", date(2026, 6, 27), "PB", "open"),
        ]
    )
    seed_entries(
        [(f"C1A00000{i}", C1A) for i in (1, 2, 3)]
        + [(f"A2K00000{i}", A2K) for i in (1, 2)]
        + [(f"B2F00000{i}", B2F) for i in (1, 2)]
    )


def csv_text(*rows: str, header: str = RESULT_HEADER, end: str = "\n") -> str:
    return end.join([header, *rows]) + end


def results(table_items: Any) -> dict[str, dict[str, Any]]:
    return {r["id_number"]: r for r in table_items("RESULT#")}


def rejected(rows: int, *errors: tuple[int | None, str | None, str], key: str = KEY) -> dict[str, Any]:
    return {
        "source_key": key,
        "status": "rejected",
        "rows": rows,
        "stored": 0,
        "errors": [{"line": line, "field": field, "message": message} for line, field, message in errors],
    }


def test_a_valid_file_of_three_exams_is_stored(board: Board, sessions: None, table_items: Any) -> None:
    answer, event = board.results(KEY, csv_text(*VALID))

    assert event["Records"][0]["s3"]["object"]["key"] == "results/June+2026%2Blate+day1.csv"
    assert answer == {"processed": [{"key": KEY, "status": "accepted", "stored": 7}]}
    assert board.report(KEY) == {"source_key": KEY, "status": "accepted", "rows": 7, "stored": 7, "errors": []}
    stored = results(table_items)
    assert set(stored) == {"C1A000001", "C1A000002", "C1A000003", "A2K000001", "A2K000002", "B2F000001", "B2F000002"}
    # Staged as versions of this file (docs/files.md), visible since its one publication item
    # says published.
    version = stored["C1A000003"]["version"]
    (publication,) = table_items("PUBLICATION")
    assert publication["pk"] == "PUBLICATION#" + version.rsplit("#", 1)[1]
    assert (publication["status"], publication["stored"], publication["source_key"]) == ("published", 7, KEY)
    assert version.startswith(publication["staged_at"] + "#")
    assert {r["version"] for r in stored.values()} == {version}
    assert stored["C1A000003"] | {} == {
        "pk": "CANDIDATE#C1A000003",
        "sk": f"RESULT#{C1A}#{version}",
        "version": version,
        # GSI1 shard of C1A000003: sha256's first 4 bytes mod 16 = 0. Pinned: another hash would
        # put this ID's later versions under another key than its earlier ones.
        "gsi1pk": f"RESULTS#{C1A}#0",
        "gsi1sk": "C1A000003",
        "id_number": "C1A000003",
        "session_id": C1A,
        "overall_score": 176,
        "grade": "Level B2",
        "cefr_level": "B2",
        "skills": {"reading": 170, "use_of_english": 175, "writing": 180, "listening": 176, "speaking": 177},
    }
    assert stored["A2K000001"]["overall_score"] == 141
    assert stored["A2K000001"]["skills"] == {"reading": 141, "writing": 141, "listening": 140, "speaking": 140}
    assert (stored["A2K000002"]["grade"], stored["A2K000002"].get("cefr_level")) == ("Fail", None)


BAD_ROWS: dict[str, tuple[str, tuple[int | None, str | None, str]]] = {
    "score out of range": (
        f"{C1A},C1A000002,204,A,C2,200,205,198,215,202",
        (3, "listening", "listening 215 is out of range: C1 Advanced skill scores run from 80 to 210."),
    ),
    "overall not the mean": (
        f"{C1A},C1A000002,202,A,C2,200,205,198,210,202",
        (3, "overall_score", "overall_score 202 is not the mean of the skill scores (203)."),
    ),
    "wrong grade": (
        f"{C1A},C1A000002,203,B,C2,200,205,198,210,202",
        (3, "grade", "grade 'B' does not match the overall score 203, which is grade 'A' in C1 Advanced."),
    ),
    "wrong CEFR": (
        f"{C1A},C1A000002,203,A,C1,200,205,198,210,202",
        (
            3,
            "cefr_level",
            "cefr_level 'C1' does not match the overall score 203, which is CEFR level C2 in C1 Advanced.",
        ),
    ),
    "unknown session": (
        "C1A-2026-06-21-PB,C1A000002,203,A,C2,200,205,198,210,202",
        (3, "session_id", "Session C1A-2026-06-21-PB does not exist: upload the entries file that creates it first."),
    ),
    "unknown ID": (
        f"{C1A},C1A000009,203,A,C2,200,205,198,210,202",
        (3, "id_number", "ID Number C1A000009 has no entry: it is in no entries file uploaded so far."),
    ),
    "ID in the wrong session": (
        f"{C1A},B2F000001,203,A,C2,200,205,198,210,202",
        (3, "id_number", f"ID Number B2F000001 is entered for session {B2F}, not {C1A}."),
    ),
    "duplicate ID": (
        f"{C1A},c1a000001,203,A,C2,200,205,198,210,202",
        (3, "id_number", "ID Number C1A000001 appears more than once in this file (first on line 2)."),
    ),
    "non-integer": (
        f"{C1A},C1A000002,203,A,C2,200,205,198.5,210,202",
        (3, "writing", "writing must be a whole number, not '198.5'."),
    ),
}


@pytest.mark.parametrize("kind", list(BAD_ROWS))
def test_one_bad_row_rejects_the_file_and_nothing_is_stored(
    kind: str, board: Board, sessions: None, table_items: Any
) -> None:
    row, error = BAD_ROWS[kind]
    answer, _ = board.results(KEY, csv_text(VALID[0], row, VALID[3]))

    assert answer == {"processed": [{"key": KEY, "status": "rejected", "stored": 0}]}
    assert board.report(KEY) == rejected(3, error)
    assert results(table_items) == {}


def test_every_bad_row_is_listed_in_line_order(board: Board, sessions: None, table_items: Any) -> None:
    rows = [VALID[0]] + [row for row, _ in BAD_ROWS.values()]  # lines 3..11; most reuse C1A000002
    board.results(KEY, csv_text(*rows))

    twice = "ID Number C1A000002 appears more than once in this file (first on line 3)."
    expected = []
    for line, (_, error) in enumerate(BAD_ROWS.values(), start=3):
        expected.append((line, error[1], error[2]))
        if line in (4, 5, 6, 7, 11):
            expected.append((line, "id_number", twice))
    assert board.report(KEY) == rejected(len(rows), *expected)
    assert results(table_items) == {}


def test_a_row_with_several_problems_lists_each(board: Board, sessions: None) -> None:
    board.results(KEY, csv_text(f"{A2K},A2K000001,141,a,b1,141,120,141,140,x"))
    assert board.report(KEY) == rejected(
        1,
        (2, "use_of_english", "use_of_english must be empty for A2 Key, which has no Use of English paper."),
        (2, "speaking", "speaking must be a whole number, not 'x'."),
        (2, "grade", "grade must be written exactly as 'A', not 'a'."),
        (2, "cefr_level", "cefr_level must be written exactly as 'B1', not 'b1'."),
    )


def test_a_missing_column_rejects_the_file_naming_it(board: Board, sessions: None, table_items: Any) -> None:
    header = RESULT_HEADER.replace("cefr_level,", "")
    board.results(KEY, csv_text(f"{C1A},C1A000001,186,C,185,190,178,192,186", header=header))
    assert board.report(KEY) == rejected(0, (1, "cefr_level", "The column cefr_level is missing from the header row."))
    assert results(table_items) == {}


def test_columns_in_any_order_and_extra_columns_ignored(board: Board, sessions: None, table_items: Any) -> None:
    header = (
        "id_number,notes,speaking,listening,writing,use_of_english,reading,cefr_level,grade,overall_score,session_id"
    )
    board.results(KEY, csv_text("C1A000001,well done,186,192,178,190,185,C1,C,186," + C1A, header=header))
    assert board.report(KEY)["status"] == "accepted"
    assert results(table_items)["C1A000001"]["overall_score"] == 186


def test_bom_and_crlf_are_accepted(board: Board, sessions: None, table_items: Any) -> None:
    body = b"\xef\xbb\xbf" + csv_text(*VALID, end="\r\n").encode()
    board.results(KEY, body)
    assert board.report(KEY) == {"source_key": KEY, "status": "accepted", "rows": 7, "stored": 7, "errors": []}
    assert len(results(table_items)) == 7


def test_bom_and_crlf_file_with_a_bad_row_reports_the_right_line(
    board: Board, sessions: None, table_items: Any
) -> None:
    row, error = BAD_ROWS["wrong grade"]
    body = b"\xef\xbb\xbf" + csv_text(VALID[0], "", row, end="\r\n").encode()  # a blank line 3
    board.results(KEY, body)
    assert board.report(KEY) == rejected(2, (4, *error[1:]))
    assert results(table_items) == {}


def test_a_file_that_is_not_utf8_is_rejected(board: Board, sessions: None, table_items: Any) -> None:
    body = csv_text(*VALID[:3]).encode() + "C1A-2026-06-20-PB,C1A000009,186,C,C1,185,190,178,192,186 Zoë\n".encode(
        "latin-1"
    )
    board.results(KEY, body)
    # rows: the data rows read before the bad bytes (none here: the file is one chunk of bytes)
    assert board.report(KEY) == rejected(
        0,
        (
            5,
            None,
            "The file is not UTF-8 text: line 5 holds bytes that are not valid UTF-8. "
            "Save the file as CSV UTF-8 and upload it again.",
        ),
    )
    assert results(table_items) == {}


def test_a_file_that_is_not_csv_is_rejected(board: Board, sessions: None) -> None:
    board.results(KEY, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    report = board.report(KEY)
    assert report["status"] == "rejected" and report["stored"] == 0
    assert report["errors"][0]["field"] is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "The file is empty: it has no header row and no data rows."),
        (RESULT_HEADER.encode() + b"\r\n", "The file has no data rows: it holds only the header row."),
    ],
)
def test_an_empty_file_is_rejected(board: Board, sessions: None, body: bytes, message: str) -> None:
    board.results(KEY, body)
    assert board.report(KEY) == rejected(0, (None, None, message))


def test_the_same_event_twice_changes_nothing(board: Board, sessions: None, table_items: Any) -> None:
    answer, event = board.results(KEY, csv_text(*VALID))
    assert answer["processed"][0]["status"] == "accepted"
    before = results(table_items)
    writes = CallCounter("BatchWriteItem")

    again = board.stack.invoke("PublishResultsFunction", json.loads(json.dumps(event)))

    assert again == {"processed": [{"key": KEY, "status": "skipped", "stored": 0}]}
    assert writes.calls == 0
    assert results(table_items) == before
    assert board.report_versions(KEY) == 1


def test_a_corrected_reupload_under_the_same_key_is_processed(board: Board, sessions: None, table_items: Any) -> None:
    row, _ = BAD_ROWS["overall not the mean"]
    first, first_event = board.results(KEY, csv_text(VALID[0], row, VALID[3]))
    assert first["processed"][0]["status"] == "rejected"

    second, _ = board.results(KEY, csv_text(*VALID))

    assert second["processed"][0]["status"] == "accepted"
    assert board.report(KEY)["status"] == "accepted"
    assert len(results(table_items)) == 7
    # A late retry of the first upload's event changes nothing: it is not the current file.
    late = board.stack.invoke("PublishResultsFunction", first_event)
    assert late["processed"][0]["status"] == "skipped"
    assert board.report(KEY)["status"] == "accepted"


def test_a_later_upload_replaces_a_candidates_result(board: Board, sessions: None, table_items: Any) -> None:
    board.results(KEY, csv_text(*VALID))
    board.results("results/remarks.csv", csv_text(f"{C1A},C1A000001,188,C,C1,185,190,178,192,195"))

    assert board.report("results/remarks.csv")["status"] == "accepted"
    stored = results(table_items)
    assert stored["C1A000001"]["overall_score"] == 188
    assert stored["C1A000001"]["skills"]["speaking"] == 195
    assert len(stored) == 7


def queued(board: Board) -> list[dict[str, Any]]:
    sqs = board.stack.client("sqs")
    url = board.stack.physical("NotifyQueue")
    bodies: list[dict[str, Any]] = []
    while True:
        page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        if not page.get("Messages"):
            return bodies
        for message in page["Messages"]:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_results_for_a_released_session_are_queued_for_notification(board: Board, table_items: Any) -> None:
    released = "C1A-2026-05-16-PB"
    seed_sessions(
        [(released, "C1A", date(2026, 5, 16), "PB", "released"), (C1A, "C1A", date(2026, 6, 20), "PB", "open")]
    )
    seed_entries([("LATE00001", released), ("LATE00002", released), ("C1A000001", C1A)])

    board.results(
        KEY,
        csv_text(
            f"{released},LATE00001,186,C,C1,185,190,178,192,186",
            VALID[0],
            f"{released},late00002,203,A,C2,200,205,198,210,202",
        ),
    )

    assert board.report(KEY)["stored"] == 3
    version = results(table_items)["LATE00001"]["version"]  # the sender reads that item
    assert queued(board) == [
        {"session_id": released, "id_numbers": ["LATE00001", "LATE00002"], "versions": [version, version]}
    ]
    assert {"LATE00001", "LATE00002", "C1A000001"} <= set(results(table_items))


def test_results_for_open_sessions_queue_nothing(board: Board, sessions: None) -> None:
    board.results(KEY, csv_text(*VALID))
    assert queued(board) == []
