"""The candidate pages write data only as text (SPEC §4 "Markup is data"): no script of the
site uses an HTML sink. The browser test ``tests/e2e/browser/test_hostile_name.py`` shows a hostile
name as text on the pages; this check names the line of any sink added later, without a browser.
"""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
SINKS = re.compile(
    r"\.(innerHTML|outerHTML|insertAdjacentHTML|srcdoc)\b|document\.write(ln)?\s*\(|\.createContextualFragment\s*\("
    r"|\beval\s*\(|\bnew\s+Function\s*\(|setTimeout\s*\(\s*['\"]|setInterval\s*\(\s*['\"]"
)
COMMENTS = re.compile(r"/\*.*?\*/|(?<![:\\])//[^\n]*", re.S)


def _code(text: str) -> str:
    """The text with comments blanked (line numbers kept)."""
    return COMMENTS.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)


def test_no_page_script_writes_html() -> None:
    scripts = sorted(WEB.rglob("*.js"))
    assert len(scripts) >= 8  # app.js, config.js and the page scripts
    found = []
    for path in scripts:
        for number, line in enumerate(_code(path.read_text()).splitlines(), start=1):
            if SINKS.search(line):
                found.append(f"{path.relative_to(WEB)}:{number}: {line.strip()}")
    for page in sorted(WEB.glob("*.html")):
        for number, line in enumerate(page.read_text().splitlines(), start=1):
            if SINKS.search(line) or re.search(r"\son[a-z]+\s*=", line):
                found.append(f"{page.name}:{number}: {line.strip()}")
    assert found == [], "HTML sinks in the pages' scripts (write text with textContent):\n" + "\n".join(found)
