"""Confirmation of Entry (issue 8): secrets the service generates for blank ``secret_number``s
and ``regenerate`` = ``yes``, stored only as hashes, printed only in the PDF and CSV written per
centre and session under ``confirmations/``; crash-safe (a retried import re-issues the very same
secrets); never in a log or a report."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pypdf import PdfReader

from devtools.harness.apigw import ApiGateway
from devtools.harness.stack import Stack
from tests.conftest import Candidate, registration
from tests.helpers.uploads import ENTRY_HEADER, Board, seed_sessions

C1A = "C1A-2026-06-20-PB"
B1P = "B1P-2026-11-10-CB"
HEADER = ENTRY_HEADER + ",regenerate"
REGISTER_URL = "https://results.test/register.html"  # the test stack's WebBaseUrl


def row(
    id_number: str,
    secret: str = "",
    *,
    name: str = "Ana Silva",
    centre: str = "GB123",
    session: str = C1A,
    regenerate: str = "",
    number: str = "0001",
) -> str:
    exam = {C1A: "C1A,2026-06-20,PB", B1P: "B1P,2026-11-10,CB"}[session]
    centre_name = {"GB123": "Oxford Language Centre", "GB456": "Leeds English School"}.get(centre, "A Centre")
    return f'{session},{exam},{id_number},{secret},{number},"{name}",2004-05-17,{centre},{centre_name},{regenerate}'


def csv_text(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def objects(stack: Stack, board: Board, prefix: str = "confirmations/") -> dict[str, bytes]:
    s3 = stack.client("s3")
    found = {}
    for item in s3.list_objects_v2(Bucket=board.bucket, Prefix=prefix).get("Contents", []):
        found[item["Key"]] = s3.get_object(Bucket=board.bucket, Key=item["Key"])["Body"].read()
    return found


def confirmation_rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheet programs then read UTF-8 names right
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def pdf_pages(body: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(body)).pages]


def register(api: ApiGateway, id_number: str, secret: str) -> int:
    c = Candidate(id_number, secret, "", "", email=f"{id_number.lower()}@example.com")
    return api.call("POST", "/registrations", registration(c)).status


def verify(api: ApiGateway, id_number: str, secret: str) -> int:
    return api.call("POST", "/verifications", {"id_number": id_number, "secret_number": secret}).status


def stored_hash(table_items: Any, id_number: str) -> str:
    return next(str(r["secret_hash"]) for r in table_items("ENTRY") if r["id_number"] == id_number)


def no_secret_in(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert re.search(rf"(?<![0-9]){secret}(?![0-9])", text) is None, "a Secret Number reached a log or report"


# --------------------------------------------------------------------------------------------
# The generator


def test_secrets_are_8_digits_distinct_over_10000_ids_and_the_same_on_a_retry() -> None:
    from exam_results.credentials import GENERATED_SECRET_DIGITS
    from exam_results.usecases.entries_import import SecretIssuer

    pepper = b"p" * 32
    ids = [f"GEN{i:06d}" for i in range(10_000)]
    first = [SecretIssuer(pepper, "bucket/entries/a.csv#VERSION#1").issue(i) for i in ids[:1]]
    issuer = SecretIssuer(pepper, "bucket/entries/a.csv#VERSION#1")
    secrets = [issuer.issue(i) for i in ids]

    assert all(re.fullmatch(r"[0-9]{8}", s) for s in secrets) and GENERATED_SECRET_DIGITS == 8
    assert len(set(secrets)) == 10_000  # distinct within a file (random ones would collide ~40 % of the time)
    assert secrets[0] == first[0]
    again = SecretIssuer(pepper, "bucket/entries/a.csv#VERSION#1")
    assert [again.issue(i) for i in ids] == secrets  # a retry of one object version: the same secrets
    other_version = SecretIssuer(pepper, "bucket/entries/a.csv#VERSION#2")
    assert sum(a == other_version.issue(i) for i, a in zip(ids, secrets, strict=True)) < 5
    other_pepper = SecretIssuer(b"q" * 32, "bucket/entries/a.csv#VERSION#1")
    assert sum(a == other_pepper.issue(i) for i, a in zip(ids, secrets, strict=True)) < 5
    # Leading zeros kept; every digit used in every position.
    assert {s[0] for s in secrets} == set("0123456789") and {s[7] for s in secrets} == set("0123456789")


def test_a_secret_already_issued_in_the_file_takes_the_next_counter(monkeypatch: pytest.MonkeyPatch) -> None:
    from exam_results.usecases import entries_import

    calls: list[tuple[str, int]] = []

    def fake(key: bytes, upload: str, id_number: str, counter: int = 0) -> str:
        calls.append((id_number, counter))
        return "12345678" if counter == 0 else f"{counter:08d}"

    monkeypatch.setattr(entries_import, "derive_secret", fake)
    issuer = entries_import.SecretIssuer(b"p" * 32, "u")
    assert [issuer.issue("AAA111"), issuer.issue("BBB222"), issuer.issue("CCC333")] == [
        "12345678",
        "00000001",
        "00000002",
    ]
    assert calls == [("AAA111", 0), ("BBB222", 0), ("BBB222", 1), ("CCC333", 0), ("CCC333", 1), ("CCC333", 2)]


# --------------------------------------------------------------------------------------------
# The import


def test_blank_secrets_are_generated_printed_per_centre_and_session_and_work_at_registration(
    board: Board,
    stack: Stack,
    api: ApiGateway,
    table_items: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from exam_results.credentials import hash_secret
    from exam_results.wiring import deps

    rows = [row(f"OXF{i:06d}", number=f"{i:04d}", name=f"Candidate {i}") for i in range(1, 31)]
    rows += [row(f"LDS{i:06d}", centre="GB456", session=B1P, name=f"Łukasz Żółć {i}") for i in range(1, 6)]
    rows += [row(f"OXB{i:06d}", session=B1P, name=f"Σοφία {i}") for i in range(1, 4)]
    rows.append(row("GIVEN00001", "4821"))  # a secret given in the file: the board has it, no document
    key = "entries/June 2026.csv"
    answer, _ = board.entries(key, csv_text(*rows))

    assert answer == {"processed": [{"key": key, "status": "accepted", "stored": 39}]}
    report = board.report(key)
    assert report["extra"] == {
        "entries_created": 39,
        "entries_updated": 0,
        "secrets_generated": 38,
        "secrets_reissued": 0,
        "sessions_created": 2,
        "sessions_updated": 0,
    }
    docs = objects(stack, board)
    assert sorted(docs) == [
        f"confirmations/GB123/{B1P}/{key}.csv",
        f"confirmations/GB123/{B1P}/{key}.pdf",
        f"confirmations/GB123/{C1A}/{key}.csv",
        f"confirmations/GB123/{C1A}/{key}.pdf",
        f"confirmations/GB456/{B1P}/{key}.csv",
        f"confirmations/GB456/{B1P}/{key}.pdf",
    ]
    printed = {r["id_number"]: r for k, body in docs.items() if k.endswith(".csv") for r in confirmation_rows(body)}
    assert len(printed) == 38 and "GIVEN00001" not in printed
    secrets = [r["secret_number"] for r in printed.values()]
    assert all(re.fullmatch(r"[0-9]{8}", s) for s in secrets) and len(set(secrets)) == 38
    pepper = deps().pepper()
    for id_number, r in printed.items():  # only the hash is stored, and it is the printed secret's
        assert stored_hash(table_items, id_number) == hash_secret(pepper, id_number, r["secret_number"])
    assert printed["OXF000007"] == {
        "centre_number": "GB123",
        "centre_name": "Oxford Language Centre",
        "session_id": C1A,
        "exam": "C1A",
        "exam_name": "C1 Advanced",
        "exam_date": "2026-06-20",
        "format": "paper-based",
        "results_available_by": "25 July 2026 09:00 (UK time)",  # exam date + 35 days, BST
        "candidate_number": "0007",
        "candidate_name": "Candidate 7",
        "date_of_birth": "2004-05-17",
        "id_number": "OXF000007",
        "secret_number": printed["OXF000007"]["secret_number"],
        "register_url": REGISTER_URL,
    }
    assert printed["LDS000002"]["candidate_name"] == "Łukasz Żółć 2"
    assert printed["LDS000002"]["results_available_by"] == "24 November 2026 09:00 (UK time)"  # + 14, GMT

    # Nowhere else: not in the report, not in any log line.
    out = capsys.readouterr()
    logs = out.out + out.err + caplog.text + json.dumps(report)
    assert "entries stored" in logs
    no_secret_in(logs, secrets)
    assert not [t for t in table_items("") if any(s in json.dumps(t, default=str) for s in secrets)]

    # A candidate registers with what the centre printed.
    oxf = printed["OXF000012"]
    assert register(api, "OXF000012", oxf["secret_number"]) == 201
    assert register(api, "OXF000013", oxf["secret_number"]) == 403


def test_the_pdf_has_one_page_per_candidate_laid_out_as_a_confirmation_of_entry(board: Board, stack: Stack) -> None:
    rows = [
        row("PDF000001", name="Ana Silva", number="0042"),
        row("PDF000002", name="Łukasz Żółć-Brzęczyszczykiewicz", number="0043"),
        row("PDF000003", name="陈伟", number="0044"),
        row("PDF000004", "70315", name="Given Secret"),
    ]
    key = "entries/pdf.csv"
    board.entries(key, csv_text(*rows))
    docs = objects(stack, board)
    printed = {r["id_number"]: r for r in confirmation_rows(docs[f"confirmations/GB123/{C1A}/{key}.csv"])}
    assert list(printed) == ["PDF000001", "PDF000002", "PDF000003"]  # file order
    assert printed["PDF000003"]["candidate_name"] == "陈伟"  # the CSV keeps the name as entered

    body = docs[f"confirmations/GB123/{C1A}/{key}.pdf"]
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) == 3
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)  # A4
    assert reader.pages[0].mediabox.height == pytest.approx(841.89, abs=0.1)
    pages = pdf_pages(body)
    for text, (id_number, r) in zip(pages, printed.items(), strict=True):
        flat = " ".join(text.split())
        for expected in (
            "Confirmation of Entry",
            "C1 Advanced",
            "20 June 2026 · paper-based · session C1A-2026-06-20-PB",
            f"Candidate number {r['candidate_number']}",
            "Date of birth 17 May 2004",
            "Centre GB123 · Oxford Language Centre",
            "Results available by 25 July 2026 09:00 (UK time)",
            "ID Number Secret Number",
            f"{id_number} {r['secret_number']}",
            f"Register at {REGISTER_URL}",
            "What to do",
        ):
            assert expected in flat, (expected, flat)
    assert "Candidate name Ana Silva" in " ".join(pages[0].split())
    assert "Candidate name Łukasz Żółć-Brzęczyszczykiewicz" in " ".join(pages[1].split())
    third = " ".join(pages[2].split())
    assert "Candidate name Chen Wei" in third  # outside the fonts: transliterated, and the page says so
    assert "Some characters are shown in Latin letters" in third
    assert "Some characters" not in pages[0]


def test_a_blank_secret_keeps_an_existing_one_and_regenerate_reissues_it_at_once(
    board: Board, stack: Stack, api: ApiGateway, table_items: Any
) -> None:
    from exam_results.models import Result
    from exam_results.wiring import deps

    seed_sessions([(C1A, "C1A", date(2026, 6, 20), "PB", "released")])
    d = deps()
    d.exams.write_items(
        [
            d.exams.result_item(
                Result(
                    id_number=i,
                    session_id=C1A,
                    overall_score=186,
                    grade="C",
                    cefr_level="C1",
                    skills={"reading": 185, "use_of_english": 190, "writing": 178, "listening": 192, "speaking": 186},
                )
            )
            for i in ("REI000001", "REI000002")
        ]
    )
    board.entries("entries/first.csv", csv_text(row("REI000001"), row("REI000002", name="Ben Okafor")))
    first = {
        r["id_number"]: r["secret_number"]
        for r in confirmation_rows(objects(stack, board)[f"confirmations/GB123/{C1A}/entries/first.csv.csv"])
    }
    assert verify(api, "REI000001", first["REI000001"]) == 200

    # Later file: REI000001 blank (kept, no new document), REI000002 re-issued.
    board.entries(
        "entries/second.csv",
        csv_text(row("REI000001", name="Ana Silva Santos"), row("REI000002", name="Ben Okafor", regenerate="yes")),
    )
    assert board.report("entries/second.csv")["extra"] == {
        "entries_created": 0,
        "entries_updated": 2,
        "secrets_generated": 0,
        "secrets_reissued": 1,
        "sessions_created": 0,
        "sessions_updated": 0,
    }
    second = confirmation_rows(objects(stack, board)[f"confirmations/GB123/{C1A}/entries/second.csv.csv"])
    assert [r["id_number"] for r in second] == ["REI000002"]
    new = second[0]["secret_number"]
    assert new != first["REI000002"] and re.fullmatch(r"[0-9]{8}", new)
    # Released session: the sitting is printed as stored.
    assert second[0]["results_available_by"] == "25 July 2026 09:00 (UK time)"

    # The old secret stopped working at once (two wrong attempts: far from the lock at five) ...
    assert register(api, "REI000002", first["REI000002"]) == 403
    assert verify(api, "REI000002", first["REI000002"]) == 404
    # ... the new one works, and the kept one still does.
    assert verify(api, "REI000002", new) == 200
    assert register(api, "REI000002", new) == 201
    assert register(api, "REI000001", first["REI000001"]) == 201


def test_a_crash_after_the_documents_before_their_entries_is_retried_with_the_same_secrets(
    board: Board, stack: Stack, api: ApiGateway, table_items: Any
) -> None:
    """Documents are written before the file's entries take effect (issue 13 item 6, issue 18):
    a crash before the publishing write leaves printed secrets that no entry in effect has yet;
    the retry publishes exactly them."""
    from exam_results.repositories.aws import client

    def crash(params: dict[str, Any], **_: Any) -> None:
        if "PUBLICATION#" in params["body"].decode():
            raise ConnectionError("Lambda stopped here")

    events = client("dynamodb").meta.events
    events.register("before-call.dynamodb.TransactWriteItems", crash)
    rows = [row("CRA000001"), row("CRA000002", regenerate="yes"), row("CRA000003", "5555")]
    event = board.put("entries/crash.csv", csv_text(*rows))
    try:
        with pytest.raises(ConnectionError):
            stack.invoke("ImportEntriesFunction", event)
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", crash)
    key = f"confirmations/GB123/{C1A}/entries/crash.csv.csv"
    first = {r["id_number"]: r["secret_number"] for r in confirmation_rows(objects(stack, board)[key])}
    assert sorted(first) == ["CRA000001", "CRA000002"]
    assert table_items("ENTRY") == []  # printed, not yet in effect (nor the row with its own secret)

    assert stack.invoke("ImportEntriesFunction", event)["processed"][0]["status"] == "accepted"  # Lambda's retry
    report = board.report("entries/crash.csv")
    assert report["extra"]["secrets_generated"] == 1 and report["extra"]["secrets_reissued"] == 1
    printed = {r["id_number"]: r["secret_number"] for r in confirmation_rows(objects(stack, board)[key])}
    assert printed == first  # the same secrets as the first try
    assert register(api, "CRA000001", printed["CRA000001"]) == 201
    assert register(api, "CRA000002", printed["CRA000002"]) == 201

    # A third delivery of the same event changes nothing (the processed-file marker).
    assert stack.invoke("ImportEntriesFunction", event)["processed"][0]["status"] == "skipped"
    versions = stack.client("s3").list_object_versions(Bucket=board.bucket, Prefix="confirmations/")["Versions"]
    assert len(versions) == 4  # each document written by both attempts


def test_a_rejected_file_writes_no_document_and_stores_no_secret(board: Board, stack: Stack, table_items: Any) -> None:
    rows = [row("REJ000001"), row("REJ000002"), row("REJ000003").replace("2004-05-17", "2004-02-30")]
    board.entries("entries/bad.csv", csv_text(*rows))
    assert board.report("entries/bad.csv")["status"] == "rejected"
    assert objects(stack, board) == {} and table_items("ENTRY") == []


def test_a_new_upload_of_the_same_key_issues_new_secrets_only_where_asked(
    board: Board, stack: Stack, table_items: Any
) -> None:
    key = "entries/again.csv"
    body = csv_text(row("AGA000001"), row("AGA000002"))
    board.entries(key, body)
    before = {i: stored_hash(table_items, i) for i in ("AGA000001", "AGA000002")}
    board.entries(key, body)  # a new object version: both IDs exist now, blank keeps their secrets
    assert board.report(key)["extra"]["secrets_generated"] == 0
    assert {i: stored_hash(table_items, i) for i in before} == before
    assert len(objects(stack, board)) == 2  # the first version's documents stay


# --------------------------------------------------------------------------------------------
# Pure helpers


def test_names_outside_the_fonts_are_transliterated_and_the_rest_kept() -> None:
    from exam_results.confirmations import printable

    assert printable("Łukasz Żółć") == ("Łukasz Żółć", False)
    assert printable("Σοφία Παπαδοπούλου") == ("Σοφία Παπαδοπούλου", False)
    assert printable("Дмитрий Иванов") == ("Дмитрий Иванов", False)
    assert printable("Nguyễn Thị Minh") == ("Nguyễn Thị Minh", False)
    assert printable("陈伟") == ("Chen Wei", True)
    assert printable("김민준") == ("Gim Min Jun", True)
    assert printable("محمد") == ("mhmd", True)
    assert printable("कि") == ("ki", True)
    assert printable("Ana 😀") == ("Ana ?", True)


def test_document_keys_and_csv_cells_are_safe() -> None:
    from exam_results.confirmations import Confirmation, Sitting, confirmation_key, render_csv

    assert (
        confirmation_key("GB/12 3", C1A, "entries/a b.csv", ".pdf")
        == f"confirmations/GB%2F12%203/{C1A}/entries/a b.csv.pdf"
    )
    sitting = Sitting(C1A, "C1A", date(2026, 6, 20), "PB", datetime(2026, 7, 30, 8, 0, tzinfo=UTC))
    c = Confirmation("ABC123456", "01234567", "0001", "=HYPERLINK(1)", date(2004, 5, 17), "GB123", "-Centre")
    assert "01234567" not in repr(c)
    rows = confirmation_rows(render_csv(sitting, [c], REGISTER_URL))
    assert rows[0]["candidate_name"] == "'=HYPERLINK(1)" and rows[0]["centre_name"] == "'-Centre"
    assert rows[0]["secret_number"] == "01234567"  # leading zero kept
    assert rows[0]["results_available_by"] == "30 July 2026 09:00 (UK time)"
