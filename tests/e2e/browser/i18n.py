"""Helpers for the language tests: the pages' catalogues and the check that every visible text comes from one."""

from __future__ import annotations

import json
import re
from functools import cache

from playwright.sync_api import Page

from devtools.harness.template import ROOT

LOCALES = ROOT / "web" / "locales"
PLACEHOLDER = re.compile(r"\{[A-Za-z0-9_]+\}")


def languages() -> dict[str, dict[str, str]]:
    value: dict[str, dict[str, str]] = json.loads((LOCALES / "languages.json").read_text(encoding="utf-8"))
    return value


@cache
def catalogue(lang: str) -> dict[str, str]:
    value: dict[str, str] = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    return value


def pages() -> list[str]:
    return sorted(p.name for p in (ROOT / "web").glob("*.html"))


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@cache
def patterns(lang: str) -> tuple[re.Pattern[str], ...]:
    """Every text a page in ``lang`` may show: each catalogue text, and each run of its pieces.

    A text with placeholders is shown as several nodes when a placeholder holds an element (a link,
    a date): "Find your {0} and {1} on…" is the nodes "Find your", "and", "on…". So a visible text
    node must match a run of consecutive pieces, the placeholders between them holding anything.
    Runs of nothing but punctuation (".", "·") are left out: they would match anything's ends.
    """
    out: list[re.Pattern[str]] = []
    names = [v["name"] for v in languages().values()]
    for text in [*catalogue(lang).values(), *names]:
        for line in text.split("\n"):
            pieces = [_squash(p) for p in PLACEHOLDER.split(line)]
            for i in range(len(pieces)):
                for j in range(i, len(pieces)):
                    run = pieces[i : j + 1]
                    if not any(re.search(r"\w", p) for p in run):
                        continue
                    out.append(re.compile(r"\s*(?:.+?)?\s*".join(re.escape(p) for p in run)))
    return tuple(out)


# Visible text nodes outside data (translate="no": names, numbers, e-mail addresses), dates
# (<time>: Intl.DateTimeFormat in the page's language) and the API's own messages
# ([data-api-text]: written in the Accept-Language the page sent), with the attributes people hear.
VISIBLE_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.nodeValue.replace(/\\s+/g, ' ').trim();
    const parent = n.parentElement;
    if (!text || !parent || parent.closest('[translate="no"], [data-api-text], time, script, style, noscript')) continue;
    if (!parent.checkVisibility({ visibilityProperty: true, opacityProperty: false })) continue;
    out.push(text);
  }
  for (const node of document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
    for (const attr of ['aria-label', 'title', 'placeholder', 'alt']) {
      const v = node.getAttribute(attr);
      if (v && v.trim()) out.push(v.trim());
    }
  }
  out.push(document.title);
  return out;
}"""


def untranslated(page: Page, lang: str) -> list[str]:
    """The visible texts of ``page`` that no catalogue text of ``lang`` accounts for."""
    texts: list[str] = page.evaluate(VISIBLE_TEXTS)
    allowed = patterns(lang)
    # Punctuation alone ("—" for an empty value, "·") is in no language.
    return [t for t in texts if re.search(r"\w", t) and not any(p.fullmatch(_squash(t)) for p in allowed)]


def wait_translated(page: Page, lang: str) -> None:
    page.wait_for_selector(f"html[data-i18n-ready='{lang}']", state="attached")
