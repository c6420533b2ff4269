"""Markup is data on the pages (SPEC §4): a candidate name holding markup, uploaded by an exam
board, is shown as text on the results, account and verification pages — no element, no
handler, no link made from it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import Page, expect

from devtools.local.localproc import LocalProcess
from tests.e2e.browser.conftest import Shots
from tests.e2e.browser.test_account_pages import HEADER, PASSWORD
from tests.e2e.browser.test_candidate_pages import log_in
from tests.e2e.browser.test_results_pages import upload

ID, SECRET = "MARKUP001", "97531"
NAME = '<img src=x onerror="window.__xss=1"><a href="https://evil.example/login">Log in here</a>'


def _csv(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _register_confirmed(local: LocalProcess, email: str) -> None:
    body = {"id_number": ID, "secret_number": SECRET, "email": email, "password": PASSWORD}
    status, answer = local.json(
        "POST", "/api/registrations", {**body, "confirm_password": PASSWORD, "accept_terms": True}
    )
    assert status == 201, answer
    # The name's URL is in the email's text too (as text): take our own link, the one with a token.
    [link] = [url for url in local.wait_for_mail(email)["links"] if "token=" in url]
    token = re.search(r"token=([\w-]+)", link).group(1)  # type: ignore[union-attr]
    assert local.json("POST", "/api/registrations/confirmations", {"token": token})[0] == 200


def test_a_name_with_markup_is_text_on_every_page(page: Page, local: LocalProcess, shot: Shots) -> None:
    exam_date = date.today() - timedelta(days=38)
    session = f"B1P-{exam_date}-CB"
    released_by = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    upload(
        local,
        "entries",
        "markup-entries.csv",
        [
            HEADER,
            f"{session},B1P,{exam_date},CB,{ID},{SECRET},0011,{_csv(NAME)},2001-03-04,GB321,"
            f"{_csv('<b>Bold</b> Centre')},{released_by.isoformat()}",
        ],
    )
    upload(
        local,
        "results",
        "markup-results.csv",
        [
            "session_id,id_number,overall_score,grade,cefr_level,reading,use_of_english,writing,listening,speaking",
            f"{session},{ID},155,B,B1,150,,155,160,155",
        ],
    )
    status, answer = local.control("/_local/release")
    assert status == 200 and all(i["ok"] for i in answer["invocations"]), answer
    _register_confirmed(local, "markup@example.com")

    def no_markup_from_the_name() -> None:
        assert page.locator("main img, main a[href*='evil.example']").count() == 0
        assert page.evaluate("window.__xss") is None

    page.goto("/login.html")
    log_in(page, ID, PASSWORD)
    page.wait_for_url("**/results.html")
    expect(page.locator("#greeting")).to_have_text(f"Hello, {NAME}.")
    expect(page.locator(f"article.result-item[data-session-id='{session}']")).to_have_attribute(
        "data-status", "released"
    )
    no_markup_from_the_name()
    shot(page, "results-markup-name")

    page.goto("/account.html")
    expect(page.locator("#account-candidate_name")).to_have_text(NAME)
    no_markup_from_the_name()

    page.goto("/verify.html")
    page.get_by_label("Candidate ID Number").fill(ID)
    page.get_by_label("Secret Number").fill(SECRET)
    page.get_by_role("button", name="Verify result").click()
    expect(page.locator("#verification-candidate_name")).to_have_text(NAME)
    no_markup_from_the_name()
    shot(page, "verify-markup-name")
