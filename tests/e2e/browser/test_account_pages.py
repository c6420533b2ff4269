"""More journeys in the browser: an overdue result on a phone, deleting the account, and an
organisation locked out after five wrong Secret Numbers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import Browser, Page, expect

from devtools.local.localproc import LocalProcess
from tests.e2e.browser.conftest import Shots
from tests.e2e.browser.test_candidate_pages import log_in
from tests.e2e.browser.test_results_pages import upload

PASSWORD = "Silver-Lantern-58"
HEADER = (
    "session_id,exam,exam_date,format,id_number,secret_number,candidate_number,candidate_name,"
    "date_of_birth,centre_number,centre_name,results_available_by"
)


def register_confirmed(local: LocalProcess, id_number: str, secret: str, email: str) -> None:
    status, body = local.json(
        "POST",
        "/api/registrations",
        {
            "id_number": id_number,
            "secret_number": secret,
            "email": email,
            "password": PASSWORD,
            "confirm_password": PASSWORD,
            "accept_terms": True,
        },
    )
    assert status == 201, body
    token = re.search(r"token=([\w-]+)", local.wait_for_mail(email)["links"][0]).group(1)
    assert local.json("POST", "/api/registrations/confirmations", {"token": token})[0] == 200


def test_overdue_result_on_a_phone_names_the_centre_then_the_account_is_deleted(
    browser: Browser, local: LocalProcess, shot: Shots
) -> None:
    exam_date = date.today() - timedelta(days=40)
    session = f"B2F-{exam_date}-CB"
    released_by = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    upload(
        local,
        "entries",
        "overdue-entries.csv",
        [
            HEADER,
            f"{session},B2F,{exam_date},CB,OVERDUE01,5512,0007,Olive Overdue,2001-09-09,GB555,"
            f"Leeds Language School,{released_by.isoformat()}",
        ],
    )
    status, answer = local.control("/_local/release")
    assert status == 200 and all(i["ok"] for i in answer["invocations"]), answer
    register_confirmed(local, "OVERDUE01", "5512", "olive@example.com")

    context = browser.new_context(base_url=local.url, viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto("/login.html")
        log_in(page, "OVERDUE01", PASSWORD)
        page.wait_for_url("**/results.html")
        item = page.locator(f"article.result-item[data-session-id='{session}']")
        expect(item).to_have_attribute("data-status", "overdue")
        expect(item).to_contain_text("please contact your centre")
        expect(item).to_contain_text("Leeds Language School")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(page, "results-overdue-phone")

        page.goto("/account.html")
        expect(page.locator("#account-candidate_name")).to_have_text("Olive Overdue")
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#delete-account").click()
        page.wait_for_url(re.compile(r"index\.html|/$"))
        shot(page, "account-deleted")

        page.goto("/login.html")
        log_in(page, "OVERDUE01", PASSWORD)
        expect(page.locator("#alert")).to_contain_text("The ID Number or password is not right")
        shot(page, "login-after-delete")
    finally:
        context.close()


def test_five_wrong_secret_numbers_lock_verification(page: Page, local: LocalProcess, shot: Shots) -> None:
    upload(
        local,
        "entries",
        "lock-entries.csv",
        [HEADER, f"C2P-{date.today()}-PB,C2P,{date.today()},PB,LOCKED001,86420,0001,Lee Locked,2000-01-01,GB1,X,"],
    )
    page.goto("/verify.html")
    for attempt in range(5):
        page.get_by_label("Candidate ID Number").fill("LOCKED001")
        page.get_by_label("Secret Number").fill(f"1111{attempt}")
        page.get_by_role("button", name="Verify result").click()
        if attempt < 4:
            expect(page.locator("#alert")).to_contain_text("No released result matches these details")
    expect(page.locator("#alert")).to_contain_text("Try again in 30 minutes")
    shot(page, "verify-locked")
