"""The whole candidate journey with the keyboard only (Tab, Shift+Tab, Enter, Space and typing):
register (a mistake first: the error summary takes the focus and links to the field), confirm from
the mailbox's link, log in, see the result, download the Statement of Results, log out. Every
element the focus lands on shows it (an outline or a box-shadow)."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import Page, expect

from devtools.local.localproc import LocalProcess
from tests.e2e.browser.test_results_pages import upload

ID, SECRET, NAME = "KEYBRD001", "97531864", "Kim Keyboard"
PASSWORD = "Maple-Lantern-62"
EMAIL = "kim.keyboard@example.com"

FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  const shadow = s.boxShadow && s.boxShadow !== 'none';
  return { outline, shadow, what: el.tagName + (el.id ? '#' + el.id : '') + ' ' + (el.textContent || '').trim().slice(0, 30) };
}"""


def released_entry(local: LocalProcess) -> str:
    exam_date = date.today() - timedelta(days=40)
    session = f"C1A-{exam_date}-PB"
    release_at = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    upload(
        local,
        "entries",
        "keyboard-entries.csv",
        [
            "session_id,exam,exam_date,format,id_number,secret_number,candidate_number,candidate_name,"
            "date_of_birth,centre_number,centre_name,results_available_by",
            f"{session},C1A,{exam_date},PB,{ID},{SECRET},0555,{NAME},2002-07-08,GB321,York Language School,"
            f"{release_at.isoformat()}",
        ],
    )
    upload(
        local,
        "results",
        "keyboard-results.csv",
        [
            "session_id,id_number,overall_score,grade,cefr_level,reading,use_of_english,writing,listening,speaking",
            f"{session},{ID},195,B,C1,198,190,195,200,192",
        ],
    )
    time.sleep(max(0.0, (release_at - datetime.now(UTC)).total_seconds()) + 0.5)
    status, answer = local.control("/_local/release")
    assert status == 200 and all(i["ok"] for i in answer["invocations"]), answer
    return session


def assert_focus_shown(page: Page) -> str:
    state = page.evaluate(FOCUS_SHOWN)
    assert state is not None, "the focus is nowhere"
    assert state["outline"] or state["shadow"], f"no visible focus on {state['what']}"
    return str(state["what"])


def tab_to(page: Page, selector: str, *, limit: int = 40) -> None:
    """Press Tab until ``selector`` has the focus, checking that every stop shows it."""
    page.wait_for_selector("html[data-i18n-ready]", state="attached")  # the page shows once translated
    for _ in range(limit):
        page.keyboard.press("Tab")
        assert_focus_shown(page)
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the focus in {limit} presses of Tab")


def type_into(page: Page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.type(text)


def test_register_confirm_log_in_download_and_log_out_with_the_keyboard_only(page: Page, local: LocalProcess) -> None:
    session = released_entry(local)

    page.goto("/index.html")
    tab_to(page, "a.skip-link")
    tab_to(page, ".site-nav a[href='register.html']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/register.html")

    # A mistake first: the summary takes the focus, lists each error, and its links lead to the fields.
    type_into(page, "#id_number", ID)
    tab_to(page, "#register-form button[type=submit]")
    page.keyboard.press("Enter")
    summary = page.locator("#alert")
    expect(summary).to_be_focused()
    assert_focus_shown(page)
    expect(summary.locator(".alert__list a")).to_have_count(5)  # secret, email, both passwords, terms
    tab_to(page, "#alert a[href='#secret_number']", limit=3)
    page.keyboard.press("Enter")
    expect(page.locator("#secret_number")).to_be_focused()
    page.keyboard.type(SECRET)
    type_into(page, "#email", EMAIL)
    type_into(page, "#password", PASSWORD)
    type_into(page, "#confirm_password", PASSWORD)
    tab_to(page, "#accept_terms")
    page.keyboard.press("Space")
    expect(page.locator("#accept_terms")).to_be_checked()
    tab_to(page, "#register-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#alert")).to_contain_text(EMAIL)

    # The candidate opens the link in the email (the local mailbox holds it).
    link = next(u for u in local.wait_for_mail(EMAIL)["links"] if "/confirm.html?token=" in u)
    page.goto(link)
    expect(page.locator("#confirm-success")).to_be_visible()
    tab_to(page, "#login-link")
    page.keyboard.press("Enter")
    page.wait_for_url("**/login.html")

    type_into(page, "#id_number", ID)
    type_into(page, "#password", PASSWORD)
    page.keyboard.press("Enter")  # Enter in a field submits the form
    page.wait_for_url("**/results.html")
    item = page.locator(f"article.result-item[data-session-id='{session}']")
    expect(item).to_have_attribute("data-status", "released")

    tab_to(page, "button.download-statement")
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    assert info.value.path().read_bytes().startswith(b"%PDF-")
    expect(item.locator(".download-status")).not_to_be_empty()

    # Back up the page to the header's Log out (Shift+Tab), then Space on it.
    for _ in range(40):
        page.keyboard.press("Shift+Tab")
        assert_focus_shown(page)
        if page.evaluate("document.activeElement.id") == "nav-logout":
            break
    else:
        raise AssertionError("Log out never got the focus")
    page.keyboard.press("Space")
    page.wait_for_url("**/index.html")
    expect(page.locator("#alert")).to_have_class(re.compile("alert--success"))
    assert page.evaluate("sessionStorage.getItem('er_token')") is None
