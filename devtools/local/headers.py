"""The security response headers, from their one home: the CloudFront response headers policy of
``template.yaml`` (on the pages and on ``/api/*``). The local server sends the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devtools.harness.template import TEMPLATE, load


def policy_headers(template_path: Path = TEMPLATE) -> dict[str, str]:
    """Header name -> value, as CloudFront sends them for the template's ResponseHeadersPolicy
    (none when the template has no such policy)."""
    resources = load(template_path).get("Resources", {})
    policies = [r for r in resources.values() if r.get("Type") == "AWS::CloudFront::ResponseHeadersPolicy"]
    if not policies:
        return {}
    (policy,) = policies
    config: dict[str, Any] = policy["Properties"]["ResponseHeadersPolicyConfig"]
    security: dict[str, Any] = config.get("SecurityHeadersConfig", {})
    headers: dict[str, str] = {}
    if "ContentSecurityPolicy" in security:
        headers["Content-Security-Policy"] = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    if "StrictTransportSecurity" in security:
        hsts = security["StrictTransportSecurity"]
        value = f"max-age={hsts['AccessControlMaxAgeSec']}"
        if hsts.get("IncludeSubdomains"):
            value += "; includeSubDomains"
        if hsts.get("Preload"):
            value += "; preload"
        headers["Strict-Transport-Security"] = value
    if "ContentTypeOptions" in security:
        headers["X-Content-Type-Options"] = "nosniff"
    if "FrameOptions" in security:
        headers["X-Frame-Options"] = security["FrameOptions"]["FrameOption"]
    if "ReferrerPolicy" in security:
        headers["Referrer-Policy"] = security["ReferrerPolicy"]["ReferrerPolicy"]
    for item in config.get("CustomHeadersConfig", {}).get("Items", []):
        headers[item["Header"]] = item["Value"]
    return headers
