"""Results in the browser: pending with the date, released by the schedule, verified by an organisation.

Uses the template's whole pipeline in the local stack: entries and results files uploaded to the
uploads bucket, the release schedule (the local control runs it now), the SQS sender's email.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import Page, expect

from devtools.local.localproc import LocalProcess
from tests.e2e.browser.conftest import Shots

PASSWORD = "Quiet-Meadow-61"
ID, SECRET, NAME = "RELEASE01", "24681357", "Robin Release"


def upload(local: LocalProcess, kind: str, name: str, rows: list[str]) -> None:
    status, answer = local.control(f"/_local/upload?kind={kind}&name={name}", ("\r\n".join(rows) + "\r\n").encode())
    assert status == 200, answer
    assert answer["report"]["status"] == "accepted", answer["report"]


def test_results_pending_then_released_then_verified(page: Page, local: LocalProcess, shot: Shots) -> None:
    exam_date = date.today() - timedelta(days=37)  # not the demo session (36 days)
    session = f"C1A-{exam_date}-PB"
    release_at = (datetime.now(UTC) + timedelta(seconds=12)).replace(microsecond=0)
    upload(
        local,
        "entries",
        "browser-entries.csv",
        [
            "session_id,exam,exam_date,format,id_number,secret_number,candidate_number,candidate_name,"
            "date_of_birth,centre_number,centre_name,results_available_by",
            f"{session},C1A,{exam_date},PB,{ID},{SECRET},0099,{NAME},2003-02-01,GB777,Bath English School,"
            f"{release_at.isoformat()}",
        ],
    )
    upload(
        local,
        "results",
        "browser-results.csv",
        [
            "session_id,id_number,overall_score,grade,cefr_level,reading,use_of_english,writing,listening,speaking",
            f"{session},{ID},185,C,C1,180,185,190,185,185",
        ],
    )
    page.goto("/verify.html")  # an organisation: nothing to verify before the release
    page.get_by_label("Candidate ID Number").fill(ID)
    page.get_by_label("Secret Number").fill(SECRET)
    page.get_by_role("button", name="Verify result").click()
    expect(page.locator("#alert")).to_contain_text("No released result matches these details")
    shot(page, "verify-before-release")

    email = "robin.release@example.com"
    status, body = local.json(
        "POST",
        "/api/registrations",
        {
            "id_number": ID,
            "secret_number": SECRET,
            "email": email,
            "password": PASSWORD,
            "confirm_password": PASSWORD,
            "accept_terms": True,
        },
    )
    assert status == 201, body
    token = re.search(r"token=([\w-]+)", local.wait_for_mail(email)["links"][0]).group(1)
    assert local.json("POST", "/api/registrations/confirmations", {"token": token})[0] == 200

    page.goto("/login.html")
    page.get_by_label("ID Number").fill(ID)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/results.html")
    item = page.locator(f"article.result-item[data-session-id='{session}']")
    expect(item).to_have_attribute("data-status", "pending")
    expect(item).to_contain_text("Results available by")
    expect(item.locator(".status--pending time").first).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    shot(page, "results-pending")

    time.sleep(max(0.0, (release_at - datetime.now(UTC)).total_seconds()) + 0.5)
    status, answer = local.control("/_local/release")
    assert status == 200 and all(i["ok"] for i in answer["invocations"]), answer

    mail = local.wait_for_mail(email, count=2)  # through the SQS sender
    assert "results are available" in mail["subject"], mail
    assert f"{local.url}/results.html" in mail["links"]

    page.goto("/results.html")
    expect(item).to_have_attribute("data-status", "released")
    statement = item.locator("table.statement")
    expect(statement.locator("tr[data-skill='reading'] td")).to_have_text("180")
    expect(statement.locator("tr[data-skill='use_of_english'] th")).to_have_text("Use of English")
    expect(statement).to_contain_text("185")
    expect(item.locator(".certificate")).to_contain_text("Certificate expected at your centre by")
    shot(page, "results-released")

    page.goto("/verify.html")
    page.get_by_label("Candidate ID Number").fill(ID)
    page.get_by_label("Secret Number").fill(SECRET)
    page.get_by_role("button", name="Verify result").click()
    section = page.locator("#verification")
    expect(section).to_be_visible()
    expect(page.locator("#verification-candidate_name")).to_have_text(NAME)
    expect(page.locator("#verification-exam")).to_have_text("C1 Advanced (C1A)")
    expect(section.locator("tr[data-skill='writing'] td")).to_have_text("190")
    shot(page, "verify-released")
