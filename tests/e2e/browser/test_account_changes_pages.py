"""The account page's password and email forms, and the page of the email-change link."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Page, expect

from devtools.local.localproc import LocalProcess
from tests.e2e.browser.conftest import Shots
from tests.e2e.browser.test_account_pages import HEADER, PASSWORD, register_confirmed
from tests.e2e.browser.test_candidate_pages import log_in, open_link_from_mailbox
from tests.e2e.browser.test_results_pages import upload

NEW_PASSWORD = "Copper-Kettle-93"
OLD_EMAIL = "carla.change@example.com"
NEW_EMAIL = "carla.new@example.org"


def test_change_the_password_then_the_email_from_the_account_page(page: Page, local: LocalProcess, shot: Shots) -> None:
    upload(
        local,
        "entries",
        "change-entries.csv",
        [HEADER, f"C1A-{date.today()}-PB,C1A,{date.today()},PB,CHANGE001,13579,0003,Carla Change,2002-03-04,GB1,X,"],
    )
    register_confirmed(local, "CHANGE001", "13579", OLD_EMAIL)
    page.goto("/login.html")
    log_in(page, "CHANGE001", PASSWORD)
    page.wait_for_url("**/results.html")
    page.goto("/account.html")
    expect(page.locator("#account-email")).to_have_text(OLD_EMAIL)

    # Password: a wrong current password, then passwords that differ, then the change.
    form = page.locator("#password-form")
    form.get_by_label("Current password").fill("Not-my-pass-12")
    form.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    form.get_by_label("Confirm your new password").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(page.locator("#alert")).to_contain_text("Your password is not correct")
    expect(page.locator("#current_password")).to_have_attribute("aria-invalid", "true")
    # As on every form, the error summary takes the focus and its link leads to the field.
    expect(page.locator("#alert")).to_be_focused()
    page.locator("#alert a[href='#current_password']").click()
    expect(page.locator("#current_password")).to_be_focused()
    shot(page, "password-wrong")
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_label("Confirm your new password").fill(NEW_PASSWORD + "x")
    form.get_by_role("button", name="Change password").click()
    expect(page.locator("#confirm_password-error")).to_have_text("The passwords do not match.")
    form.get_by_label("Confirm your new password").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(page.locator("#alert")).to_contain_text("Your password has been changed")
    expect(page.locator("#current_password")).to_have_value("")
    shot(page, "password-changed")
    assert any("password" in m["subject"].lower() for m in local.mails_to(OLD_EMAIL))

    # Email: the link goes to the new address; nothing changes until it is opened.
    form = page.locator("#email-form")
    form.get_by_label("New email address").fill("not-an-address")
    form.get_by_label("Your password").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Send the confirmation link").click()
    expect(page.locator("#new_email-error")).to_contain_text("valid email address")
    form.get_by_label("New email address").fill(NEW_EMAIL)
    form.get_by_label("Your password").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Send the confirmation link").click()
    expect(page.locator("#alert")).to_contain_text(f"We have sent a link to {NEW_EMAIL}")
    shot(page, "email-link-sent")
    page.reload()
    expect(page.locator("#account-email")).to_have_text(OLD_EMAIL)
    assert any("change of email address" in m["subject"] for m in local.mails_to(OLD_EMAIL))

    open_link_from_mailbox(page, local, shot, NEW_EMAIL, "confirm-email.html")
    expect(page.locator("#confirmed-email")).to_have_text(NEW_EMAIL)
    assert "token=" not in page.url  # the one-time token is kept out of history
    shot(page, "email-changed")
    page.get_by_role("link", name="Log in", exact=True).last.click()
    page.wait_for_url("**/login.html")
    log_in(page, "CHANGE001", NEW_PASSWORD)
    page.wait_for_url("**/results.html")
    page.goto("/account.html")
    expect(page.locator("#account-email")).to_have_text(NEW_EMAIL)


def test_a_used_email_change_link_says_so(page: Page, local: LocalProcess, shot: Shots) -> None:
    page.goto("/confirm-email.html?token=" + "A" * 43)
    expect(page.locator("#alert")).to_contain_text("This link is invalid or has expired")
    expect(page.locator("#confirm-success")).to_be_hidden()
    shot(page, "email-link-invalid")
