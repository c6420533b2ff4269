"""Every page works under the deployed CSP (sent by the local server from template.yaml) with no
violation, and no other site can frame one."""

from __future__ import annotations

from playwright.sync_api import Page

from devtools.harness.template import ROOT
from devtools.local.localproc import LocalProcess

# Records every CSP violation of the page (Playwright's init scripts are not subject to the CSP).
RECORD = (
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__violations.push(e.effectiveDirective + ' ' + e.blockedURI));"
)
PATHS = [f"/{p.name}" for p in sorted((ROOT / "web").glob("*.html"))] + ["/_local/mailbox", "/_local/docs"]


def test_every_page_loads_under_the_csp_without_a_violation(page: Page, local: LocalProcess) -> None:
    page.add_init_script(RECORD)
    console = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    for path in PATHS:
        response = page.goto(path, wait_until="networkidle")
        assert response is not None and response.status == 200, path
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp, csp
        assert page.evaluate("window.__violations") == [], path
    # The pages' scripts ran: the shared module and the Swagger UI exist.
    page.goto("/login.html", wait_until="networkidle")
    assert page.evaluate("typeof window.ER") == "object"
    page.goto("/_local/docs", wait_until="networkidle")
    assert page.locator(".swagger-ui").count() > 0
    assert console == []


def test_another_site_cannot_frame_a_page(page: Page, local: LocalProcess) -> None:
    # A page of another origin (about:blank with content set) frames the login page; Chromium
    # reports the refusal on the console.
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text, timeout=15_000):
        page.set_content(f'<iframe id="f" src="{local.url}/login.html"></iframe>')
    framed = [f for f in page.frames if f.url.endswith("/login.html")]
    loaded = [f for f in framed if f.evaluate("!!document.getElementById('login-form')")]
    assert loaded == [], "the login page rendered inside another site's frame"
