"""Every page in every state, in both languages, at phone and desktop width: axe-core finds no WCAG 2.2 AA
violation, and every visible text comes from that language's catalogue.

axe-core is axe-playwright-python's (pinned in requirements-dev.txt), run in the Debian Chromium
against the local stack. The states are real: errors come from the API (wrong credentials, a lock,
a common password), results from uploaded entries and results files and the release run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from devtools.local.localproc import LocalProcess
from tests.e2e.browser.i18n import pages, untranslated, wait_translated
from tests.e2e.browser.test_results_pages import upload

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
PASSWORD = "Violet-Anchor-27"
NEW_PASSWORD = "Copper-Kettle-93"
AXE = Axe()


@dataclass(frozen=True)
class Candidate:
    id_number: str
    secret: str
    name: str
    status: str


def make_candidates(local: LocalProcess) -> dict[str, Candidate]:
    """Three confirmed accounts: one result pending, one released, one overdue (released, no result)."""
    today = date.today()
    released_date, pending_date = today - timedelta(days=39), today - timedelta(days=2)
    released_session, pending_session = f"C1A-{released_date}-PB", f"B2F-{pending_date}-CB"
    release_at = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    pending_by = (datetime.now(UTC) + timedelta(days=12)).replace(hour=8, minute=0, second=0, microsecond=0)
    people = {
        "released": Candidate("AXEREL001", "31415926", "Giulia Rilascio", "released"),
        "overdue": Candidate("AXEOVR001", "27182818", "Marco Ritardo", "overdue"),
        "pending": Candidate("AXEPEN001", "16180339", "Sara Attesa", "pending"),
        # Registered, not yet confirmed: one for each language's run (it confirms, then resets).
        "fresh-en": Candidate("AXEFRESHEN", "11223344", "Nora Nuova", "pending"),
        "fresh-it": Candidate("AXEFRESHIT", "44332211", "Ugo Nuovo", "pending"),
    }
    rows = [
        "session_id,exam,exam_date,format,id_number,secret_number,candidate_number,candidate_name,"
        "date_of_birth,centre_number,centre_name,results_available_by"
    ]
    for c, session, day, fmt, by in [
        (people["released"], released_session, released_date, "PB", release_at),
        (people["overdue"], released_session, released_date, "PB", release_at),
        (people["pending"], pending_session, pending_date, "CB", pending_by),
        (people["fresh-en"], pending_session, pending_date, "CB", pending_by),
        (people["fresh-it"], pending_session, pending_date, "CB", pending_by),
    ]:
        exam = session.split("-")[0]
        rows.append(
            f"{session},{exam},{day},{fmt},{c.id_number},{c.secret},0{len(rows)}42,{c.name},2004-05-06,IT321,"
            f"Scuola di Lingue Verona,{by.isoformat()}"
        )
    upload(local, "entries", "axe-entries.csv", rows)
    upload(
        local,
        "results",
        "axe-results.csv",
        [
            "session_id,id_number,overall_score,grade,cefr_level,reading,use_of_english,writing,listening,speaking",
            f"{released_session},{people['released'].id_number},195,B,C1,198,190,195,200,192",
        ],
    )
    for key, c in people.items():
        email = email_of(c)
        body = {
            "id_number": c.id_number,
            "secret_number": c.secret,
            "email": email,
            "password": PASSWORD,
            "confirm_password": PASSWORD,
            "accept_terms": True,
        }
        status, answer = local.json("POST", "/api/registrations", body)
        assert status == 201, answer
        if key.startswith("fresh-"):
            continue
        token = re.search(r"token=([\w-]+)", local.wait_for_mail(email)["links"][0]).group(1)  # type: ignore[union-attr]
        assert local.json("POST", "/api/registrations/confirmations", {"token": token})[0] == 200
    time.sleep(max(0.0, (release_at - datetime.now(UTC)).total_seconds()) + 0.5)
    status, answer = local.control("/_local/release")
    assert status == 200 and all(i["ok"] for i in answer["invocations"]), answer
    return people


def email_of(c: Candidate) -> str:
    return f"{c.id_number.lower()}@example.com"


def mailed_link(local: LocalProcess, c: Candidate, page_name: str, count: int) -> str:
    mail = local.wait_for_mail(email_of(c), count=count)
    return next(u for u in mail["links"] if f"/{page_name}?token=" in u)


@pytest.fixture(scope="module")
def candidates(local: LocalProcess) -> dict[str, Candidate]:
    return make_candidates(local)


@pytest.fixture
def lang_page(browser: Browser, local: LocalProcess, lang: str) -> Iterator[Page]:
    context = browser.new_context(base_url=local.url, viewport=WIDTHS["desktop"])
    context.set_default_timeout(15_000)
    # The candidate chose this language before (the switch remembers it in localStorage).
    context.add_init_script(f"try {{ localStorage.setItem('er_lang', '{lang}'); }} catch (e) {{}}")
    tab = context.new_page()
    yield tab
    context.close()


def log_in_as(page: Page, local: LocalProcess, c: Candidate) -> None:
    status, body = local.json("POST", "/api/sessions", {"id_number": c.id_number, "password": PASSWORD})
    assert status == 200, body
    page.goto("/index.html")
    page.evaluate(
        "([t, e]) => { sessionStorage.setItem('er_token', t); sessionStorage.setItem('er_expires_at', e); }",
        [body["token"], body["expires_at"]],
    )


def log_out(page: Page) -> None:
    page.evaluate("() => sessionStorage.clear()")


class Audit:
    """Checks the page as it stands at both widths: axe-core, then the catalogue check."""

    def __init__(self, page: Page, lang: str) -> None:
        self.page, self.lang = page, lang
        self.failures: list[str] = []
        self.states = 0
        self.pages: set[str] = set()

    def __call__(self, state: str) -> None:
        self.states += 1
        self.pages.add(self.page.url.split("?")[0].rsplit("/", 1)[-1])
        wait_translated(self.page, self.lang)
        for width, size in WIDTHS.items():
            self.page.set_viewport_size(size)
            wide = self.page.evaluate("document.documentElement.scrollWidth")
            if wide > size["width"]:  # WCAG 1.4.10 Reflow: no sideways scrolling
                self.failures.append(f"{state} [{self.lang}, {width}]: {wide} px wide in a {size['width']} px window")
            results = AXE.run(self.page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
            for v in results.response["violations"]:
                targets = "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
                self.failures.append(
                    f"{state} [{self.lang}, {width}]: {v['id']} ({v['impact']}) {v['help']}: {targets}"
                )
        self.page.set_viewport_size(WIDTHS["desktop"])
        for text in untranslated(self.page, self.lang):
            self.failures.append(f"{state} [{self.lang}]: not in the {self.lang} catalogue: {text!r}")


def submit(page: Page, form: str) -> None:
    page.locator(f"#{form} button[type=submit]").click()


def fill(page: Page, values: dict[str, str]) -> None:
    for field, v in values.items():
        page.locator(f"#{field}").fill(v)


@pytest.mark.parametrize("lang", ["en", "it"])
def test_every_page_in_every_state_has_no_wcag_22_aa_violation_and_no_untranslated_text(
    lang: str, lang_page: Page, local: LocalProcess, candidates: dict[str, Candidate]
) -> None:
    page = lang_page
    audit = Audit(page, lang)
    alert = page.locator("#alert")
    suffix = lang.upper()

    def visit(name: str) -> None:
        page.goto(f"/{name}")
        wait_translated(page, lang)

    visit("index.html")
    audit("index")
    visit("help.html")
    audit("help")

    visit("register.html")
    audit("register: empty form")
    submit(page, "register-form")
    expect(page.locator("#id_number-error")).not_to_be_empty()
    audit("register: every field missing")
    fill(
        page,
        {
            "id_number": f"AXEREG{suffix}1",
            "secret_number": "1234",
            "email": "reg@example.com",
            "password": "password12",
            "confirm_password": "password12",
        },
    )
    page.locator("#accept_terms").check()
    with page.expect_request("**/api/registrations") as sent:
        submit(page, "register-form")
    # The API writes its messages in the page's language (shown as data-api-text).
    assert sent.value.headers["accept-language"] == lang
    assert sent.value.post_data_json["language"] == lang
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    audit("register: the API's field error (a common password)")
    fill(page, {"password": PASSWORD, "confirm_password": PASSWORD})
    submit(page, "register-form")
    expect(alert).to_have_class(re.compile("alert--error"))
    expect(page.locator("#password")).not_to_have_attribute("aria-invalid", "true")
    audit("register: ID Number and Secret Number do not match")
    fresh = candidates[f"fresh-{lang}"]
    fill(page, {"id_number": fresh.id_number, "secret_number": fresh.secret, "email": f"again-{lang}@example.com"})
    fill(page, {"password": PASSWORD, "confirm_password": PASSWORD})
    submit(page, "register-form")
    expect(alert.locator("a[href='login.html']")).to_be_visible()
    audit("register: already registered")

    visit("login.html")
    audit("login: empty form")
    submit(page, "login-form")
    expect(page.locator("#password-error")).not_to_be_empty()
    audit("login: every field missing")
    locked_id = f"AXELCK{suffix}1"
    for attempt in range(1, 5):
        fill(page, {"id_number": locked_id, "password": f"Wrong-{attempt}-99"})
        submit(page, "login-form")
        expect(page.locator("#password")).to_have_value("")  # cleared when the answer came
        if attempt == 1:
            audit("login: wrong credentials")
    expect(alert.locator("a[href='forgot.html']")).to_be_visible()
    audit("login: locked")
    fill(page, {"id_number": fresh.id_number, "password": PASSWORD})
    submit(page, "login-form")
    expect(page.locator("#resend-section")).to_be_visible()
    audit("login: email not confirmed")

    page.goto(mailed_link(local, fresh, "confirm.html", 1))
    expect(page.locator("#confirm-success")).to_be_visible()
    audit("confirm: confirmed")

    visit("forgot.html")
    audit("forgot: empty form")
    submit(page, "forgot-form")
    expect(page.locator("#id_number-error")).not_to_be_empty()
    audit("forgot: ID Number missing")
    fill(page, {"id_number": f"AXEFGT{suffix}1"})
    submit(page, "forgot-form")
    expect(page.locator("#forgot-form")).to_be_hidden()
    audit("forgot: sent")

    visit("confirm.html")
    expect(page.locator("#resend-section")).to_be_visible()
    audit("confirm: no link")
    visit("confirm.html?token=not-a-real-token")
    expect(alert).to_have_class(re.compile("alert--error"))
    audit("confirm: invalid link")

    visit("reset.html")
    audit("reset: no link")
    visit("reset.html?token=not-a-real-token")
    audit("reset: empty form")
    fill(page, {"password": PASSWORD, "confirm_password": PASSWORD + "x"})
    submit(page, "reset-form")
    expect(page.locator("#confirm_password-error")).not_to_be_empty()
    audit("reset: passwords differ")
    fill(page, {"confirm_password": PASSWORD})
    submit(page, "reset-form")
    expect(page.locator("#reset-form")).to_be_hidden()
    audit("reset: invalid link")
    assert local.json("POST", "/api/password-resets", {"id_number": fresh.id_number})[0] == 202
    page.goto(mailed_link(local, fresh, "reset.html", 2))
    fill(page, {"password": PASSWORD, "confirm_password": PASSWORD})
    submit(page, "reset-form")
    expect(page.locator("#reset-success")).to_be_visible()
    audit("reset: password changed")

    visit("verify.html")
    audit("verify: empty form")
    submit(page, "verify-form")
    expect(page.locator("#secret_number-error")).not_to_be_empty()
    audit("verify: every field missing")
    released = candidates["released"]
    fill(page, {"id_number": released.id_number, "secret_number": "00000000"})
    submit(page, "verify-form")
    expect(alert).to_have_class(re.compile("alert--error"))
    audit("verify: not found")
    fill(page, {"secret_number": released.secret})
    submit(page, "verify-form")
    expect(page.locator("#verification")).to_be_visible()
    audit("verify: found")

    for status in ("pending", "released", "overdue"):
        log_in_as(page, local, candidates[status])
        visit("results.html")
        expect(page.locator(f"article.result-item[data-status='{status}']")).to_be_visible()
        expect(page.locator("#greeting")).not_to_be_empty()
        audit(f"results: {status}")
    visit("account.html")
    expect(page.locator("#newsletter_opt_in")).to_be_enabled()
    audit("account")
    log_out(page)

    # The account's own forms, on the account of this language's run (its password was just reset).
    log_in_as(page, local, fresh)
    visit("account.html")
    expect(page.locator("#newsletter_opt_in")).to_be_enabled()
    submit(page, "password-form")
    expect(page.locator("#current_password-error")).not_to_be_empty()
    audit("account: password fields missing")
    fill(page, {"current_password": "Wrong-pass-77", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    submit(page, "password-form")
    expect(page.locator("#current_password")).to_have_attribute("aria-invalid", "true")
    audit("account: wrong current password")
    fill(page, {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "x"})
    submit(page, "password-form")
    expect(page.locator("#confirm_password-error")).not_to_be_empty()
    audit("account: new passwords differ")
    fill(page, {"confirm_password": NEW_PASSWORD})
    submit(page, "password-form")
    expect(alert).to_have_class(re.compile("alert--success"))
    audit("account: password changed")
    submit(page, "email-form")
    expect(page.locator("#new_email-error")).not_to_be_empty()
    audit("account: email fields missing")
    fill(page, {"new_email": email_of(fresh), "email_password": NEW_PASSWORD})
    with page.expect_request("**/api/me/email") as sent:
        submit(page, "email-form")
    assert sent.value.headers["accept-language"] == lang
    expect(page.locator("#new_email")).to_have_attribute("aria-invalid", "true")
    audit("account: the same email address")
    new_address = f"changed-{lang}@example.com"
    fill(page, {"new_email": new_address, "email_password": NEW_PASSWORD})
    submit(page, "email-form")
    expect(alert).to_have_class(re.compile("alert--success"))
    audit("account: email link sent")
    link = next(u for u in local.wait_for_mail(new_address)["links"] if "/confirm-email.html?token=" in u)
    page.goto(link)
    expect(page.locator("#confirm-success")).to_be_visible()
    audit("confirm-email: confirmed")
    visit("confirm-email.html?token=not-a-real-token")
    expect(alert).to_have_class(re.compile("alert--error"))
    audit("confirm-email: invalid link")
    log_out(page)

    assert audit.states == 40
    assert sorted(audit.pages) == pages(), "a page of web/ has no state in this test: add its states"
    assert not audit.failures, "\n".join(audit.failures)
