"""Security headers on the candidate pages and the API as deployed (CloudFront's response headers
policy in template.yaml), and pages that need no inline script or style to work under them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from devtools.harness.template import ROOT, TEMPLATE, load

R = load(TEMPLATE)["Resources"]
PAGES = sorted((ROOT / "web").glob("*.html"))


def directives(csp: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            found[words[0].lower()] = words[1:]
    return found


def assert_strict_csp(csp: str) -> None:
    d = directives(csp)
    assert d.get("frame-ancestors") == ["'none'"], csp
    assert d.get("default-src") == ["'none'"] or d.get("default-src") == ["'self'"], csp
    scripts = d.get("script-src", d.get("default-src", []))
    assert scripts == ["'self'"], f"scripts from this origin only, nothing inline or eval'd: {csp}"
    assert d.get("connect-src") == ["'self'"], f"a token can be sent to this origin only: {csp}"
    assert d.get("object-src") == ["'none'"] and d.get("base-uri") == ["'none'"], csp
    assert d.get("form-action") == ["'self'"], csp
    assert not any("*" in v or "unsafe" in v or v in {"http:", "https:", "data:"} for v in scripts + d["connect-src"])


def _policy() -> tuple[str, dict[str, Any]]:
    policies = {k: v for k, v in R.items() if v["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"}
    assert len(policies) == 1, "one home for the security headers"
    ((policy_id, policy),) = policies.items()
    return policy_id, policy["Properties"]["ResponseHeadersPolicyConfig"]


def test_the_response_headers_policy_sets_a_strict_csp_hsts_and_the_rest_overriding_the_origin() -> None:
    _, config = _policy()
    sec = config["SecurityHeadersConfig"]
    assert_strict_csp(sec["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert sec["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert sec["StrictTransportSecurity"]["IncludeSubdomains"] is True
    assert sec["FrameOptions"]["FrameOption"] == "DENY"
    assert sec["ReferrerPolicy"]["ReferrerPolicy"] in {"no-referrer", "same-origin", "strict-origin"}
    assert "ContentTypeOptions" in sec
    for value in sec.values():
        assert value["Override"] is True, "an origin response cannot weaken a header"
    custom = {h["Header"]: h for h in config["CustomHeadersConfig"]["Items"]}
    assert "camera=()" in custom["Permissions-Policy"]["Value"]
    assert all(h["Override"] for h in custom.values())


def test_pages_and_the_api_behaviour_both_carry_the_policy() -> None:
    policy_id, _ = _policy()
    config = R["WebDistribution"]["Properties"]["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert any(b.get("PathPattern") == "/api/*" for b in behaviours)
    for behaviour in behaviours:
        assert behaviour.get("ResponseHeadersPolicyId") == {"Ref": policy_id}, behaviour.get("PathPattern", "default")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_have_no_inline_script_handler_or_style_and_no_csp_of_their_own(page: Any) -> None:
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"http-equiv\s*=\s*[\"']?content-security-policy", html, re.I), "the header is the home"
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.I | re.S):
        assert not script.strip(), f"inline script: {script[:80]}"
    for tag in re.findall(r"<script\b[^>]*>", html, re.I):
        assert re.fullmatch(r'<script src="[^":]+">', tag), f"a script of this origin only: {tag}"
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), "inline event handler"
    # A javascript: URL in any attribute (prose may name JavaScript: the no-script notice does).
    assert not re.search(r"""=\s*["']?\s*javascript:""", html, re.I), "javascript: URL"
    assert not re.search(r"<style\b|\sstyle\s*=", html, re.I), "inline style"
