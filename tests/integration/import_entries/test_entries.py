"""Entries files (SPEC §2, §5): sessions and entries, secrets only as hashes, re-issue, defaults."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from devtools.harness.apigw import ApiGateway
from tests.conftest import Candidate, registration
from tests.helpers.uploads import ENTRY_HEADER, Board, seed_sessions

KEY = "entries/Oxford June+November.csv"
C1A = "C1A-2026-06-20-PB"
B1P = "B1P-2026-11-10-CB"
ROWS = [
    f"{C1A},C1A,2026-06-20,PB,ENT000001,73915268,0001,Ana Silva,2004-05-17,GB123,Oxford Language Centre",
    f"{C1A},c1a,2026-06-20,pb,ent000002,4821,0002,Ben Okafor,2003-11-02,GB123,Oxford Language Centre",
    f"{B1P},B1P,2026-11-10,CB,ENT000003,555123,0003,Chen Wei,2008-01-30,GB456,Leeds English School",
]


def csv_text(*rows: str, header: str = ENTRY_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def rejected(rows: int, *errors: tuple[int | None, str | None, str], key: str = KEY) -> dict[str, Any]:
    return {
        "source_key": key,
        "status": "rejected",
        "rows": rows,
        "stored": 0,
        "errors": [{"line": line, "field": field, "message": message} for line, field, message in errors],
    }


def by_pk(table_items: Any, prefix: str) -> dict[str, dict[str, Any]]:
    return {r["pk"]: r for r in table_items(prefix)}


def register(api: ApiGateway, id_number: str, secret: str) -> int:
    c = Candidate(id_number, secret, "", "", email=f"{id_number.lower()}@example.com")
    return api.call("POST", "/registrations", registration(c)).status


def test_entries_create_sessions_and_entries_with_hashed_secrets(
    board: Board, table_items: Any, api: ApiGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    answer, _ = board.entries(KEY, csv_text(*ROWS))

    assert answer == {"processed": [{"key": KEY, "status": "accepted", "stored": 3}]}
    assert board.report(KEY) == {
        "source_key": KEY,
        "status": "accepted",
        "rows": 3,
        "stored": 3,
        "errors": [],
        "extra": {
            "entries_created": 3,
            "entries_updated": 0,
            "secrets_generated": 0,
            "secrets_reissued": 0,
            "sessions_created": 2,
            "sessions_updated": 0,
        },
    }
    sessions = by_pk(table_items, "SESSION")
    assert sessions[f"SESSION#{C1A}"] == {
        "pk": f"SESSION#{C1A}",
        "sk": "SESSION",
        "session_id": C1A,
        "exam_code": "C1A",
        "exam_date": "2026-06-20",
        "format": "PB",
        # 2026-06-20 + 35 days = 25 July, 09:00 British Summer Time
        "results_available_by": "2026-07-25T08:00:00Z",
        "status": "open",
        "gsi1pk": "OPEN_SESSIONS",
        "gsi1sk": "2026-07-25T08:00:00Z",
    }
    # 2026-11-10 + 14 days = 24 November, 09:00 Greenwich Mean Time
    assert sessions[f"SESSION#{B1P}"]["results_available_by"] == "2026-11-24T09:00:00Z"
    entries = by_pk(table_items, "ENTRY")
    assert set(entries) == {"CANDIDATE#ENT000001", "CANDIDATE#ENT000002", "CANDIDATE#ENT000003"}
    ben = entries["CANDIDATE#ENT000002"]
    assert (ben["session_id"], ben["candidate_name"], ben["date_of_birth"]) == (C1A, "Ben Okafor", "2003-11-02")
    assert (ben["centre_number"], ben["centre_name"], ben["candidate_number"]) == (
        "GB123",
        "Oxford Language Centre",
        "0002",
    )
    assert len(ben["secret_hash"]) == 64 and "4821" not in ben["secret_hash"]
    assert "73915268" not in str(entries) and "73915268" not in capsys.readouterr().out

    assert register(api, "ENT000001", "73915268") == 201
    assert register(api, "ent000002", "4821") == 201
    assert register(api, "ENT000003", "555124") == 403


def test_results_available_by_from_the_file_and_kept_when_a_later_file_leaves_it_blank(
    board: Board, table_items: Any
) -> None:
    header = ENTRY_HEADER + ",results_available_by"
    board.entries(KEY, csv_text(ROWS[0] + ",2026-07-30T09:00:00+01:00", ROWS[1] + ",", header=header))
    assert by_pk(table_items, "SESSION")[f"SESSION#{C1A}"]["results_available_by"] == "2026-07-30T08:00:00Z"

    later = ROWS[0].replace("ENT000001", "ENT000009")
    board.entries("entries/late.csv", csv_text(later))
    assert board.report("entries/late.csv")["status"] == "accepted"
    assert by_pk(table_items, "SESSION")[f"SESSION#{C1A}"]["results_available_by"] == "2026-07-30T08:00:00Z"


def test_an_update_keeps_the_secret_when_blank_and_a_new_secret_is_a_reissue(
    board: Board, table_items: Any, api: ApiGateway
) -> None:
    board.entries(KEY, csv_text(*ROWS))
    before = by_pk(table_items, "ENTRY")

    update = [
        ROWS[0].replace("73915268", "").replace("Ana Silva", "Ana Silva Santos"),  # blank: keep
        ROWS[1].replace("4821", "9090"),  # re-issued by the centre
    ]
    board.entries("entries/update.csv", csv_text(*update))

    assert board.report("entries/update.csv")["extra"] == {
        "entries_created": 0,
        "entries_updated": 2,
        "secrets_generated": 0,
        "secrets_reissued": 1,
        "sessions_created": 0,
        "sessions_updated": 0,
    }
    after = by_pk(table_items, "ENTRY")
    assert after["CANDIDATE#ENT000001"]["candidate_name"] == "Ana Silva Santos"
    assert after["CANDIDATE#ENT000001"]["secret_hash"] == before["CANDIDATE#ENT000001"]["secret_hash"]
    assert after["CANDIDATE#ENT000002"]["secret_hash"] != before["CANDIDATE#ENT000002"]["secret_hash"]

    assert register(api, "ENT000002", "4821") == 403  # the old secret stopped working at once
    assert register(api, "ENT000002", "9090") == 201
    assert register(api, "ENT000001", "73915268") == 201


def test_rows_of_one_session_must_agree_and_bad_rows_are_all_listed(board: Board, table_items: Any) -> None:
    rows = [
        ROWS[0],
        ROWS[1].replace("2026-06-20,pb", "2026-06-21,pb"),
        ROWS[2].replace("555123", "12").replace("2008-01-30", "2008-02-30"),
        ROWS[2].replace("ENT000003", "ENT000001").replace("B1P,2026-11-10,CB,", "B1P,2026-11-10,XX,"),
    ]
    board.entries(KEY, csv_text(*rows))

    assert board.report(KEY) == rejected(
        4,
        (
            3,
            "exam_date",
            "exam_date 2026-06-21 disagrees with line 2, which gives 2026-06-20 for session "
            f"{C1A}: the rows of one session must agree on exam, exam_date and format.",
        ),
        (4, "secret_number", "secret_number must be 4 to 8 digits, or blank to have one generated."),
        (4, "date_of_birth", "date_of_birth '2008-02-30' is not a date written YYYY-MM-DD."),
        (5, "format", "format 'XX' must be PB (paper) or CB (computer)."),
        (5, "id_number", "ID Number ENT000001 appears more than once in this file (first on line 2)."),
    )
    assert by_pk(table_items, "ENTRY") == {} and by_pk(table_items, "SESSION") == {}


def test_a_file_cannot_change_an_existing_sessions_exam_date_or_format(board: Board, table_items: Any) -> None:
    board.entries(KEY, csv_text(*ROWS))
    moved = ROWS[0].replace(f"{C1A},C1A,2026-06-20,PB", f"{C1A},C2P,2026-06-20,CB").replace("ENT000001", "ENT000007")
    board.entries("entries/moved.csv", csv_text(moved))

    assert board.report("entries/moved.csv") == rejected(
        1,
        (
            2,
            "exam",
            f"exam C2P differs from session {C1A} as stored, which has C1A: a session's exam, exam_date "
            "and format cannot change.",
        ),
        (
            2,
            "format",
            f"format CB differs from session {C1A} as stored, which has PB: a session's exam, exam_date "
            "and format cannot change.",
        ),
        key="entries/moved.csv",
    )
    assert "CANDIDATE#ENT000007" not in by_pk(table_items, "ENTRY")


def test_a_released_session_stays_released(board: Board, table_items: Any) -> None:
    seed_sessions([(C1A, "C1A", date(2026, 6, 20), "PB", "released")])
    board.entries(KEY, csv_text(*ROWS[:2]))

    assert board.report(KEY)["status"] == "accepted"
    session = by_pk(table_items, "SESSION")[f"SESSION#{C1A}"]
    assert session["status"] == "released" and "gsi1pk" not in session
    assert set(by_pk(table_items, "ENTRY")) == {"CANDIDATE#ENT000001", "CANDIDATE#ENT000002"}


def test_the_same_entries_event_twice_changes_nothing(board: Board, table_items: Any) -> None:
    answer, event = board.entries(KEY, csv_text(*ROWS))
    assert answer["processed"][0]["status"] == "accepted"
    entries = by_pk(table_items, "ENTRY")

    again = board.stack.invoke("ImportEntriesFunction", event)

    assert again == {"processed": [{"key": KEY, "status": "skipped", "stored": 0}]}
    assert by_pk(table_items, "ENTRY") == entries
    assert board.report_versions(KEY) == 1


def test_a_missing_column_in_an_entries_file(board: Board) -> None:
    header = ENTRY_HEADER.replace(",secret_number", "").replace(",centre_name", "")
    board.entries(KEY, csv_text("x", header=header))
    assert board.report(KEY) == rejected(
        0,
        (1, "secret_number", "The column secret_number is missing from the header row."),
        (1, "centre_name", "The column centre_name is missing from the header row."),
    )
