"""Confirmation of Entry documents (issue 8): what a centre prints and hands each candidate.

For one centre and one exam session: a PDF with one A4 page per candidate (exam and sitting,
candidate, centre, when results are available in UK time, the ID Number and Secret Number in a
box, the registration web address, short instructions) and a CSV of the same rows for the
centre's own mail merge. Pure code: the entries import puts the bytes into S3.

Fonts: DejaVu Sans, shipped in the layer (``fonts/``, subset to Latin, Greek and Cyrillic by
``devtools/make_fonts.py``) and embedded subset in each PDF, so names such as "Łukasz Żółć",
"Σοφία" or "Дмитрий" print as written. A character the font lacks (Chinese, Arabic, ...) is
transliterated to Latin letters (``anyascii``) and the page says so; the CSV always holds the
name exactly as the entries file gave it.

Secret Numbers are in the documents' bytes only: ``Confirmation`` keeps the secret out of its
repr, and nothing here logs.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote
from zoneinfo import ZoneInfo

from exam_results.catalogue import EXAMS
from exam_results.files.report import derived_key

if TYPE_CHECKING:
    from fpdf import FPDF

# fpdf2, fontTools and anyascii are imported where they are used: only the entries import
# renders documents, and the other functions that load this layer's uploads code (results
# publication) should not pay for them at cold start.

__all__ = [
    "CONFIRMATIONS_PREFIX",
    "CSV_COLUMNS",
    "Confirmation",
    "Sitting",
    "confirmation_key",
    "new_pdf",
    "printable",
    "render_csv",
    "render_pdf",
    "wrap",
]

CONFIRMATIONS_PREFIX = "confirmations/"
UK = ZoneInfo("Europe/London")
FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
FORMAT_NAMES = {"PB": "paper-based", "CB": "computer-based"}

CSV_COLUMNS = (
    "centre_number",
    "centre_name",
    "session_id",
    "exam",
    "exam_name",
    "exam_date",
    "format",
    "results_available_by",
    "candidate_number",
    "candidate_name",
    "date_of_birth",
    "id_number",
    "secret_number",
    "register_url",
)


@dataclass(frozen=True, slots=True)
class Sitting:
    """The exam session the documents are for."""

    session_id: str
    exam_code: str
    exam_date: date
    format: str
    results_available_by: datetime  # aware

    @property
    def exam_name(self) -> str:
        return EXAMS[self.exam_code].name

    @property
    def available_uk(self) -> str:
        """``25 July 2026 09:00 (UK time)``: the instant in Europe/London, summer time included."""
        local = self.results_available_by.astimezone(UK)
        return f"{_long_date(local.date())} {local:%H:%M} (UK time)"


@dataclass(frozen=True, slots=True)
class Confirmation:
    """One candidate's page. The secret is left out of repr, so it never reaches a log."""

    id_number: str
    secret_number: str = field(repr=False)
    candidate_number: str
    candidate_name: str
    date_of_birth: date
    centre_number: str
    centre_name: str


def confirmation_key(centre_number: str, session_id: str, source_key: str, suffix: str) -> str:
    """``confirmations/<centre_number>/<session_id>/<key of the file><suffix>``, or
    ``.../<session_id>/_long/<sha256 of the key><suffix>`` when that is over S3's 1,024 bytes.

    The centre number is percent-encoded where it holds anything but letters, digits, ``-``,
    ``_`` and ``.`` (a ``/`` would add a level; encoding keeps distinct centres distinct); the
    entries import accepts only the exam boards' format (``GB123``), so it is bounded too.
    """
    return derived_key(f"{CONFIRMATIONS_PREFIX}{quote(centre_number, safe='-_.')}/{session_id}/", source_key, suffix)


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


# --------------------------------------------------------------------------------------------
# Text the fonts can print


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    """Code points both shipped fonts have glyphs for."""
    from fontTools.ttLib import TTFont

    points: set[int] | None = None
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        font = TTFont(FONTS / name, lazy=True)
        cmap = set(font.getBestCmap())
        font.close()
        points = cmap if points is None else points & cmap
    return frozenset(points or ())


_WIDE = ((0x1100, 0x11FF), (0x2E80, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))


def _wide(ch: str) -> bool:
    point = ord(ch)
    return any(low <= point <= high for low, high in _WIDE)


def printable(text: str) -> tuple[str, bool]:
    """``text`` as the PDF fonts can print it, and whether it had to be transliterated.

    Characters the fonts lack are first composed (NFC: a base letter and a combining accent the
    font has as one glyph), then decomposed (a letter whose accent the font lacks keeps its base
    letter), then transliterated with ``anyascii`` (Chinese and Korean syllables come out
    separated by spaces, "陈伟" → "Chen Wei"); a symbol (an emoji) or a character with no
    transliteration prints as "?".
    """
    from anyascii import anyascii

    covered = _covered()
    text = unicodedata.normalize("NFC", text)
    if all(ord(ch) in covered for ch in text):
        return text, False
    out: list[str] = []
    previous_wide = False
    for ch in text:
        if ord(ch) in covered:
            out.append(ch)
            previous_wide = False
            continue
        decomposed = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) in covered)
        symbol = unicodedata.category(ch).startswith("S")  # emoji and the like: no letters to print
        latin = decomposed or ("" if symbol else anyascii(ch)) or "?"
        if _wide(ch) and previous_wide:
            out.append(" ")
        out.append(latin if all(ord(c) in covered for c in latin) else "?")
        previous_wide = _wide(ch)
    return "".join(out), True


# --------------------------------------------------------------------------------------------
# PDF

_PAGE_W = 210.0
_MARGIN = 20.0
_TEXT_W = _PAGE_W - 2 * _MARGIN
_LABEL_W = 52.0
_VALUE_SIZES = (11.0, 10.0, 9.0, 8.0, 7.0)
"""Font sizes (pt) tried for a value (name, centre) until it fits in 3 lines."""
_MAX_VALUE_LINES = 5


def new_pdf(title: str) -> FPDF:
    """An A4 portrait document in mm, no automatic page breaks, with the shipped fonts as
    ``FONT`` (regular ``""`` and bold ``"B"``): the setup every document of the service shares."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_author("Exam Results Service")
    pdf.set_creator("Exam Results Service")
    return pdf


def wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Lines of at most ``width`` mm in the document's current font (words longer than that are
    cut, never dropped)."""
    width_of = pdf.get_string_width
    lines: list[str] = []
    line = ""
    for word in text.split():
        while width_of(word) > width:  # one very long word: cut it
            cut = len(word)
            while cut > 1 and width_of(word[:cut]) > width:
                cut -= 1
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{line} {word}" if line else word
        if width_of(candidate) <= width:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines or [""]


class _Document:
    def __init__(self, sitting: Sitting, register_url: str) -> None:
        pdf = new_pdf(f"Confirmation of Entry: {sitting.exam_name}, {sitting.session_id}")
        self.pdf = pdf
        self.sitting = sitting
        self.register_url, _ = printable(register_url)
        self.exam_line, _ = printable(
            f"{_long_date(sitting.exam_date)} · {FORMAT_NAMES.get(sitting.format, sitting.format)}"
            f" · session {sitting.session_id}"
        )
        self.available = sitting.available_uk
        pdf.set_font(FONT, "", 10)
        self.steps = [
            self._wrap(text, _TEXT_W - 8)
            for text in (
                f"Go to {self.register_url} and choose Register. Enter your ID Number and Secret "
                "Number exactly as printed above, your email address and a password of your choice.",
                "Confirm your email address with the link we send you. From then on you log in with "
                "your ID Number and your password: the Secret Number is needed only to register.",
                f"Your results will be online by {self.available}. We email you as soon as they are.",
                "Keep this page safe and do not share your Secret Number, except with a university or "
                "employer that verifies your result. If you lose it, ask your centre for a new one: "
                "the old one then stops working.",
            )
        ]

    def _wrap(self, text: str, width: float) -> list[str]:
        return wrap(self.pdf, text, width)

    def _fit(self, value: str, width: float) -> tuple[float, list[str]]:
        """``value`` in bold, wrapped to ``width``: 3 lines at the largest of ``_VALUE_SIZES``
        that holds it, else 5 lines at the smallest (any 200 characters of Latin text fit).
        Only a longer transliteration is cut, and then ends with "…" so the cut shows (the CSV
        has the value in full). Leaves the font set to the size returned."""
        for size in _VALUE_SIZES:
            self.pdf.set_font(FONT, "B", size)
            lines = self._wrap(value, width)
            if len(lines) <= 3:
                return size, lines
        if len(lines) > _MAX_VALUE_LINES:
            lines = lines[:_MAX_VALUE_LINES]
            last = lines[-1]
            while last and self.pdf.get_string_width(f"{last} …") > width:
                last = last[:-1]
            lines[-1] = f"{last.rstrip()} …"
        return size, lines

    def page(self, c: Confirmation) -> None:
        pdf = self.pdf
        pdf.add_page()
        x = _MARGIN
        pdf.set_text_color(90, 90, 90)
        pdf.set_font(FONT, "", 9)
        pdf.text(x, 16, "Exam Results Service")
        pdf.set_draw_color(30, 60, 120)
        pdf.set_line_width(0.8)
        pdf.line(x, 19, _PAGE_W - _MARGIN, 19)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FONT, "B", 22)
        pdf.text(x, 32, "Confirmation of Entry")
        pdf.set_font(FONT, "B", 15)
        pdf.text(x, 43, self.sitting.exam_name)
        pdf.set_font(FONT, "", 11)
        pdf.text(x, 50, self.exam_line)

        name, transliterated = printable(c.candidate_name)
        centre, centre_transliterated = printable(f"{c.centre_number} · {c.centre_name}")
        rows = [
            ("Candidate name", name),
            ("Candidate number", printable(c.candidate_number)[0]),
            ("Date of birth", _long_date(c.date_of_birth)),
            ("Centre", centre),
            ("Results available by", self.available),
        ]
        y = 62.0
        pdf.set_line_width(0.2)
        pdf.set_draw_color(180, 180, 180)
        for label, value in rows:
            pdf.set_font(FONT, "", 10)
            pdf.set_text_color(90, 90, 90)
            pdf.text(x, y, label)
            pdf.set_text_color(0, 0, 0)
            size, lines = self._fit(value, _TEXT_W - _LABEL_W)
            step = 5.5 * size / _VALUE_SIZES[0]
            for line in lines:
                pdf.text(x + _LABEL_W, y, line)
                y += step
            y += 5.5 - step
            pdf.line(x, y - 3, _PAGE_W - _MARGIN, y - 3)
            y += 3.5
        if transliterated or centre_transliterated:
            pdf.set_font(FONT, "", 8)
            pdf.set_text_color(90, 90, 90)
            pdf.text(x, y - 1, "Some characters are shown in Latin letters; your centre has your name as entered.")
            pdf.set_text_color(0, 0, 0)
            y += 4

        # The credentials box
        top = y + 4
        pdf.set_draw_color(30, 60, 120)
        pdf.set_line_width(0.8)
        pdf.rect(x, top, _TEXT_W, 34)
        pdf.set_font(FONT, "", 10)
        pdf.text(x + 6, top + 9, "Your details to register for your results online")
        half = _TEXT_W / 2
        pdf.set_text_color(90, 90, 90)
        pdf.text(x + 6, top + 18, "ID Number")
        pdf.text(x + half + 6, top + 18, "Secret Number")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FONT, "B", 18)
        pdf.text(x + 6, top + 27, c.id_number)
        pdf.text(x + half + 6, top + 27, c.secret_number)

        y = top + 46
        pdf.set_font(FONT, "", 10)
        pdf.text(x, y, "Register at")
        pdf.set_font(FONT, "B", 12)
        pdf.text(x + 24, y, self.register_url)
        y += 11
        pdf.set_font(FONT, "B", 12)
        pdf.text(x, y, "What to do")
        y += 7
        pdf.set_font(FONT, "", 10)
        for number, lines in enumerate(self.steps, start=1):
            pdf.text(x, y, f"{number}.")
            for line in lines:
                pdf.text(x + 8, y, line)
                y += 5
            y += 2.5

        pdf.set_font(FONT, "", 8)
        pdf.set_text_color(90, 90, 90)
        pdf.text(x, 285, f"Centre {printable(c.centre_number)[0]} · {self.sitting.session_id} · {c.id_number}")
        pdf.set_text_color(0, 0, 0)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def render_pdf(sitting: Sitting, confirmations: Sequence[Confirmation], register_url: str) -> bytes:
    """One A4 page per candidate, in the order given."""
    document = _Document(sitting, register_url)
    for confirmation in confirmations:
        document.page(confirmation)
    return document.output()


# --------------------------------------------------------------------------------------------
# CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A text value a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def render_csv(sitting: Sitting, confirmations: Sequence[Confirmation], register_url: str) -> bytes:
    """UTF-8 with a BOM (so spreadsheet programs read names correctly), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    available = sitting.available_uk
    fmt = FORMAT_NAMES.get(sitting.format, sitting.format)
    for c in confirmations:
        writer.writerow(
            (
                _cell(c.centre_number),
                _cell(c.centre_name),
                sitting.session_id,
                sitting.exam_code,
                sitting.exam_name,
                sitting.exam_date.isoformat(),
                fmt,
                available,
                _cell(c.candidate_number),
                _cell(c.candidate_name),
                c.date_of_birth.isoformat(),
                c.id_number,
                c.secret_number,
                register_url,
            )
        )
    return ("\ufeff" + buffer.getvalue()).encode()
