"""Hostile entries files (issue 13 items 4, 6 and 8): control characters and malformed centre
numbers refused with a report line, long names printed whole, every S3 key within 1,024 bytes,
and Confirmation of Entry documents written before the secrets they carry take effect.

moto accepts keys of any length; S3 answers ``KeyTooLongError`` above 1,024 bytes (UTF-8).
``S3Faults`` plays S3 here: a ``before-call`` hook on the layer's S3 client (after the SDK's
retry loop would start, so nothing retries it) answers PutObject with S3's error for a key that
is too long, or with a 500 for the keys a test chooses to fail.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from devtools.harness.apigw import ApiGateway
from devtools.harness.stack import Stack
from tests.helpers.uploads import Board, seed_sessions
from tests.integration.import_entries.test_confirmations import (
    C1A,
    confirmation_rows,
    csv_text,
    objects,
    pdf_pages,
    row,
    stored_hash,
    verify,
)

S3_KEY_LIMIT = 1024


class S3Faults:
    def __init__(self) -> None:
        from exam_results.repositories.aws import client

        self.fail: Callable[[str], bool] = lambda key: False
        self.keys: list[str] = []
        self._events = client("s3").meta.events
        self._events.register("before-call.s3.PutObject", self._put)

    def close(self) -> None:
        self._events.unregister("before-call.s3.PutObject", self._put)

    def _put(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        key = str(context.get("input_params", {}).get("Key") or "")
        self.keys.append(key)
        if len(key.encode()) > S3_KEY_LIMIT:
            return _error(400, "KeyTooLongError", "Your key is too long")
        if self.fail(key):
            return _error(500, "InternalError", "We encountered an internal error. Please try again.")
        return None


def _error(status: int, code: str, message: str) -> tuple[Any, dict[str, Any]]:
    meta = {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0}
    return SimpleNamespace(status_code=status, headers={}), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": meta,
    }


@pytest.fixture
def s3_faults(stack: Stack) -> Iterator[S3Faults]:
    faults = S3Faults()
    yield faults
    faults.close()


# --------------------------------------------------------------------------------------------
# Control characters and centre numbers


CONTROL = {
    "bell": "\x07",
    "escape": "\x1b",
    "line feed": "\n",
    "carriage return": "\r",
    "tab": "\t",
    "delete": "\x7f",
    "C1 CSI": "\x9b",
    "next line": "\x85",
}


@pytest.mark.parametrize("name", list(CONTROL))
def test_a_control_character_in_any_text_field_rejects_the_file_with_a_report_line(
    board: Board, stack: Stack, table_items: Any, name: str
) -> None:
    char = CONTROL[name]
    rows = [
        row("CTL000001", "1234", name=f"Ana{char}Silva"),  # quoted: a line break stays inside the field
        row("CTL000002", "1234", number=f'"00{char}02"'),
        row("CTL000003", "1234").replace("Oxford Language Centre", f'"Oxford{char}Centre"'),
        row("CTL000004", "1234"),
    ]
    key = f"entries/control-{name.replace(' ', '-')}.csv"
    board.entries(key, csv_text(*rows))
    report = board.report(key)
    assert report["status"] == "rejected" and report["stored"] == 0
    point = f"U+{ord(char):04X}"
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (2, "candidate_name"),
        (3 + (char in "\r\n"), "candidate_number"),  # a line break inside line 2 moves the rest down
        (4 + 2 * (char in "\r\n"), "centre_name"),
    ]
    for error in report["errors"]:
        assert point in error["message"] and "control character" in error["message"], error
    assert table_items("ENTRY") == [] and objects(stack, board) == {}


def test_centre_numbers_must_have_the_exam_boards_format(board: Board, table_items: Any) -> None:
    good = ["GB123", "ES1", "DE123456"]
    bad = ["GB/12 3", "G123", "123GB", "GB1234567", "gb123", "GB-123", "X" * 150]
    rows = [row(f"CEN{n:06d}", "1234", centre=centre) for n, centre in enumerate([*good, *bad])]
    board.entries("entries/centres.csv", csv_text(*rows))
    report = board.report("entries/centres.csv")
    assert report["status"] == "rejected"
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (2 + len(good) + n, "centre_number") for n in range(len(bad))
    ]
    assert "2 capital letters and 1 to 6 digits" in report["errors"][0]["message"]
    assert table_items("ENTRY") == []


# --------------------------------------------------------------------------------------------
# Long names in the PDF


def test_a_200_character_name_is_printed_whole(board: Board, stack: Stack) -> None:
    words = ["Maximiliana", "Wolfeschlegelsteinhausen", "Bergerdorff", "Ximénez", "de", "la", "Montaña"]
    name = " ".join(words * 5)[:200].strip()
    long_word = "W" * 200  # no space to wrap at, and the widest letter
    centre_name = "Centro " + "Internacional de Lenguas " * 7
    board.entries(
        "entries/long.csv",
        csv_text(
            row("LNG000001", name=name),
            row("LNG000002", name=long_word),
        ).replace("Oxford Language Centre", centre_name.strip()[:200]),
    )
    docs = objects(stack, board)
    pages = pdf_pages(docs[f"confirmations/GB123/{C1A}/entries/long.csv.pdf"])
    flat = [" ".join(p.split()) for p in pages]
    assert f"Candidate name {name}" in flat[0]
    assert long_word in "".join(pages[1].split())  # wrapped inside the word, every letter kept
    assert centre_name.strip()[:200] in flat[0]
    for text in flat:  # the rest of the page is still there below the name
        assert "ID Number Secret Number" in text and "What to do" in text


def test_a_value_too_long_even_at_the_smallest_size_is_cut_with_a_visible_ellipsis() -> None:
    """Only a transliteration can outgrow 5 lines at 7 pt (200 Chinese characters → 1,000 Latin
    letters): the cut then shows, and the page says the centre has the name as entered."""
    from datetime import UTC, datetime

    from exam_results.confirmations import Confirmation, Sitting, render_pdf

    sitting = Sitting(C1A, "C1A", date(2026, 6, 20), "PB", datetime(2026, 7, 25, 8, tzinfo=UTC))
    page = Confirmation("ABC123456", "12345678", "0001", "陈" * 200, date(2004, 5, 17), "GB123", "Centre")
    [text] = pdf_pages(render_pdf(sitting, [page], "https://results.test/register.html"))
    name = text[text.index("Candidate name") : text.index("Candidate number")]
    assert name.rstrip().endswith("…") and name.count("Chen") < 200
    assert "your centre has your name as entered" in text


# --------------------------------------------------------------------------------------------
# Keys within S3's 1,024 bytes


def _long_key(total_bytes: int) -> str:
    head, tail = "entries/", ".csv"
    body = "é" * ((total_bytes - len(head) - len(tail)) // 2)  # 2 bytes each in UTF-8
    key = head + body + "x" * ((total_bytes - len(head) - len(tail)) % 2) + tail
    assert len(key.encode()) == total_bytes
    return key


def test_a_source_key_near_1024_bytes_gets_its_report_and_documents_under_bounded_keys(
    board: Board, stack: Stack, s3_faults: S3Faults
) -> None:
    key = _long_key(S3_KEY_LIMIT)
    board.entries(key, csv_text(row("KEY000001"), row("KEY000002", centre="GB456")))
    assert s3_faults.keys and all(len(k.encode()) <= S3_KEY_LIMIT for k in s3_faults.keys), [
        len(k.encode()) for k in s3_faults.keys
    ]

    digest = hashlib.sha256(key.encode()).hexdigest()
    s3 = stack.client("s3")
    report = json.loads(s3.get_object(Bucket=board.bucket, Key=f"reports/_long/{digest}.json")["Body"].read())
    assert report["source_key"] == key and report["status"] == "accepted" and report["stored"] == 2

    docs = objects(stack, board)
    assert sorted(docs) == sorted(
        f"confirmations/{centre}/{C1A}/_long/{digest}{suffix}"
        for centre in ("GB123", "GB456")
        for suffix in (".csv", ".pdf")
    )
    assert [r["id_number"] for r in confirmation_rows(docs[f"confirmations/GB456/{C1A}/_long/{digest}.csv"])] == [
        "KEY000002"
    ]


def test_report_and_document_keys_are_bounded_and_short_keys_unchanged() -> None:
    from exam_results.confirmations import confirmation_key
    from exam_results.files.report import report_key

    assert report_key("results/day1.csv") == "reports/results/day1.csv.json"
    assert confirmation_key("GB123", C1A, "entries/a b.csv", ".pdf") == f"confirmations/GB123/{C1A}/entries/a b.csv.pdf"
    for size in (1000, 1011, 1012, 1024):
        key = _long_key(size)
        assert len(report_key(key).encode()) <= S3_KEY_LIMIT
        assert len(confirmation_key("GB123456", "S" * 64, key, ".pdf").encode()) <= S3_KEY_LIMIT
    assert report_key(_long_key(1011)) == f"reports/{_long_key(1011)}.json"  # 1,024 bytes exactly: kept
    assert report_key(_long_key(1012)).startswith("reports/_long/")


# --------------------------------------------------------------------------------------------
# Documents before the secrets they carry


def test_a_failed_document_write_leaves_the_old_secret_working_and_the_retry_finishes(
    board: Board, stack: Stack, api: ApiGateway, table_items: Any, s3_faults: S3Faults
) -> None:
    from exam_results.models import Result
    from exam_results.wiring import deps

    seed_sessions([(C1A, "C1A", date(2026, 6, 20), "PB", "released")])
    d = deps()
    skills = {"reading": 185, "use_of_english": 190, "writing": 178, "listening": 192, "speaking": 186}
    d.exams.write_items(
        [
            d.exams.result_item(
                Result(id_number=i, session_id=C1A, overall_score=186, grade="C", cefr_level="C1", skills=skills)
            )
            for i in ("ORD000001", "ORD000002")
        ]
    )
    board.entries("entries/first.csv", csv_text(row("ORD000001")))
    [first] = confirmation_rows(objects(stack, board)[f"confirmations/GB123/{C1A}/entries/first.csv.csv"])
    old_secret, old_hash = first["secret_number"], stored_hash(table_items, "ORD000001")

    # The centre asks for a new secret (and a new candidate's); S3 fails the documents' puts.
    s3_faults.fail = lambda key: key.startswith("confirmations/")
    event = board.put("entries/second.csv", csv_text(row("ORD000001", regenerate="yes"), row("ORD000002")))
    with pytest.raises(Exception, match="InternalError"):
        stack.invoke("ImportEntriesFunction", event)
    assert stored_hash(table_items, "ORD000001") == old_hash  # no new secret took effect ...
    assert "ORD000002" not in {r["id_number"] for r in table_items("ENTRY")}
    assert verify(api, "ORD000001", old_secret) == 200  # ... and the old one still works

    s3_faults.fail = lambda key: False  # Lambda retries the event; S3 is back
    assert stack.invoke("ImportEntriesFunction", event)["processed"][0]["status"] == "accepted"
    printed = {
        r["id_number"]: r["secret_number"]
        for r in confirmation_rows(objects(stack, board)[f"confirmations/GB123/{C1A}/entries/second.csv.csv"])
    }
    assert sorted(printed) == ["ORD000001", "ORD000002"] and printed["ORD000001"] != old_secret
    assert all(re.fullmatch(r"[0-9]{8}", s) for s in printed.values())
    assert verify(api, "ORD000001", printed["ORD000001"]) == 200
    assert verify(api, "ORD000002", printed["ORD000002"]) == 200
    assert verify(api, "ORD000001", old_secret) == 404  # replaced once the documents existed


def test_markup_in_a_name_is_printed_as_text_in_the_pdf_and_kept_in_the_csv() -> None:
    from datetime import UTC, datetime

    from exam_results.confirmations import Confirmation, Sitting, render_csv, render_pdf

    name = '<a href="https://evil.example">Log in</a> **Ana** <b>Silva</b>, "Jr"'
    centre_name = "<script>x</script> & Centre"
    sitting = Sitting(C1A, "C1A", date(2026, 6, 20), "PB", datetime(2026, 7, 25, 8, tzinfo=UTC))
    page = Confirmation("ABC123456", "12345678", "0001", name, date(2004, 5, 17), "GB123", centre_name)
    [text] = pdf_pages(render_pdf(sitting, [page], "https://results.test/register.html"))
    flat = " ".join(text.split())
    assert f"Candidate name {name}" in flat and f"Centre GB123 · {centre_name}" in flat
    [printed] = confirmation_rows(render_csv(sitting, [page], "https://results.test/register.html"))
    assert (printed["candidate_name"], printed["centre_name"]) == (name, centre_name)
