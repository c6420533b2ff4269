"""GET /me/results/{session_id}/statement: the Statement of Results PDF (SPEC §3, issue 14)."""

from __future__ import annotations

import base64
import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from pypdf import PdfReader

from tests.conftest import registration

SESSION = "C1A-2026-06-20-PB"
SKILLS = {"reading": 190, "use_of_english": 185, "writing": 176, "listening": 201, "speaking": 193}
AVAILABLE = datetime(2026, 7, 25, 8, 0, tzinfo=UTC)
RELEASED = datetime(2026, 7, 25, 8, 3, 12, tzinfo=UTC)
SECRET = "73914682"  # distinctive: found nowhere else in a statement by chance
PDF = "application/pdf"
ISSUED = "2026-08-03T14:05:00Z"


def statement_path(session_id: str = SESSION) -> str:
    return f"/me/results/{session_id}/statement"


def pdf_text(content: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages), reader


def squeezed(text: str) -> str:
    """Text without whitespace: a wrapped value is found across its line breaks."""
    return "".join(text.split())


@pytest.fixture
def candidate(registered, exams):  # type: ignore[no-untyped-def]
    """A registered candidate (English) with a released C1 Advanced result."""

    def _make(**kw):  # type: ignore[no-untyped-def]
        exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE, released_at=RELEASED)
        c, token = registered(session_id=SESSION, secret_number=SECRET, **kw)
        exams.result(c.id_number, SESSION, 189, "C", "C1", SKILLS)
        return c, token

    return _make


def test_statement_carries_everything_the_results_json_carries_and_never_the_secret(api, candidate):
    c, token = candidate(
        name="Jane Candidate",
        candidate_number="0042",
        date_of_birth=date(2004, 5, 17),
        centre_number="GB123",
        centre_name="Oxford Language Centre",
    )
    item = api.call("GET", "/me/results", token=token).json()["results"][0]
    assert item["status"] == "released"
    with time_machine.travel(ISSUED, tick=False):
        r = api.call("GET", statement_path(), token=token, accept=PDF)
    assert r.status == 200, r.body
    assert r.header("Content-Type") == PDF
    assert r.header("Content-Disposition") == f'attachment; filename="statement-of-results-{SESSION}.pdf"'
    assert r.content.startswith(b"%PDF-")
    text, reader = pdf_text(r.content)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points

    # Every value of the JSON item, as a person reads it.
    statement = item["statement"]
    for label in ("Reading", "Use of English", "Writing", "Listening", "Speaking"):
        assert label in text
    for score in statement["skills"].values():
        assert str(score) in text
    assert "Overall score" in text and str(statement["overall_score"]) in text
    assert "Grade" in text and statement["grade"] in text
    assert "CEFR level" in text and statement["cefr_level"] in text
    assert item["exam"]["name"] in text and item["session_id"] in text
    assert "20 June 2026" in text  # exam_date
    assert "Paper-based" in text  # format
    assert "22 August 2026" in text  # certificate.expected_at_centre_by
    assert item["centre"]["number"] in text and item["centre"]["name"] in text
    # The candidate, from the entry.
    assert item["id_number"] == c.id_number and item["candidate_number"] == "0042"
    assert c.name in text and c.id_number in text and "0042" in text and "17 May 2004" in text
    assert "3 August 2026 14:05 UTC" in text  # issued
    # How an organisation verifies it, without the secret.
    assert "https://results.test/verify.html" in text
    assert "with your ID Number and Secret Number" in squeezed_spaces(text)
    assert SECRET not in text and SECRET.encode() not in r.content
    assert SECRET not in squeezed(text)


def squeezed_spaces(text: str) -> str:
    return " ".join(text.split())


def test_statement_in_italian_for_an_italian_account(api, seed, exams, mailbox):
    exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE, released_at=RELEASED)
    c = seed(session_id=SESSION, secret_number=SECRET, date_of_birth=date(2004, 10, 5))
    exams.result(c.id_number, SESSION, 189, "C", "C1", SKILLS)
    assert api.call("POST", "/registrations", registration(c, language="it")).status == 201
    api.call("POST", "/registrations/confirmations", {"token": mailbox.last_to(c.email).token()})
    token = api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password}).json()["token"]
    with time_machine.travel(ISSUED, tick=False):
        r = api.call("GET", statement_path(), token=token, accept=PDF)
    assert r.status == 200
    text = squeezed_spaces(pdf_text(r.content)[0])
    for expected in (
        "Statement of Results",  # kept in English (glossary-it.md)
        "Nome del candidato",
        "ID Number",
        "Centro d'Esame",
        "Punteggio complessivo",
        "Livello QCER (CEFR)",
        "5 ottobre 2004",  # date of birth
        "20 giugno 2026",  # exam date
        "Paper Based (cartaceo)",
        "22 agosto 2026",  # certificate
        "3 agosto 2026 14:05 UTC",
        "con il tuo ID Number e il tuo Secret Number",
        "Use of English",  # skill names kept in English
    ):
        assert expected in text, expected
    assert "Candidate name" not in text and "Date of birth" not in text
    assert SECRET not in text


def test_changing_the_language_changes_the_statement(api, candidate):
    _c, token = candidate()
    r = api.call("PATCH", "/me", {"language": "it"}, token=token)
    assert (r.status, r.json()["language"]) == (200, "it")
    text = pdf_text(api.call("GET", statement_path(), token=token, accept=PDF).content)[0]
    assert "Nome del candidato" in text
    api.call("PATCH", "/me", {"language": "en"}, token=token)
    assert "Candidate name" in pdf_text(api.call("GET", statement_path(), token=token, accept=PDF).content)[0]


def test_a_hostile_long_name_prints_as_text_in_full_on_one_page(api, candidate):
    name = ("<b>x</b> " * 23 + "<b>x</b>")[:200]
    centre = "Centre <script>alert(1)</script> " + "Ł" * 160
    assert len(name) == 200
    _c, token = candidate(name=name, centre_name=centre[:200])
    r = api.call("GET", statement_path(), token=token, accept=PDF)
    assert r.status == 200
    text, reader = pdf_text(r.content)
    assert len(reader.pages) == 1
    assert squeezed(name) in squeezed(text)  # wrapped over lines, never cut
    assert squeezed(centre[:200]) in squeezed(text)


def test_a_name_without_spaces_is_wrapped_not_cut(api, candidate):
    name = "Q" * 200
    _c, token = candidate(name=name)
    text = pdf_text(api.call("GET", statement_path(), token=token, accept=PDF).content)[0]
    assert name in squeezed(text)


def test_pending_overdue_unknown_and_other_candidates_sessions_are_the_same_404(api, registered, seed, exams):
    pending, overdue, other = "C1A-2026-06-20-PB", "B2F-2026-05-01-CB", "C2P-2026-06-01-PB"
    exams.session(pending, "C1A", date(2026, 6, 20), "PB", AVAILABLE)
    exams.session(overdue, "B2F", date(2026, 5, 1), "CB", AVAILABLE, released_at=RELEASED)
    exams.session(other, "C2P", date(2026, 6, 1), "PB", AVAILABLE, released_at=RELEASED)
    # Someone else's released result in a session that exists.
    seed(id_number="OTHER0001", secret_number="5555", session_id=other)
    exams.result("OTHER0001", other, 225, "A", "C2", {**SKILLS, "reading": 225})
    _c, token = registered(session_id=pending)
    exams.result("ABC123456", pending, 189, "C", "C1", SKILLS)  # a result, but not released
    _o, overdue_token = registered(id_number="LATE00001", session_id=overdue, email="late@example.com")

    answers = [
        api.call("GET", statement_path(pending), token=token, accept=PDF),
        api.call("GET", statement_path(overdue), token=overdue_token, accept=PDF),
        api.call("GET", statement_path(other), token=token, accept=PDF),
        api.call("GET", statement_path("NO-SUCH-SESSION"), token=token, accept=PDF),
        api.call("GET", statement_path("%2E%2E"), token=token, accept=PDF),
        api.call("GET", statement_path("x" * 2000), token=token, accept=PDF),
    ]
    assert [a.status for a in answers] == [404] * len(answers)
    assert {a.json()["code"] for a in answers} == {"not_found"}
    assert len({a.body for a in answers}) == 1
    assert all(a.header("Content-Type") == "application/json" for a in answers)


def test_statement_needs_a_live_session_token(api, candidate):
    _c, token = candidate()
    for auth in (None, "Bearer nope", f"Basic {token}"):
        headers = {"Accept": PDF} | ({"Authorization": auth} if auth else {})
        r = api.request("GET", statement_path(), None, headers)
        assert (r.status, r.json()["code"]) == (401, "unauthorized")
    api.call("DELETE", "/sessions/current", token=token)
    r = api.call("GET", statement_path(), token=token, accept=PDF)
    assert (r.status, r.json()["code"]) == (401, "unauthorized")


def test_api_gateway_sends_bytes_only_for_the_binary_media_types(api, candidate):
    """The template's BinaryMediaTypes: Accept: application/pdf gets the PDF bytes; a client whose
    first Accept type is something else gets the base64 text, as API Gateway answers it."""
    _c, token = candidate()
    binary = api.call("GET", statement_path(), token=token, accept=PDF)
    assert binary.content.startswith(b"%PDF-")
    text = api.call("GET", statement_path(), token=token, accept="text/html, application/pdf")
    assert not text.content.startswith(b"%PDF-")
    assert base64.b64decode(text.content).startswith(b"%PDF-")


def text_heights(content: bytes) -> list[tuple[float, str]]:
    """(points above the bottom of the page, text) of every text fragment of the first page."""
    found: list[tuple[float, str]] = []

    def visit(text, cm, tm, font, size):  # type: ignore[no-untyped-def]
        if text.strip():
            found.append((tm[5] * cm[3] + cm[5], text.strip()))

    PdfReader(io.BytesIO(content)).pages[0].extract_text(visitor_text=visit)
    return found


@pytest.mark.parametrize("language", ["en", "it"])
def test_every_field_at_its_longest_still_fits_one_page_above_the_footer(api, candidate, language):
    """The entries file allows 200 characters for names, numbers and the centre: all at once, the
    page is laid out tighter rather than running into the footer or off the page."""
    long = {
        "name": "Maximiliana " * 16 + "Ł" * 8,
        "candidate_number": "N" * 200,
        "centre_number": "C" * 200,
        "centre_name": "Centre of " * 20,
    }
    _c, token = candidate(**long)
    api.call("PATCH", "/me", {"language": language}, token=token)
    r = api.call("GET", statement_path(), token=token, accept=PDF)
    text, reader = pdf_text(r.content)
    assert len(reader.pages) == 1
    for value in long.values():
        assert squeezed(value[:200]) in squeezed(text)
    heights = text_heights(r.content)
    footer_pt = (297 - 285) * 72 / 25.4  # the footer's baseline, 12 mm above the bottom edge
    body = [(y, t) for y, t in heights if abs(y - footer_pt) > 0.5]  # all but the footer line
    assert min(y for y, _ in body) > footer_pt + 10, sorted(body)[:3]
    assert max(y for y, _ in heights) < 842
