"""Candidate journeys through the web pages in a real browser, against the local stack."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from devtools.local.localproc import LocalProcess
from tests.e2e.browser.conftest import Shots, demo

PASSWORD = "Blue-Harbour-73"


def open_link_from_mailbox(page: Page, local: LocalProcess, shot: Shots, email: str, page_name: str) -> None:
    """Open the mailbox page and click the newest link to ``page_name`` in a mail to ``email``."""
    local.wait_for_mail(email)
    page.goto("/_local/mailbox")
    mail = page.locator("article.mail", has_text=email).first
    expect(mail).to_be_visible()
    shot(page, "mailbox")
    mail.locator(f"ul.links a[href*='/{page_name}?token=']").first.click()
    page.wait_for_url(re.compile(re.escape(page_name)))


def log_in(page: Page, id_number: str, password: str) -> None:
    page.get_by_label("ID Number").fill(id_number)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


def test_register_confirm_from_the_mailbox_log_in_and_log_out(page: Page, local: LocalProcess, shot: Shots) -> None:
    candidate = demo(local, "PB")
    email = "alex.paper@example.com"

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shot(page, "index")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Register").click()
    page.wait_for_url("**/register.html")
    page.get_by_label("ID Number").fill(candidate["id_number"])
    page.get_by_label("Secret Number").fill(candidate["secret_number"])
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_label("Confirm your password").fill(PASSWORD)
    page.get_by_label("I accept the terms of use").check()
    page.get_by_label("Email me the newsletter (optional)").check()
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#alert")).to_contain_text("Check your email to confirm your address")
    expect(page.locator("#alert")).to_contain_text(email)
    expect(page.locator("#register-form")).to_be_hidden()
    shot(page, "register")

    open_link_from_mailbox(page, local, shot, email, "confirm.html")
    expect(page.locator("#confirm-status")).to_have_text("Thank you. Your email address is confirmed.")
    assert "token=" not in page.url  # the one-time token is taken out of the address bar
    shot(page, "confirm")

    page.locator("#login-link").click()
    page.wait_for_url("**/login.html")
    shot(page, "login")
    log_in(page, candidate["id_number"].lower(), PASSWORD)  # ID Numbers are not case-sensitive
    page.wait_for_url("**/results.html")
    expect(page.get_by_role("heading", name="Your results")).to_be_visible()
    expect(page.locator("#greeting")).to_have_text(f"Hello, {candidate['name']}.")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="My results")).to_be_visible()
    expect(nav.get_by_role("link", name="Log in")).to_be_hidden()
    shot(page, "results")

    nav.get_by_role("link", name="Account").click()
    page.wait_for_url("**/account.html")
    expect(page.locator("#account-email")).to_have_text(email)
    expect(page.locator("#account-candidate_name")).to_have_text(candidate["name"])
    expect(page.get_by_label("Email me the newsletter")).to_be_checked()
    shot(page, "account")

    nav.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/index.html")
    expect(page.locator("#alert")).to_contain_text("You have logged out.")
    shot(page, "logged-out")
    page.goto("/results.html")  # the session is gone: the results page asks to log in
    page.wait_for_url("**/login.html?next=results.html")
    expect(page.locator("#alert")).to_contain_text("Please log in to see this page.")
    shot(page, "login-required")


def test_four_wrong_passwords_lock_the_id_with_the_minutes_left(page: Page, shot: Shots) -> None:
    page.goto("/login.html")
    for attempt in range(1, 4):
        log_in(page, "LOCKME042", f"Not-the-one-{attempt}1")
        expect(page.locator("#alert")).to_contain_text("The ID Number or password is not right")
        expect(page.get_by_label("Password", exact=True)).to_have_value("")  # never kept after a failure
    log_in(page, "LOCKME042", "Not-the-one-41")
    alert = page.locator("#alert")
    expect(alert).to_contain_text("You entered the wrong password too many times. Try again in 30 minutes.")
    expect(alert.get_by_role("link", name="reset it")).to_have_attribute("href", "forgot.html")
    shot(page, "locked")


def test_forgotten_password_reset_from_the_mailbox_then_log_in(page: Page, local: LocalProcess, shot: Shots) -> None:
    candidate = demo(local, "CB")
    email = "sam.computer@example.com"
    old, new = "Old-Password-58", "New-Password-94"
    status, body = local.json(
        "POST",
        "/api/registrations",
        {
            "id_number": candidate["id_number"],
            "secret_number": candidate["secret_number"],
            "email": email,
            "password": old,
            "confirm_password": old,
            "accept_terms": True,
        },
    )
    assert status == 201, body

    page.goto("/login.html")
    page.get_by_role("link", name="Forgotten your password?").click()
    page.wait_for_url("**/forgot.html")
    page.get_by_label("ID Number").fill(candidate["id_number"])
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator("#alert")).to_contain_text("we sent an email with a link to reset your password")
    shot(page, "forgot")

    local.wait_for_mail(email, count=2)  # the registration email, then the reset email
    open_link_from_mailbox(page, local, shot, email, "reset.html")
    assert "token=" not in page.url
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("Confirm your new password").fill(new + "x")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#confirm_password-error")).to_have_text("The passwords do not match.")
    page.get_by_label("Confirm your new password").fill(new)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#alert")).to_contain_text("Your password has been changed.")
    shot(page, "reset")

    page.locator("#login-link").click()
    page.wait_for_url("**/login.html")
    log_in(page, candidate["id_number"], old)
    expect(page.locator("#alert")).to_contain_text("The ID Number or password is not right")
    log_in(page, candidate["id_number"], new)  # completing a reset also confirmed the email
    page.wait_for_url("**/results.html")
    expect(page.locator("#greeting")).to_have_text(f"Hello, {candidate['name']}.")
    shot(page, "results")


def test_api_field_errors_show_next_to_fields_on_a_phone_screen(page: Page, shot: Shots) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/register.html")
    page.get_by_label("ID Number").fill("PHONE0001")
    page.get_by_label("Secret Number").fill("1234")
    page.get_by_label("Email address").fill("phone@example.com")
    page.get_by_label("Create a password").fill("password12")  # a common password: the API says 422
    page.get_by_label("Confirm your password").fill("password12")
    page.get_by_label("I accept the terms of use").check()
    page.get_by_role("button", name="Register").click()
    password = page.get_by_label("Create a password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-error")).not_to_be_empty()
    expect(page.locator("#alert .alert__list a")).to_have_count(1)
    expect(page.locator("#alert")).to_be_focused()  # the error summary, each error a link to its field
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    shot(page, "register-422")
