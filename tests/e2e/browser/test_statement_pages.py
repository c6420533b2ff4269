"""The Statement of Results download and the verification page's centre, date and print view.

Through the local stack's whole pipeline: entries and results files uploaded, the release run,
the candidate logs in and downloads the PDF (fetched with the bearer token, saved as a file);
an organisation verifies the result and prints it.
"""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from devtools.local.localproc import LocalProcess
from tests.e2e.browser.conftest import Shots
from tests.e2e.browser.test_results_pages import upload

PASSWORD = "Amber-Lantern-48"
ID, SECRET, NAME = "STMT00001", "86420975", "Noor Statement"
CENTRE_NUMBER, CENTRE_NAME = "GB888", "Leeds Language Centre"


def released_candidate(local: LocalProcess) -> str:
    """A registered, confirmed candidate whose C1 Advanced result has been released."""
    exam_date = date.today() - timedelta(days=38)  # a session of its own
    session = f"C1A-{exam_date}-PB"
    release_at = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    upload(
        local,
        "entries",
        "statement-entries.csv",
        [
            "session_id,exam,exam_date,format,id_number,secret_number,candidate_number,candidate_name,"
            "date_of_birth,centre_number,centre_name,results_available_by",
            f"{session},C1A,{exam_date},PB,{ID},{SECRET},0777,{NAME},2001-03-09,{CENTRE_NUMBER},{CENTRE_NAME},"
            f"{release_at.isoformat()}",
        ],
    )
    upload(
        local,
        "results",
        "statement-results.csv",
        [
            "session_id,id_number,overall_score,grade,cefr_level,reading,use_of_english,writing,listening,speaking",
            f"{session},{ID},195,B,C1,198,190,195,200,192",
        ],
    )
    email = "noor.statement@example.com"
    body = {
        "id_number": ID,
        "secret_number": SECRET,
        "email": email,
        "password": PASSWORD,
        "confirm_password": PASSWORD,
        "accept_terms": True,
    }
    status, answer = local.json("POST", "/api/registrations", body)
    assert status == 201, answer
    token = re.search(r"token=([\w-]+)", local.wait_for_mail(email)["links"][0]).group(1)
    assert local.json("POST", "/api/registrations/confirmations", {"token": token})[0] == 200
    time.sleep(max(0.0, (release_at - datetime.now(UTC)).total_seconds()) + 0.5)
    status, answer = local.control("/_local/release")
    assert status == 200 and all(i["ok"] for i in answer["invocations"]), answer
    return session


def test_download_the_statement_then_an_organisation_verifies_and_prints(
    page: Page, local: LocalProcess, shot: Shots
) -> None:
    session = released_candidate(local)

    page.goto("/login.html")
    page.get_by_label("ID Number").fill(ID)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/results.html")
    item = page.locator(f"article.result-item[data-session-id='{session}']")
    expect(item).to_have_attribute("data-status", "released")
    expect(item.locator("dl.details")).to_contain_text(ID)
    expect(item.locator("dl.details")).to_contain_text("0777")  # candidate number
    shot(page, "results-with-download")

    with page.expect_download() as info:
        item.get_by_role("button", name="Download (PDF)").click()
    download = info.value
    assert download.suggested_filename == f"statement-of-results-{session}.pdf"
    content = download.path().read_bytes()
    assert content.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert NAME in text and ID in text and "195" in text
    assert SECRET not in text
    expect(item.locator(".download-status")).to_have_text("Your Statement of Results has been downloaded.")

    page.goto("/verify.html")
    page.get_by_label("Candidate ID Number").fill(ID)
    page.get_by_label("Secret Number").fill(SECRET)
    page.get_by_role("button", name="Verify result").click()
    section = page.locator("#verification")
    expect(section).to_be_visible()
    expect(page.locator("#verification-centre")).to_have_text(f"{CENTRE_NAME} ({CENTRE_NUMBER})")
    verified = page.locator("#verification-verified-on")
    expect(verified).to_contain_text(re.compile(r"^Verified on \w+,? \d{1,2} \w+ \d{4}"))
    today = datetime.now(UTC).date().isoformat()
    expect(verified.locator("time")).to_have_attribute("datetime", re.compile(rf"^{today}T"))
    shot(page, "verify-with-centre")

    # On paper: the result, its centre and date; no navigation, form or buttons.
    page.emulate_media(media="print")
    expect(section).to_be_visible()
    expect(verified).to_be_visible()
    expect(page.locator("#verification-centre")).to_be_visible()
    for hidden in (".site-header", ".site-footer", "#verify-form", "#verification-print", ".lead"):
        expect(page.locator(hidden)).to_be_hidden()
    shot(page, "verify-print")
