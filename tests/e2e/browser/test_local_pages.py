"""The local-only pages a newcomer uses besides the candidate pages: each email's HTML as the
candidate sees it (its own sandboxed CSP: inline styles apply, nothing runs, links work) and the
Confirmation of Entry documents page (the pages' CSP, no violation)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from devtools.local.localproc import LocalProcess
from devtools.local.server import ENTRY_COLUMNS
from tests.e2e.browser.conftest import demo
from tests.e2e.browser.test_csp import RECORD


def test_an_emails_html_renders_styled_without_scripts_and_its_link_opens_the_local_page(
    page: Page, local: LocalProcess
) -> None:
    # A candidate of its own (the demo ones belong to the journeys of the other browser tests).
    pb = demo(local, "PB")
    row = f"{pb['session_id']},C1A,{pb['exam_date']},PB,HTMLVW01,48151623,0009,Hana View,2004-05-17,GB123,Oxford,"
    status, answer = local.control(
        "/_local/upload?kind=entries&name=html-view.csv", f"{ENTRY_COLUMNS}\r\n{row}\r\n".encode()
    )
    assert status == 200 and answer["report"]["status"] == "accepted", answer
    status, body = local.json(
        "POST",
        "/api/registrations",
        {
            "id_number": "HTMLVW01",
            "secret_number": "48151623",
            "email": "html.view@example.com",
            "password": "Blue-Harbour-73",
            "confirm_password": "Blue-Harbour-73",
            "accept_terms": True,
        },
    )
    assert status == 201, body
    local.wait_for_mail("html.view@example.com")
    page.add_init_script(RECORD)
    page.goto("/_local/mailbox")
    mail = page.locator("article.mail", has_text="html.view@example.com").first
    mail.get_by_role("link", name=re.compile("as the candidate sees it")).click()
    page.wait_for_url(re.compile(r"/_local/mailbox/\d+\.html$"))
    # The email's inline style applies (its CSP allows inline style, nothing else).
    assert "sans-serif" in page.evaluate("getComputedStyle(document.body).fontFamily")
    assert page.evaluate("window.__violations") == []
    # Sandboxed: no script of the page runs (an inline one added now is refused).
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__ran = 1'; document.body.append(s); }""")
    assert page.evaluate("window.__ran") is None
    page.locator("a[href*='/confirm.html?token=']").first.click()
    page.wait_for_url(re.compile(r"/confirm\.html\?token="))
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_the_documents_page_loads_under_the_csp_linked_from_the_mailbox(page: Page, local: LocalProcess) -> None:
    page.add_init_script(RECORD)
    page.goto("/_local/mailbox")
    page.get_by_role("link", name="Confirmation of Entry documents").click()
    page.wait_for_url("**/_local/documents")
    expect(page.get_by_role("heading", level=1, name="Confirmation of Entry documents")).to_be_visible()
    assert page.evaluate("window.__violations") == []
