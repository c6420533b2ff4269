from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from exam_results.catalogue import EXAMS
from exam_results.entry_rows import (
    EntriesFileChecker,
    ParsedEntry,
    SessionConsistency,
    default_results_available_by,
    validate_entry_row,
)
from exam_results.files import duplicates
from exam_results.files import lines as text_lines
from exam_results.files.duplicates import DuplicateIds, duplicate_errors
from exam_results.files.lines import iter_text_lines
from exam_results.files.reader import ENTRY_COLUMNS, ENTRY_OPTIONAL_COLUMNS, RESULT_COLUMNS, read_rows
from exam_results.files.report import FileRejected, Report, ReportError, report_key
from exam_results.result_rows import ParsedResult, ResultsFileChecker, validate_result_row

C1A = EXAMS["C1A"]
A2K = EXAMS["A2K"]


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def lines_of(data: bytes, size: int = 7) -> list[str]:
    return list(iter_text_lines(chunks(data, size)))


def rows_of(
    data: bytes,
    required: Iterable[str] = ("a", "b"),
    optional: Iterable[str] = (),
    size: int = 5,
) -> list[tuple[int, dict[str, str] | ReportError]]:
    return list(read_rows(iter_text_lines(chunks(data, size)), tuple(required), tuple(optional)))


# ------------------------------------------------------------------------------------------
# iter_text_lines


def test_lines_keep_their_ends_and_the_last_line_may_lack_one() -> None:
    assert lines_of(b"a,b\n1,2\n3,4") == ["a,b\n", "1,2\n", "3,4"]
    assert lines_of(b"a,b\n1,2\n") == ["a,b\n", "1,2\n"]
    assert lines_of(b"") == []


def test_bom_is_dropped_even_when_split_across_chunks() -> None:
    data = b"\xef\xbb\xbfa,b\r\n1,2\r\n"
    for size in (1, 2, 3, 4, 100):
        assert lines_of(data, size) == ["a,b\r\n", "1,2\r\n"]


def test_bom_only_at_start_is_special() -> None:
    # A BOM later in the file is the character U+FEFF, kept as data.
    assert lines_of(b"a\n\xef\xbb\xbfb\n") == ["a\n", "\ufeffb\n"]


def test_crlf_split_between_chunks() -> None:
    data = b"a,b\r\n1,2\r\n3,4\r\n"
    for size in range(1, len(data) + 1):
        assert lines_of(data, size) == ["a,b\r\n", "1,2\r\n", "3,4\r\n"]


def test_lone_cr_line_ends() -> None:
    data = b"a,b\r1,2\r3,4\r"
    for size in range(1, len(data) + 1):
        assert lines_of(data, size) == ["a,b\r", "1,2\r", "3,4\r"]
    assert lines_of(b"a\rb\r\nc\n", 100) == ["a\r", "b\r\n", "c\n"]
    assert lines_of(b"a\rb\nc\n", 100) == ["a\r", "b\n", "c\n"]


def test_multibyte_characters_split_across_chunks() -> None:
    text = "name\nZoë Brontë\n李小龍\n🎓 Ω\n"
    data = text.encode()
    for size in range(1, 8):
        assert "".join(lines_of(data, size)) == text
        assert lines_of(data, size) == ["name\n", "Zoë Brontë\n", "李小龍\n", "🎓 Ω\n"]


def test_invalid_utf8_is_rejected_with_its_line() -> None:
    data = b"a,b\n1,2\n3,\xe9t\xe9\n"  # Latin-1 "été" on line 3
    for size in (1, 3, 100):
        with pytest.raises(FileRejected) as caught:
            lines_of(data, size)
        error = caught.value.errors[0]
        assert error.line == 3
        assert error.field is None
        assert "UTF-8" in error.message
        assert caught.value.line == 3


def test_invalid_utf8_on_crlf_and_cr_files() -> None:
    with pytest.raises(FileRejected) as caught:
        lines_of(b"a,b\r\n1,2\r\n\xff\r\n", 4)
    assert caught.value.line == 3
    with pytest.raises(FileRejected) as caught:
        lines_of(b"a,b\r1,2\r\xff\r", 4)
    assert caught.value.line == 3


def test_truncated_multibyte_character_at_end_is_rejected() -> None:
    with pytest.raises(FileRejected) as caught:
        lines_of("a\nZo\u00eb".encode()[:-1])
    assert caught.value.line == 2


def test_binary_garbage_is_rejected() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    with pytest.raises(FileRejected):
        lines_of(png)
    with pytest.raises(FileRejected, match="NUL"):
        lines_of(b"a,b\n1,\x00\n")


def test_endless_line_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_lines, "MAX_LINE_CHARS", 100)
    with pytest.raises(FileRejected, match="longer than 100"):
        list(iter_text_lines(chunks(b"x" * 1000, 10)))


def test_lines_are_streamed() -> None:
    def endless() -> Iterator[bytes]:
        while True:
            yield b"1,2\n"

    lines = iter_text_lines(endless())
    assert [next(lines) for _ in range(3)] == ["1,2\n"] * 3


# ------------------------------------------------------------------------------------------
# read_rows


def test_rows_by_header_name_in_any_order_with_extra_columns() -> None:
    data = b"extra, b ,a,more\r\nx,2,1,y\r\n  x , 4 , 3 ,\r\n"
    assert rows_of(data) == [(2, {"a": "1", "b": "2"}), (3, {"a": "3", "b": "4"})]


def test_optional_columns_are_absent_unless_in_header() -> None:
    assert rows_of(b"a,b\n1,2\n", optional=("c",)) == [(2, {"a": "1", "b": "2"})]
    assert rows_of(b"a,c,b\n1,,2\n", optional=("c",)) == [(2, {"a": "1", "b": "2", "c": ""})]


def test_missing_columns_are_reported_one_by_one_on_line_1() -> None:
    with pytest.raises(FileRejected) as caught:
        rows_of(b"a,x\n1,2\n", required=("a", "b", "c"))
    errors = caught.value.errors
    assert [(e.line, e.field) for e in errors] == [(1, "b"), (1, "c")]
    assert all("missing" in e.message for e in errors)


def test_column_names_are_case_sensitive_with_a_hint() -> None:
    with pytest.raises(FileRejected) as caught:
        rows_of(b"A,b\n1,2\n")
    [error] = caught.value.errors
    assert (error.line, error.field) == (1, "a")
    assert "'A'" in error.message


def test_a_wanted_column_twice_is_rejected() -> None:
    with pytest.raises(FileRejected) as caught:
        rows_of(b"a,b,a\n1,2,3\n")
    assert [(e.line, e.field) for e in caught.value.errors] == [(1, "a")]
    # Unwanted duplicates do not matter.
    assert rows_of(b"a,x,b,x\n1,,2,\n") == [(2, {"a": "1", "b": "2"})]


def test_empty_file_is_rejected() -> None:
    with pytest.raises(FileRejected, match="empty") as caught:
        rows_of(b"")
    assert caught.value.field is None
    with pytest.raises(FileRejected, match="empty"):
        rows_of(b"\xef\xbb\xbf")


@pytest.mark.parametrize("data", [b"a,b\n", b"a,b", b"a,b\r\n\r\n\r\n", b"a,b\n,\n , \n"])
def test_header_without_data_rows_is_rejected(data: bytes) -> None:
    with pytest.raises(FileRejected, match="no data rows") as caught:
        rows_of(data)
    [error] = caught.value.errors
    assert error.field is None


def test_blank_first_line_is_rejected() -> None:
    with pytest.raises(FileRejected, match="header"):
        rows_of(b"\na,b\n1,2\n")


def test_blank_lines_are_skipped_but_counted() -> None:
    data = b"a,b\n\n1,2\n,\n\r\n3,4\n\n"
    assert rows_of(data) == [(3, {"a": "1", "b": "2"}), (6, {"a": "3", "b": "4"})]


def test_wrong_number_of_fields_is_a_row_error_and_reading_goes_on() -> None:
    data = b"a,b\n1,2\n1,2,3\n4\n5,6\n"
    rows = rows_of(data)
    assert rows[0] == (2, {"a": "1", "b": "2"})
    assert rows[3] == (5, {"a": "5", "b": "6"})
    for line, row in rows[1:3]:
        assert isinstance(row, ReportError)
        assert row.line == line
        assert row.field is None
    assert [line for line, _ in rows] == [2, 3, 4, 5]
    assert "3 fields" in rows[1][1].message  # type: ignore[union-attr]


def test_quoted_values_with_commas_quotes_and_newlines() -> None:
    data = 'a,b\n"Smith, Jo","say ""hi""\nthere"\n5,"Zoë"\n'.encode()
    for size in (1, 3, 100):
        assert rows_of(data, size=size) == [
            (2, {"a": "Smith, Jo", "b": 'say "hi"\nthere'}),
            (4, {"a": "5", "b": "Zoë"}),  # the row starting on physical line 4
        ]


def test_broken_quoting_is_rejected_as_not_csv() -> None:
    with pytest.raises(FileRejected, match="not valid CSV") as caught:
        rows_of(b'a,b\n1,2\n"3"x,4\n')
    assert caught.value.line == 3
    with pytest.raises(FileRejected, match="not valid CSV"):
        rows_of(b'a,b\n1,"2\n')  # unterminated quote at the end of the file


def test_non_csv_text_is_rejected_for_missing_columns() -> None:
    with pytest.raises(FileRejected) as caught:
        rows_of(b"<html><body>Hello</body></html>\n", required=RESULT_COLUMNS)
    assert {e.field for e in caught.value.errors} == set(RESULT_COLUMNS)


def test_read_rows_is_lazy() -> None:
    def lines() -> Iterator[str]:
        yield "a,b\n"
        while True:
            yield "1,2\n"

    rows = read_rows(lines(), ("a", "b"))
    assert next(rows) == (2, {"a": "1", "b": "2"})
    assert next(rows) == (3, {"a": "1", "b": "2"})


# ------------------------------------------------------------------------------------------
# Report


def test_report_shape() -> None:
    report = Report.rejected(
        "results/day1.csv",
        rows=3,
        errors=[ReportError(line=2, field="reading", message="reading must be a whole number.")],
    )
    assert report.to_dict() == {
        "source_key": "results/day1.csv",
        "status": "rejected",
        "rows": 3,
        "stored": 0,
        "errors": [{"line": 2, "field": "reading", "message": "reading must be a whole number."}],
    }
    assert json.loads(report.to_json()) == report.to_dict()
    accepted = Report.accepted("entries/a.csv", rows=2, stored=2, secrets_generated=1)
    assert accepted.to_dict() == {
        "source_key": "entries/a.csv",
        "status": "accepted",
        "rows": 2,
        "stored": 2,
        "errors": [],
        "extra": {"secrets_generated": 1},
    }
    assert report_key("results/day1.csv") == "reports/results/day1.csv.json"


def test_file_rejected_carries_report_errors() -> None:
    error = FileRejected(field=None, message="The file is empty.")
    assert error.errors == [ReportError(line=None, field=None, message="The file is empty.")]
    assert (error.message, error.field, error.line) == ("The file is empty.", None, None)
    report = Report.rejected("results/x.csv", rows=0, errors=error.errors)
    assert report.to_dict()["errors"] == [{"line": None, "field": None, "message": "The file is empty."}]


# ------------------------------------------------------------------------------------------
# Results rows


def result_row(**overrides: str) -> dict[str, str]:
    # C1A: mean of 190, 195, 200, 205, 190 = 196 → B C1
    row = {
        "session_id": "C1A-2018-08-24-PB",
        "id_number": "ab12cd34",
        "overall_score": "196",
        "grade": "B",
        "cefr_level": "C1",
        "reading": "190",
        "use_of_english": "195",
        "writing": "200",
        "listening": "205",
        "speaking": "190",
    }
    row.update(overrides)
    return row


def fields_of(problems: list[tuple[str, str]]) -> list[str]:
    return [field for field, _ in problems]


def test_valid_result_row() -> None:
    parsed, problems = validate_result_row(result_row(), C1A)
    assert problems == []
    assert parsed == ParsedResult(
        session_id="C1A-2018-08-24-PB",
        id_number="AB12CD34",
        overall_score=196,
        grade="B",
        cefr_level="C1",
        skills={
            "reading": 190,
            "use_of_english": 195,
            "writing": 200,
            "listening": 205,
            "speaking": 190,
        },
    )


def test_valid_a2k_row_without_use_of_english() -> None:
    row = result_row(
        session_id="A2K-2024-06-01-CB",
        overall_score="141",
        grade="A",
        cefr_level="B1",
        reading="140",
        use_of_english="",
        writing="141",
        listening="141",
        speaking="141",
    )  # 140.75 → 141
    parsed, problems = validate_result_row(row, A2K)
    assert problems == []
    assert parsed is not None
    assert parsed.skills == {"reading": 140, "writing": 141, "listening": 141, "speaking": 141}


def test_half_up_overall_in_a_row() -> None:
    row = result_row(
        overall_score="200",
        grade="A",
        cefr_level="C2",
        reading="199",
        use_of_english="200",
        writing="200",
        listening="201",
        speaking="199",
    )  # 999 / 5 = 199.8 → 200
    assert validate_result_row(row, C1A)[1] == []
    row = result_row(
        overall_score="200",
        grade="A",
        cefr_level="C2",
        reading="199",
        use_of_english="200",
        writing="200",
        listening="200",
        speaking="198",
    )  # 997 / 5 = 199.4 → 199
    problems = validate_result_row(row, C1A)[1]
    # grade and CEFR level are checked against the true overall, the mean
    assert fields_of(problems) == ["overall_score", "grade", "cefr_level"]
    assert problems[1][1] == (
        "grade 'A' does not match the mean of the skill scores (199), which is grade 'B' in C1 Advanced."
    )


def test_fail_row_has_empty_cefr() -> None:
    row = result_row(
        overall_score="150",
        grade="Fail",
        cefr_level="",
        reading="150",
        use_of_english="150",
        writing="150",
        listening="150",
        speaking="150",
    )
    parsed, problems = validate_result_row(row, C1A)
    assert problems == []
    assert parsed is not None
    assert (parsed.grade, parsed.cefr_level) == ("Fail", None)
    _, problems = validate_result_row({**row, "cefr_level": "B1"}, C1A)
    assert fields_of(problems) == ["cefr_level"]
    _, problems = validate_result_row({**row, "grade": "fail"}, C1A)
    assert fields_of(problems) == ["grade"]
    assert "'Fail'" in problems[0][1]


@pytest.mark.parametrize("value", ["79", "211", "0", "-5", "1000000000000"])
def test_skill_out_of_range(value: str) -> None:
    parsed, problems = validate_result_row(result_row(reading=value), C1A)
    assert parsed is None
    assert "reading" in fields_of(problems)
    # the overall can't be checked against an unknown mean: no extra complaint about it
    assert "overall_score" not in fields_of(problems)


def test_skill_range_follows_the_exam() -> None:
    row = result_row(
        session_id="A2K-2024-06-01-CB",
        use_of_english="",
        reading="151",
        writing="140",
        listening="140",
        speaking="140",
        overall_score="143",
        grade="A",
        cefr_level="B1",
    )
    _, problems = validate_result_row(row, A2K)
    assert problems[0][0] == "reading"
    assert "80 to 150" in problems[0][1]


@pytest.mark.parametrize("value", ["12.5", "abc", "190.0", "1e3", "", "١٩٠"])
def test_non_integer_skill(value: str) -> None:
    parsed, problems = validate_result_row(result_row(speaking=value), C1A)
    assert parsed is None
    assert fields_of(problems) == ["speaking"]


def test_non_integer_overall() -> None:
    _, problems = validate_result_row(result_row(overall_score="196.0"), C1A)
    assert fields_of(problems) == ["overall_score"]
    assert "whole number" in problems[0][1]


def test_overall_not_the_mean() -> None:
    row = result_row(
        overall_score="175",
        grade="B",
        cefr_level="B2",
        reading="176",
        use_of_english="176",
        writing="176",
        listening="176",
        speaking="176",
    )
    parsed, problems = validate_result_row(row, EXAMS["B2F"])
    assert parsed is None
    assert problems == [("overall_score", "overall_score 175 is not the mean of the skill scores (176).")]


def test_wrong_grade_and_cefr() -> None:
    _, problems = validate_result_row(result_row(grade="A"), C1A)
    assert fields_of(problems) == ["grade"]
    assert "'B'" in problems[0][1]
    _, problems = validate_result_row(result_row(cefr_level="C2"), C1A)
    assert fields_of(problems) == ["cefr_level"]
    _, problems = validate_result_row(result_row(cefr_level="c1"), C1A)
    assert fields_of(problems) == ["cefr_level"]
    _, problems = validate_result_row(result_row(cefr_level=""), C1A)
    assert fields_of(problems) == ["cefr_level"]
    _, problems = validate_result_row(result_row(grade=""), C1A)
    assert fields_of(problems) == ["grade"]


def test_grade_level_spelling() -> None:
    row = result_row(
        overall_score="170",
        grade="Level B2",
        cefr_level="B2",
        reading="170",
        use_of_english="170",
        writing="170",
        listening="170",
        speaking="170",
    )
    assert validate_result_row(row, C1A)[1] == []
    _, problems = validate_result_row({**row, "grade": "level b2"}, C1A)
    assert fields_of(problems) == ["grade"]


def test_use_of_english_must_be_empty_for_a2k() -> None:
    row = result_row(
        session_id="A2K-2024-06-01-CB",
        overall_score="140",
        grade="A",
        cefr_level="B1",
        reading="140",
        use_of_english="140",
        writing="140",
        listening="140",
        speaking="140",
    )
    parsed, problems = validate_result_row(row, A2K)
    assert parsed is None
    assert fields_of(problems) == ["use_of_english"]
    assert "A2 Key" in problems[0][1]


def test_missing_skill_for_c1a() -> None:
    _, problems = validate_result_row(result_row(use_of_english=""), C1A)
    assert fields_of(problems) == ["use_of_english"]


def test_bad_id_and_session() -> None:
    _, problems = validate_result_row(result_row(id_number="AB1"), C1A)
    assert fields_of(problems) == ["id_number"]
    _, problems = validate_result_row(result_row(id_number="", session_id=""), C1A)
    assert sorted(fields_of(problems)) == ["id_number", "session_id"]


def test_every_problem_of_a_row_is_listed() -> None:
    row = result_row(reading="abc", grade="Z", id_number="!")
    _, problems = validate_result_row(row, C1A)
    # the overall (196) is in range, so grade is checked against it
    assert fields_of(problems) == ["id_number", "reading", "grade"]


def test_duplicate_id_in_a_results_file() -> None:
    checker = ResultsFileChecker()
    parsed, errors = checker.check(2, result_row(id_number="ab12cd34"), C1A)
    assert parsed is not None and errors == []
    assert checker.check(3, result_row(id_number="ZZ9999"), C1A)[1] == []
    # Repeats are named once the whole file has been read, every later occurrence naming the
    # first line (IDs compared case-insensitively).
    assert checker.check(4, result_row(id_number="AB12CD34"), C1A)[1] == []
    checker.check(9, result_row(id_number="Ab12cd34", reading="x"), C1A)
    checker.check(10, result_row(id_number="!"), C1A)  # not an ID Number: not recorded
    checker.check(11, result_row(id_number="!"), C1A)
    assert duplicate_errors(checker.ids) == (
        [
            ReportError(
                line=4,
                field="id_number",
                message="ID Number AB12CD34 appears more than once in this file (first on line 2).",
            ),
            ReportError(
                line=9,
                field="id_number",
                message="ID Number AB12CD34 appears more than once in this file (first on line 2).",
            ),
        ],
        2,
    )
    assert duplicate_errors(checker.ids, limit=1) == (duplicate_errors(checker.ids)[0][:1], 2)


def test_results_checker_adds_lines() -> None:
    _, errors = ResultsFileChecker().check(7, result_row(reading="x"), C1A)
    assert [(e.line, e.field) for e in errors] == [(7, "reading")]


def test_results_file_end_to_end() -> None:
    header = ",".join(reversed(RESULT_COLUMNS)) + ",notes"
    good = result_row()
    bad = result_row(id_number="ZZ999999", overall_score="190")
    body = [header]
    for sample in (good, bad, good):
        body.append(",".join(sample[c] for c in reversed(RESULT_COLUMNS)) + ",")
    data = ("\ufeff" + "\r\n".join(body) + "\r\n").encode()
    checker = ResultsFileChecker()
    stored: list[ParsedResult] = []
    errors: list[ReportError] = []
    rows = 0
    for line, row in read_rows(iter_text_lines(chunks(data, 13)), RESULT_COLUMNS):
        rows += 1
        assert not isinstance(row, ReportError)
        parsed, row_errors = checker.check(line, row, C1A)
        errors.extend(row_errors)
        if parsed:
            stored.append(parsed)
    assert rows == 3
    assert len(stored) == 2
    assert [(e.line, e.field) for e in errors] == [(3, "overall_score")]
    assert [(e.line, e.field) for e in duplicate_errors(checker.ids)[0]] == [(4, "id_number")]


# ------------------------------------------------------------------------------------------
# Entries rows


def entry_row(**overrides: str) -> dict[str, str]:
    row = {
        "session_id": "C1A-2024-03-01-PB",
        "exam": "C1A",
        "exam_date": "2024-03-01",
        "format": "PB",
        "id_number": "ab12cd34",
        "secret_number": "0123",
        "candidate_number": "0042",
        "candidate_name": "Zoë Brontë",
        "date_of_birth": "2001-05-17",
        "centre_number": "GB123",
        "centre_name": "Oxford Language Centre",
    }
    row.update(overrides)
    return row


def test_valid_entry_row() -> None:
    parsed, problems = validate_entry_row(entry_row())
    assert problems == []
    assert parsed == ParsedEntry(
        session_id="C1A-2024-03-01-PB",
        exam_code="C1A",
        exam_date=date(2024, 3, 1),
        format="PB",
        id_number="AB12CD34",
        secret_number="0123",
        candidate_number="0042",
        candidate_name="Zoë Brontë",
        date_of_birth=date(2001, 5, 17),
        centre_number="GB123",
        centre_name="Oxford Language Centre",
        results_available_by=datetime(2024, 4, 5, 8, 0, tzinfo=UTC),
        results_available_by_given=False,
        regenerate=False,
    )


def test_entry_repr_never_shows_the_secret() -> None:
    parsed, _ = validate_entry_row(entry_row(secret_number="98765432"))
    assert parsed is not None
    assert parsed.secret_number == "98765432"
    assert "98765432" not in repr(parsed)


def test_blank_secret_means_generate() -> None:
    parsed, problems = validate_entry_row(entry_row(secret_number=""))
    assert problems == []
    assert parsed is not None and parsed.secret_number is None


@pytest.mark.parametrize("secret", ["123", "123456789", "12a4", "12 34", "-1234", "１２３４"])
def test_bad_secret_is_reported_without_its_value(secret: str) -> None:
    parsed, problems = validate_entry_row(entry_row(secret_number=secret))
    assert parsed is None
    assert fields_of(problems) == ["secret_number"]
    assert secret.strip() not in problems[0][1]


@pytest.mark.parametrize("id_number", ["AB123", "ABCDEFGH12345", "AB-1234", "ÄB12345", "", "AB 1234"])
def test_bad_id_number(id_number: str) -> None:
    parsed, problems = validate_entry_row(entry_row(id_number=id_number))
    assert parsed is None
    assert fields_of(problems) == ["id_number"]


def test_id_number_limits() -> None:
    for good in ("abc123", "ABCDEF123456"):
        parsed, problems = validate_entry_row(entry_row(id_number=good))
        assert problems == []
        assert parsed is not None and parsed.id_number == good.upper()


def test_unknown_exam_and_bad_format() -> None:
    _, problems = validate_entry_row(entry_row(exam="IELTS"))
    assert fields_of(problems) == ["exam"]
    _, problems = validate_entry_row(entry_row(format="XX"))
    assert fields_of(problems) == ["format"]
    _, problems = validate_entry_row(entry_row(format=""))
    assert fields_of(problems) == ["format"]
    parsed, problems = validate_entry_row(entry_row(exam="c1a", format="cb"))
    assert problems == []
    assert parsed is not None and (parsed.exam_code, parsed.format) == ("C1A", "CB")


@pytest.mark.parametrize("value", ["2024-02-30", "01/03/2024", "2024-3-1", "20240301", "", "2023-13-01"])
def test_bad_exam_date(value: str) -> None:
    parsed, problems = validate_entry_row(entry_row(exam_date=value))
    assert parsed is None
    assert fields_of(problems) == ["exam_date"]


def test_bad_date_of_birth() -> None:
    _, problems = validate_entry_row(entry_row(date_of_birth="17/05/2001"))
    assert fields_of(problems) == ["date_of_birth"]
    _, problems = validate_entry_row(entry_row(date_of_birth="2024-03-01"))
    assert fields_of(problems) == ["date_of_birth"]  # not before the exam


@pytest.mark.parametrize("column", ["candidate_number", "candidate_name", "centre_number", "centre_name", "session_id"])
def test_required_text(column: str) -> None:
    _, problems = validate_entry_row(entry_row(**{column: "  "}))
    assert fields_of(problems) == [column]


def test_results_available_by_given() -> None:
    parsed, problems = validate_entry_row(entry_row(results_available_by="2024-04-01T10:30:00+01:00"))
    assert problems == []
    assert parsed is not None
    assert parsed.results_available_by == datetime(2024, 4, 1, 9, 30, tzinfo=UTC)
    assert parsed.results_available_by.tzinfo is UTC
    assert parsed.results_available_by_given
    parsed, _ = validate_entry_row(entry_row(results_available_by="2024-04-01T09:30:00Z"))
    assert parsed is not None
    assert parsed.results_available_by == datetime(2024, 4, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", ["2024-04-01T09:30:00", "2024-04-01", "soon", "2024-04-31T09:00Z"])
def test_bad_results_available_by(value: str) -> None:
    parsed, problems = validate_entry_row(entry_row(results_available_by=value))
    assert parsed is None
    assert fields_of(problems) == ["results_available_by"]


def test_regenerate() -> None:
    for value, expected in (("yes", True), ("YES", True), ("no", False), ("", False)):
        parsed, problems = validate_entry_row(entry_row(secret_number="", regenerate=value))
        assert problems == []
        assert parsed is not None and parsed.regenerate is expected
    _, problems = validate_entry_row(entry_row(secret_number="", regenerate="maybe"))
    assert fields_of(problems) == ["regenerate"]
    _, problems = validate_entry_row(entry_row(secret_number="1234", regenerate="yes"))
    assert fields_of(problems) == ["regenerate"]
    assert "1234" not in problems[0][1]


def test_session_disagreement_names_the_first_line() -> None:
    consistency = SessionConsistency()
    first, _ = validate_entry_row(entry_row())
    other, _ = validate_entry_row(entry_row(id_number="XY987654", exam="C2P", format="CB"))
    assert first is not None and other is not None
    assert consistency.check(2, first) == []
    problems = consistency.check(5, other)
    assert fields_of(problems) == ["exam", "format"]
    assert all("line 2" in message for _, message in problems)
    later_date, _ = validate_entry_row(entry_row(id_number="QQ123456", exam_date="2024-03-02"))
    assert later_date is not None
    assert fields_of(consistency.check(6, later_date)) == ["exam_date"]
    # a different session is independent
    elsewhere, _ = validate_entry_row(entry_row(session_id="C2P-2024-03-01-CB", exam="C2P", format="CB"))
    assert elsewhere is not None
    assert consistency.check(7, elsewhere) == []
    assert set(consistency.sessions) == {"C1A-2024-03-01-PB", "C2P-2024-03-01-CB"}


def test_session_results_available_by_agreement() -> None:
    checker = EntriesFileChecker()
    assert checker.check(2, entry_row(id_number="AAA111"))[1] == []
    spec = checker.sessions["C1A-2024-03-01-PB"]
    assert not spec.results_available_by_given
    assert checker.check(3, entry_row(id_number="AAA222", results_available_by="2024-04-01T09:00:00Z"))[1] == []
    assert spec.results_available_by == datetime(2024, 4, 1, 9, tzinfo=UTC)
    assert spec.results_available_by_given
    _, errors = checker.check(4, entry_row(id_number="AAA333", results_available_by="2024-04-02T09:00:00Z"))
    assert [(e.line, e.field) for e in errors] == [(4, "results_available_by")]


def test_duplicate_id_in_an_entries_file() -> None:
    checker = EntriesFileChecker()
    assert checker.check(2, entry_row(id_number="ab12cd34"))[1] == []
    assert checker.check(3, entry_row(id_number="AB12CD34", secret_number="5555"))[1] == []
    errors, total = duplicate_errors(checker.ids)  # named once the whole file is read
    assert total == 1 and [(e.line, e.field) for e in errors] == [(3, "id_number")]
    assert "first on line 2" in errors[0].message
    assert "5555" not in errors[0].message


def test_entries_file_end_to_end() -> None:
    columns = (*ENTRY_COLUMNS, "results_available_by")
    rows = [
        entry_row(id_number="AAA111"),
        entry_row(id_number="AAA222", format="CB"),
        entry_row(id_number="AAA333", secret_number="12"),
    ]
    text = ",".join(columns) + "\n" + "".join(",".join(row.get(c, "") for c in columns) + "\n" for row in rows)
    checker = EntriesFileChecker()
    errors: list[ReportError] = []
    for line, row in read_rows(iter_text_lines([text.encode()]), ENTRY_COLUMNS, ENTRY_OPTIONAL_COLUMNS):
        assert not isinstance(row, ReportError)
        assert "regenerate" not in row
        errors.extend(checker.check(line, row)[1])
    assert [(e.line, e.field) for e in errors] == [(3, "format"), (4, "secret_number")]


# ------------------------------------------------------------------------------------------
# Default end of the result window


@pytest.mark.parametrize(
    ("exam_date", "fmt", "expected"),
    [
        (date(2024, 3, 1), "PB", datetime(2024, 4, 5, 8, 0, tzinfo=UTC)),  # BST
        (date(2024, 9, 1), "CB", datetime(2024, 9, 15, 8, 0, tzinfo=UTC)),  # BST
        (date(2024, 10, 1), "PB", datetime(2024, 11, 5, 9, 0, tzinfo=UTC)),  # GMT
        (date(2024, 12, 20), "CB", datetime(2025, 1, 3, 9, 0, tzinfo=UTC)),  # GMT
        (date(2024, 3, 17), "CB", datetime(2024, 3, 31, 8, 0, tzinfo=UTC)),  # BST starts that day
        (date(2024, 3, 16), "CB", datetime(2024, 3, 30, 9, 0, tzinfo=UTC)),
        (date(2024, 10, 13), "CB", datetime(2024, 10, 27, 9, 0, tzinfo=UTC)),  # BST ends that day
        (date(2024, 10, 12), "CB", datetime(2024, 10, 26, 8, 0, tzinfo=UTC)),
    ],
)
def test_default_results_available_by(exam_date: date, fmt: str, expected: datetime) -> None:
    value = default_results_available_by(exam_date, fmt)
    assert value == expected
    assert value.utcoffset() == timedelta(0)


def test_default_rejects_unknown_format() -> None:
    with pytest.raises(KeyError):
        default_results_available_by(date(2024, 1, 1), "XX")


# ------------------------------------------------------------------------------------------
# DuplicateIds (compact keys) and read_rows (line numbers, failures)


def test_duplicate_ids_are_exact_across_lengths_and_case() -> None:
    ids = DuplicateIds()
    # Same digits, different lengths: distinct IDs (the key encodes the length).
    for line, id_number in [(2, "000001"), (3, "0000001"), (4, "1"), (5, "Z" * 12), (6, "z" * 12), (7, "0000001")]:
        ids.add_one(line, id_number)
    ids.add_one(8, "ab-12")  # not an ID Number: ignored
    ids.add_one(9, "AB-12")
    ids.add_one(10, "ﬀ0000")  # not ASCII: ignored (it upper-cases to "FF0000")
    ids.add_one(11, "ff0000")
    ids.add_one(12, "zzzzzzzzzzzz")
    assert ids.count == 8
    assert ids.repeats() == ([(6, 5, "ZZZZZZZZZZZZ"), (7, 3, "0000001"), (12, 5, "ZZZZZZZZZZZZ")], 3)


def test_keys_decode_to_their_id_numbers() -> None:
    for id_number in ["1", "0", "000000", "ZZZZZZZZZZZZ", "A2K000000123", "00000000000Z", "Z", "10"]:
        assert duplicates._id_of_key(duplicates._id_key(id_number)) == id_number
    assert duplicates._id_key("ZZZZZZZZZZZZ") < 2**63


@pytest.mark.parametrize("run_rows", [7, 100, 1 << 15])
def test_duplicate_ids_match_a_dictionary_whatever_the_runs(run_rows: int) -> None:
    """Random files, blocks of random sizes and gaps between lines, spilled in runs of 7 to
    32,768 rows: exactly the repeats a dictionary of upper-cased IDs finds, in line order."""
    rng = random.Random(run_rows)
    for _ in range(20):
        n = rng.randint(1, 5000)
        pool = [f"{rng.choice(['A', 'B', 'C2', ''])}{rng.randint(0, n * 2):0{rng.choice([6, 8])}d}" for _ in range(n)]
        lines = sorted(rng.sample(range(2, 4 * n + 2), n))
        ids = DuplicateIds(run_rows=run_rows)
        start = 0
        while start < n:
            size = rng.randint(1, 150)
            cased = [x.lower() if rng.random() < 0.1 else x for x in pool[start : start + size]]
            ids.add(lines[start : start + size], cased)
            start += size
        first: dict[str, int] = {}
        expected = []
        for line, id_number in zip(lines, pool, strict=True):
            if id_number in first:
                expected.append((line, first[id_number], id_number))
            else:
                first[id_number] = line
        limit = rng.choice([None, 3, 10**6])
        assert ids.repeats(limit) == (expected if limit is None else expected[:limit], len(expected))
        assert ids.repeats() == (expected, len(expected))  # asked again: the same answer
        ids.close()


def test_an_id_repeated_across_whole_blocks_of_every_run_is_counted_every_time() -> None:
    # Runs of 100 rows read back 64 at a time: blocks made of one key, repeats straddling
    # block and run boundaries.
    ids = DuplicateIds(run_rows=100)
    lines = list(range(2, 3002))
    ids.add(lines[:1000], ["SAME01"] * 1000)
    ids.add(lines[1000:2000], [f"ID{i:06d}" for i in range(1000)])
    ids.add(lines[2000:], ["same01"] * 500 + [f"id{i:06d}" for i in range(500)])
    listed, total = ids.repeats()
    assert total == 999 + 500 + 500
    assert listed[:2] == [(3, 2, "SAME01"), (4, 2, "SAME01")]
    assert listed[-1] == (3001, 1501, "ID000499")
    assert [line for line, _, _ in listed] == sorted(line for line, _, _ in listed)


def test_duplicate_ids_spill_to_a_temporary_file_and_keep_memory_bounded() -> None:
    ids = DuplicateIds(run_rows=1000)
    for start in range(0, 10_000, 500):
        ids.add(range(start + 2, start + 502), [f"ID{i:08d}" for i in range(start, start + 500)])
    assert len(ids._runs) == 10 and len(ids._keys) == 0  # everything on disk, nothing held
    assert ids.repeats() == ([], 0)
    ids.add([20_000, 20_001], ["id00004321", "ID00009999"])
    assert ids.repeats() == ([(20_000, 4323, "ID00004321"), (20_001, 10_001, "ID00009999")], 2)
    ids.close()
    assert ids._file is None


def test_rows_are_numbered_by_the_line_they_start_on() -> None:
    body = 'a,b\n1,2\n\n,\n"x\ny",3\n4\n5,6\r\n7,"8\r\n9"\n10,11\n'
    found = [(line, row if isinstance(row, dict) else row.message) for line, row in rows_of(body.encode())]
    assert found == [
        (2, {"a": "1", "b": "2"}),
        (5, {"a": "x\ny", "b": "3"}),
        (7, "Line 7 has 1 fields but the header row has 2 columns."),
        (8, {"a": "5", "b": "6"}),
        (9, {"a": "7", "b": "8\r\n9"}),
        (11, {"a": "10", "b": "11"}),
    ]


def test_the_rows_before_a_failure_are_handed_over_first() -> None:
    body = b"a,b\n" + b"1,2\n" * 5 + b'3,"4\n5,6\n'
    seen = []
    with pytest.raises(FileRejected) as failure:
        for line, _ in read_rows(iter_text_lines([body]), ("a", "b")):
            seen.append(line)
    assert seen == [2, 3, 4, 5, 6]
    assert failure.value.line == 7
    # Not UTF-8 on line 5: lines 2-4 first.
    seen = []
    with pytest.raises(FileRejected, match="line 5"):
        for line, _ in read_rows(iter_text_lines(chunks(b"a,b\n1,2\n1,2\n1,2\n\xff,2\n", 4)), ("a", "b")):
            seen.append(line)
    assert seen == [2, 3, 4]


def test_columns_are_found_by_name_in_any_order_and_stripped() -> None:
    assert list(read_rows(iter_text_lines([b" b ,x,a\n 2 ,y, 1\n"]), ("a", "b"))) == [(2, {"a": "1", "b": "2"})]
