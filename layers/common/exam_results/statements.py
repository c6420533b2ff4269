"""The Statement of Results (issue 14): one A4 page a candidate keeps or prints, in their language.

What the results page shows for a released session (candidate, centre, exam, every skill score,
overall score, grade, CEFR level, when the certificate is expected at the centre), when it was
issued and how an organisation verifies it: the verification page's address and "with your ID
Number and Secret Number". The Secret Number is never an input here, so it cannot be printed.

Same fonts and setup as the Confirmation of Entry (``confirmations.new_pdf``): text is
extractable, names print as written or transliterated with a note. Long values wrap, never cut.
Pure code: the results use case gives it the records and sends the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from exam_results import i18n
from exam_results.catalogue import SKILL_LABELS, SKILLS_ALL
from exam_results.confirmations import FONT, new_pdf, printable, wrap

if TYPE_CHECKING:
    from fpdf import FPDF

__all__ = ["StatementOfResults", "render_statement", "statement_filename"]

_PAGE_W = 210.0
_MARGIN = 20.0
_TEXT_W = _PAGE_W - 2 * _MARGIN
_LABEL_W = 58.0
_SCORE_X = 120.0
_GREY = (90, 90, 90)
_BLUE = (30, 60, 120)


@dataclass(frozen=True, slots=True)
class StatementOfResults:
    """Everything one statement prints (a released session with a result)."""

    language: str
    candidate_name: str
    id_number: str
    candidate_number: str
    date_of_birth: date
    centre_number: str
    centre_name: str
    session_id: str
    exam_name: str
    exam_date: date
    format: str
    skills: dict[str, int]
    overall_score: int
    grade: str
    cefr_level: str | None
    certificate_expected_by: date
    issued_at: datetime  # aware
    verify_url: str


def statement_filename(session_id: str) -> str:
    """``statement-of-results-<session>.pdf``, with only safe characters for a header value."""
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in session_id)
    return f"statement-of-results-{safe}.pdf"


def _skill_order(skills: dict[str, int]) -> list[str]:
    known = [s for s in SKILLS_ALL if s in skills]
    return known + sorted(s for s in skills if s not in SKILLS_ALL)


class _Page:
    def __init__(self, s: StatementOfResults, k: float = 1.0) -> None:
        self.s = s
        self.k = k  # vertical spacing (and, below 1, smaller values): the page must hold every value
        self.lang = i18n.supported(s.language)
        self.pdf: FPDF = new_pdf(self.t("statement.document_title", exam=s.exam_name, session_id=s.session_id))
        self.pdf.add_page()
        self.y = 0.0
        self.transliterated = False

    def t(self, key: str, **values: object) -> str:
        return i18n.text(self.lang, key, **values)

    def printable(self, text: str) -> str:
        out, changed = printable(text)
        self.transliterated = self.transliterated or changed
        return out

    def font(self, size: float, bold: bool = False, colour: tuple[int, int, int] = (0, 0, 0)) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", size)
        self.pdf.set_text_color(*colour)

    def lines(self, x: float, text: str, width: float, step: float) -> None:
        for line in wrap(self.pdf, text, width):
            self.pdf.text(x, self.y, line)
            self.y += step

    def rule(self, colour: tuple[int, int, int] = (180, 180, 180), width: float = 0.2) -> None:
        self.pdf.set_draw_color(*colour)
        self.pdf.set_line_width(width)
        self.pdf.line(_MARGIN, self.y, _PAGE_W - _MARGIN, self.y)

    def row(self, label: str, value: str) -> None:
        """A label and its value, each wrapped to as many lines as it needs (a long Italian label
        too), then a thin rule under the longer of the two."""
        top = self.y
        self.font(10, colour=_GREY)
        self.lines(_MARGIN, label, _LABEL_W - 4, 5.5 * self.k)
        label_end, self.y = self.y, top
        self.font(11 if self.k == 1 else 9, bold=True)
        self.lines(_MARGIN + _LABEL_W, value, _TEXT_W - _LABEL_W, 5.5 * self.k)
        self.y = max(self.y, label_end) - 2.5 * self.k
        self.rule()
        self.y += 6.0 * self.k

    def header(self) -> None:
        s, pdf, x = self.s, self.pdf, _MARGIN
        self.font(9, colour=_GREY)
        pdf.text(x, 16, self.t("service.name"))
        self.y = 19
        self.rule(_BLUE, 0.8)
        self.font(22, bold=True)
        pdf.text(x, 32, self.t("statement.title"))
        self.font(15, bold=True)
        pdf.text(x, 43, self.printable(s.exam_name))
        self.font(11)
        self.y = 50
        line = self.t(
            "statement.exam_line",
            date=i18n.format_date(s.exam_date, self.lang),
            format=self.t(f"format.{s.format}") if s.format in ("PB", "CB") else s.format,
            session_id=s.session_id,
        )
        self.lines(x, self.printable(line), _TEXT_W, 5.5)
        self.y += 6 * self.k

    def candidate(self) -> None:
        s = self.s
        self.row(self.t("statement.candidate_name"), self.printable(s.candidate_name))
        self.row(self.t("statement.id_number"), s.id_number)
        self.row(self.t("statement.candidate_number"), self.printable(s.candidate_number))
        self.row(self.t("statement.date_of_birth"), i18n.format_date(s.date_of_birth, self.lang))
        self.row(self.t("statement.centre"), self.printable(f"{s.centre_number} · {s.centre_name}"))

    def results(self) -> None:
        s, pdf, x = self.s, self.pdf, _MARGIN
        self.y += 2 * self.k
        self.font(13, bold=True)
        pdf.text(x, self.y, self.t("statement.results"))
        self.y += 8 * self.k
        self.font(9, colour=_GREY)
        pdf.text(x, self.y, self.t("statement.skill"))
        pdf.text(_SCORE_X, self.y, self.t("statement.score"))
        self.y += 2 * self.k
        self.rule()
        self.y += 5.5 * self.k
        for skill in _skill_order(s.skills):
            self.font(11)
            pdf.text(x, self.y, self.printable(SKILL_LABELS.get(skill, skill)))
            pdf.text(_SCORE_X, self.y, i18n.format_number(s.skills[skill], self.lang))
            self.y += 6.5 * self.k
        self.y -= 3
        self.rule(_BLUE, 0.5)
        self.y += 7 * self.k
        cefr = s.cefr_level or self.t("statement.no_cefr_level")
        for label, value in (
            (self.t("statement.overall_score"), i18n.format_number(s.overall_score, self.lang)),
            (self.t("statement.grade"), s.grade),
            (self.t("statement.cefr_level"), cefr),
        ):
            self.font(11, bold=True)
            pdf.text(x, self.y, label)
            self.font(12, bold=True)
            pdf.text(_SCORE_X, self.y, value)
            self.y += 7 * self.k
        self.y += 3 * self.k

    def dates_and_verification(self) -> None:
        s, x = self.s, _MARGIN
        self.row(self.t("statement.certificate"), i18n.format_date(s.certificate_expected_by, self.lang))
        issued = i18n.format_instant(s.issued_at, self.lang, UTC)
        self.row(self.t("statement.issued"), self.t("statement.instant_utc", when=issued))
        self.y += 2 * self.k
        top = self.y - 6
        self.font(12, bold=True)
        self.pdf.text(x + 5, self.y, self.t("statement.verify_heading"))
        self.y += 7 * self.k
        self.font(10)
        self.lines(x + 5, self.t("statement.verify_text", url=printable(s.verify_url)[0]), _TEXT_W - 10, 5 * self.k)
        self.lines(x + 5, self.t("statement.secret_note"), _TEXT_W - 10, 5 * self.k)
        self.pdf.set_draw_color(*_BLUE)
        self.pdf.set_line_width(0.6)
        self.pdf.rect(x, top, _TEXT_W, self.y - top)
        self.y += 8 * self.k

    def footer(self) -> None:
        s, pdf, x = self.s, self.pdf, _MARGIN
        self.font(9, colour=_GREY)
        self.lines(x, self.t("statement.provisional"), _TEXT_W, 4.5 * self.k)
        if self.transliterated:
            self.lines(x, self.t("statement.transliterated"), _TEXT_W, 4.5 * self.k)
        self.font(8, colour=_GREY)
        footer = self.t(
            "statement.footer", centre=printable(s.centre_number)[0], session_id=s.session_id, id_number=s.id_number
        )
        pdf.text(x, 285, wrap(pdf, footer, _TEXT_W)[0])

    def render(self) -> tuple[bytes, float]:
        """The document, and where its last line of text ended (mm from the top)."""
        self.header()
        self.candidate()
        self.results()
        self.dates_and_verification()
        self.footer()
        return bytes(self.pdf.output()), self.y


# Where the body must end: the footer line is at 285 mm.
_BODY_END = 278.0


def render_statement(statement: StatementOfResults) -> bytes:
    """The one-page PDF. Names, numbers and centre names up to the entries file's 200 characters
    each can take many lines: when the body would run into the footer, the page is laid out again
    tighter (smaller values, less spacing), never cut."""
    content, bottom = _Page(statement).render()
    if bottom > _BODY_END:
        content, bottom = _Page(statement, k=0.78).render()
    return content
