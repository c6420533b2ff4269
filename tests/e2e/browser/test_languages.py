"""The pages in English and Italian: complete catalogues, the browser's language by default, a switch
on every page that is remembered and that a logged-in candidate's account follows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from devtools.harness.template import ROOT
from devtools.local.localproc import LocalProcess
from tests.e2e.browser.i18n import LOCALES, PLACEHOLDER, catalogue, languages, pages, wait_translated
from tests.e2e.browser.test_results_pages import upload

WEB = ROOT / "web"
PASSWORD = "Silver-Harbour-35"


def test_every_catalogue_has_every_english_key_with_the_same_placeholders() -> None:
    english = catalogue("en")
    assert set(languages()) >= {"en", "it"}
    for lang in languages():
        other = catalogue(lang)
        assert sorted(set(english) - set(other)) == [], f"{lang}.json lacks keys"
        assert sorted(set(other) - set(english)) == [], f"{lang}.json has keys en.json does not"
        for key, text in english.items():
            assert set(PLACEHOLDER.findall(other[key])) == set(PLACEHOLDER.findall(text)), (lang, key)
            assert other[key].strip(), (lang, key)
    assert sorted(p.stem for p in LOCALES.glob("*.json") if p.stem != "languages") == sorted(languages())


def test_every_key_the_pages_and_scripts_use_is_in_the_english_catalogue() -> None:
    english = catalogue("en")
    used: set[str] = set()
    for html in WEB.glob("*.html"):
        text = html.read_text(encoding="utf-8")
        used |= set(re.findall(r'data-i18n="([^"]+)"', text))
        used |= {kv.split("=")[1] for attr in re.findall(r'data-i18n-attr="([^"]+)"', text) for kv in attr.split(";")}
    scripts = [WEB / "app.js", *Path(WEB / "js").glob("*.js")]
    for js in scripts:
        used |= set(re.findall(r"\bt(?:Nodes)?\('([a-z0-9_.]+)'", js.read_text(encoding="utf-8")))
    # Keys built at run time: a family's prefix ends with "." (alert.title. + type, time.minutes. + plural form).
    families = {k for k in used if k.endswith(".")}
    assert families == {"alert.title.", "time.minutes.", "skill."}
    assert {k for k in english if k.startswith("alert.title.")} == {
        f"alert.title.{t}" for t in ("error", "success", "info")
    }
    assert {k for k in english if k.startswith("time.minutes.")} == {"time.minutes.one", "time.minutes.other"}
    skills = ("reading", "use_of_english", "writing", "listening", "speaking")
    assert {k for k in english if k.startswith("skill.")} == {f"skill.{s}" for s in skills}
    assert len(used) > 150
    assert sorted(used - families - set(english)) == []


def new_page(browser: Browser, local: LocalProcess, locale: str) -> Page:
    context = browser.new_context(base_url=local.url, locale=locale, viewport={"width": 1024, "height": 800})
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.mark.parametrize(("locale", "lang"), [("it-IT", "it"), ("en-US", "en"), ("fr-FR", "en")])
def test_the_browser_language_is_the_default(browser: Browser, local: LocalProcess, locale: str, lang: str) -> None:
    page = new_page(browser, local, locale)
    try:
        for name in pages():
            page.goto(f"/{name}")
            wait_translated(page, lang)
            assert page.evaluate("document.documentElement.lang") == lang, name
        page.goto("/login.html")
        wait_translated(page, lang)
        expect(page.get_by_role("heading", level=1)).to_have_text(catalogue(lang)["nav.login"])
        expect(page.locator("#language-switch button[aria-pressed='true']")).to_have_attribute("lang", lang)
    finally:
        page.context.close()


def registered(local: LocalProcess) -> tuple[str, str]:
    """A confirmed account (registered in English) and a session token for it."""
    id_number = "LANGSW001"
    upload(
        local,
        "entries",
        "languages-entries.csv",
        [
            "session_id,exam,exam_date,format,id_number,secret_number,candidate_number,candidate_name,"
            "date_of_birth,centre_number,centre_name",
            f"B2F-2026-01-10-PB,B2F,2026-01-10,PB,{id_number},55501234,0042,Luca Lingua,2005-01-02,IT555,Centro Roma",
        ],
    )
    email = "luca.lingua@example.com"
    body = {
        "id_number": id_number,
        "secret_number": "55501234",
        "email": email,
        "password": PASSWORD,
        "confirm_password": PASSWORD,
        "accept_terms": True,
        "language": "en",
    }
    status, answer = local.json("POST", "/api/registrations", body)
    assert status == 201, answer
    token = re.search(r"token=([\w-]+)", local.wait_for_mail(email)["links"][0]).group(1)  # type: ignore[union-attr]
    assert local.json("POST", "/api/registrations/confirmations", {"token": token})[0] == 200
    return id_number, email


def account_language(local: LocalProcess, id_number: str) -> str:
    status, body = local.json("POST", "/api/sessions", {"id_number": id_number, "password": PASSWORD})
    assert status == 200, body
    status, _, me = local.request("GET", "/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert status == 200, me
    language: str = json.loads(me)["language"]
    return language


def test_the_switch_is_remembered_across_pages_and_the_account_follows_it(
    browser: Browser, local: LocalProcess
) -> None:
    id_number, _ = registered(local)
    page = new_page(browser, local, "en-GB")
    try:
        page.goto("/index.html")
        wait_translated(page, "en")
        switch = page.get_by_role("group", name="Language")
        switch.get_by_role("button", name="Italiano").focus()
        page.keyboard.press("Enter")  # a real control: the keyboard works it
        wait_translated(page, "it")
        assert page.evaluate("document.documentElement.lang") == "it"
        expect(page.get_by_role("group", name="Lingua").get_by_role("button", name="Italiano")).to_have_attribute(
            "aria-pressed", "true"
        )
        page.get_by_role("navigation", name="Principale").get_by_role("link", name="Accedi").click()
        wait_translated(page, "it")  # remembered on the next page
        expect(page.get_by_role("heading", level=1)).to_have_text("Accedi")
        page.get_by_label("ID Number").fill(id_number)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Accedi").click()
        page.wait_for_url("**/results.html")
        wait_translated(page, "it")
        expect(page.get_by_role("heading", level=1)).to_have_text("I tuoi risultati")
        assert account_language(local, id_number) == "en"  # browsing in Italian changes no account

        with page.expect_request(lambda r: r.method == "PATCH" and r.url.endswith("/api/me")) as patched:
            page.get_by_role("group", name="Lingua").get_by_role("button", name="English").click()
        assert patched.value.post_data_json == {"language": "en"}
        wait_translated(page, "en")
        page.get_by_role("group", name="Language").get_by_role("button", name="Italiano").click()
        wait_translated(page, "it")
        assert account_language(local, id_number) == "it"  # emails follow the switch
        page.goto("/help.html")
        wait_translated(page, "it")
        assert page.evaluate("localStorage.getItem('er_lang')") == "it"
    finally:
        page.context.close()
