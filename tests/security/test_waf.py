"""The web ACL in front of the API (WAF) and the CloudFront path to it, as declared in template.yaml.

Requests reach the API only through CloudFront: its viewer-request function (run here with node)
writes the client's address into a header the client cannot choose, CloudFront adds a secret
origin header, and the REGIONAL web ACL on the API stage blocks requests without that secret and
rate-limits every POST per client address. A small evaluator below applies the template's own
rule statements (byte matches with their text transformations and positional constraints) to
requests spelled the ways an attacker would spell them.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import playwright
import pytest

from devtools.harness.template import TEMPLATE, load

T = load(TEMPLATE)
R = T["Resources"]
STAGE = T["Parameters"]["Stage"]["Default"]
SECRET = "origin-secret-from-secrets-manager"
EDGE_IP = "130.176.12.34"  # a CloudFront edge address: the API's peer for every viewer
CLIENT_IP = "203.0.113.9"


# ---------------------------------------------------------------- a small WAF evaluator


@dataclass
class Request:
    """A request as the API's web ACL sees it."""

    method: str
    path: str  # as received by API Gateway: stage prefix, percent-encoding and all
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    source_ip: str = EDGE_IP


def _resolve(value: Any) -> Any:
    """The template's values with the origin secret's dynamic reference resolved."""
    if isinstance(value, dict) and "Fn::Sub" in value and "{{resolve:secretsmanager:" in str(value["Fn::Sub"]):
        return SECRET
    return value


def _transform(text: str, kind: str) -> str:
    if kind == "NONE":
        return text
    if kind == "LOWERCASE":
        return text.lower()
    if kind in {"URL_DECODE", "URL_DECODE_UNI"}:
        return unquote(text)
    if kind == "NORMALIZE_PATH":
        text = re.sub(r"/{2,}", "/", text)
        parts: list[str] = []
        for part in text.split("/"):
            if part == ".":
                continue
            if part == ".." and len(parts) > 1:
                parts.pop()
                continue
            parts.append(part)
        return "/".join(parts)
    if kind == "COMPRESS_WHITE_SPACE":
        return re.sub(r"\s+", " ", text)
    raise AssertionError(f"the evaluator does not model the text transformation {kind}")


def _field(spec: dict[str, Any], request: Request) -> str | None:
    if "Method" in spec:
        return request.method
    if "UriPath" in spec:
        return request.path
    if "SingleHeader" in spec:
        return request.headers.get(spec["SingleHeader"]["Name"].lower())
    raise AssertionError(f"the evaluator does not model the field {spec}")


def _byte_match(stmt: dict[str, Any], request: Request) -> bool:
    value = _field(stmt["FieldToMatch"], request)
    if value is None:
        return False
    for step in sorted(stmt["TextTransformations"], key=lambda t: t["Priority"]):
        value = _transform(value, step["Type"])
    wanted = _resolve(stmt["SearchString"])
    where = stmt["PositionalConstraint"]
    if where == "EXACTLY":
        return value == wanted
    if where == "STARTS_WITH":
        return value.startswith(wanted)
    if where == "ENDS_WITH":
        return value.endswith(wanted)
    if where == "CONTAINS":
        return wanted in value
    if where == "CONTAINS_WORD":
        return re.search(rf"(?<![A-Za-z0-9_]){re.escape(wanted)}(?![A-Za-z0-9_])", value) is not None
    raise AssertionError(f"unknown positional constraint {where}")


def matches(stmt: dict[str, Any], request: Request) -> bool:
    if "ByteMatchStatement" in stmt:
        return _byte_match(stmt["ByteMatchStatement"], request)
    if "AndStatement" in stmt:
        return all(matches(s, request) for s in stmt["AndStatement"]["Statements"])
    if "OrStatement" in stmt:
        return any(matches(s, request) for s in stmt["OrStatement"]["Statements"])
    if "NotStatement" in stmt:
        return not matches(stmt["NotStatement"]["Statement"], request)
    raise AssertionError(f"the evaluator does not model {sorted(stmt)}")


def acl() -> dict[str, Any]:
    (found,) = [v["Properties"] for v in R.values() if v["Type"] == "AWS::WAFv2::WebACL"]
    return found


def rules() -> list[dict[str, Any]]:
    return sorted(acl()["Rules"], key=lambda r: r["Priority"])


def first_terminating_rule(request: Request) -> str | None:
    """Name of the first custom rule that blocks the request (rate rules under their limit and
    AWS managed groups, which the evaluator cannot see into, do not match)."""
    for rule in rules():
        stmt = rule["Statement"]
        if "RateBasedStatement" in stmt or "ManagedRuleGroupStatement" in stmt:
            continue
        if "Block" in rule.get("Action", {}) and matches(stmt, request):
            return str(rule["Name"])
    return None


def rate_keys(request: Request) -> list[str]:
    """The address each rate-based rule counts this request against (none: not counted)."""
    keys = []
    for rule in rules():
        rate = rule["Statement"].get("RateBasedStatement")
        if rate is None or ("ScopeDownStatement" in rate and not matches(rate["ScopeDownStatement"], request)):
            continue
        kind = rate["AggregateKeyType"]
        if kind == "IP":
            keys.append(request.source_ip)
        elif kind == "FORWARDED_IP":
            header = request.headers.get(rate["ForwardedIPConfig"]["HeaderName"].lower())
            if header is None:
                continue  # WAF does not apply the rule at all
            first = header.split(",")[0].strip()
            try:
                keys.append(str(ipaddress.ip_address(first)))
            except ValueError:
                if rate["ForwardedIPConfig"]["FallbackBehavior"] == "MATCH":
                    keys.append("<invalid address: counted together>")
        else:
            raise AssertionError(f"the evaluator does not model the aggregate key {kind}")
    return keys


# ---------------------------------------------------------------- CloudFront in front of it


def _node() -> str:
    # Debian's node when installed, else the one Playwright (a pinned test dependency) ships.
    found = shutil.which("node") or str(Path(playwright.__file__).parent / "driver" / "node")
    assert Path(found).exists(), "no node to run the CloudFront function with"
    return found


def _api_behaviour() -> dict[str, Any]:
    config = R["WebDistribution"]["Properties"]["DistributionConfig"]
    (behaviour,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    return behaviour


def run_viewer_request_function(
    requests: list[tuple[str, str, dict[str, str]]], viewer_ip: str
) -> list[dict[str, Any]]:
    """Run the /api/* behaviour's viewer-request CloudFront Function of the template on each
    (method, uri, headers) viewer request, in one node process."""
    (association,) = [a for a in _api_behaviour()["FunctionAssociations"] if a["EventType"] == "viewer-request"]
    function_id = association["FunctionARN"]["Fn::GetAtt"][0]
    code = R[function_id]["Properties"]["FunctionCode"]
    events = [
        {
            "version": "1.0",
            "context": {"eventType": "viewer-request"},
            "viewer": {"ip": viewer_ip},
            "request": {
                "method": method,
                "uri": uri,
                "querystring": {},
                "headers": {k.lower(): {"value": v} for k, v in headers.items()},
                "cookies": {},
            },
        }
        for method, uri, headers in requests
    ]
    script = code + "\nconsole.log(JSON.stringify(" + json.dumps(events) + ".map(handler)));\n"
    out = subprocess.run([_node(), "-e", script], capture_output=True, text=True, timeout=60, check=True)
    result: list[dict[str, Any]] = json.loads(out.stdout)
    return result


def through_cloudfront(requests: list[tuple[str, str, dict[str, str]]], viewer_ip: str = CLIENT_IP) -> list[Request]:
    """What the API's web ACL sees for viewers' requests to https://<distribution>/api/...:
    the function's result, the origin's custom headers (they replace the viewer's), the viewer's
    address appended to X-Forwarded-For, the origin path before the URI, the edge as the peer."""
    config = R["WebDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = [o for o in config["Origins"] if o["Id"] == _api_behaviour()["TargetOriginId"]]
    prefix = origin["OriginPath"]["Fn::Sub"].replace("${Stage}", STAGE)
    seen = []
    for request in run_viewer_request_function(requests, viewer_ip):
        sent = {k: v["value"] for k, v in request["headers"].items()}
        for custom in origin.get("OriginCustomHeaders", []):
            sent[custom["HeaderName"].lower()] = _resolve(custom["HeaderValue"])
        sent["x-forwarded-for"] = ", ".join(filter(None, [sent.get("x-forwarded-for"), viewer_ip]))
        seen.append(Request(request["method"], prefix + request["uri"], sent, EDGE_IP))
    return seen


def credential_routes() -> list[str]:
    """Every POST route of the API (each checks a credential or sends a mail)."""
    routes = []
    for resource in R.values():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            props = event.get("Properties", {})
            if event.get("Type") == "Api" and props.get("Method", "").lower() == "post":
                routes.append(props["Path"])
    return sorted(routes)


def spellings(route: str) -> list[str]:
    """Paths API Gateway or the resolver may route to ``route``, as a viewer would send them."""
    last = route[-1]
    return [
        route,
        route + "/",
        route.upper(),
        "/" + route,
        route.replace("/", "//"),
        route + "%2F",
        route[:-1] + f"%{ord(last):02X}",
        route + "/.",
        "/api" + route,
        route + ";x",
    ]


SPOOFED = {"X-Forwarded-For": "198.51.100.1", "X-Client-IP": "198.51.100.2", "X-Origin-Verify": "guess"}


# ---------------------------------------------------------------- tests


def test_there_is_one_regional_web_acl_on_the_api_stage_that_allows_by_default() -> None:
    acls = {k: v for k, v in R.items() if v["Type"] == "AWS::WAFv2::WebACL"}
    assert len(acls) == 1
    ((acl_id, found),) = acls.items()
    assert found["Properties"]["Scope"] == "REGIONAL"
    assert "Allow" in found["Properties"]["DefaultAction"]
    associations = [v for v in R.values() if v["Type"] == "AWS::WAFv2::WebACLAssociation"]
    assert len(associations) == 1
    props = associations[0]["Properties"]
    assert props["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert "/restapis/${Api}/stages/${Api.Stage}" in props["ResourceArn"]["Fn::Sub"]
    (rate,) = [r for r in rules() if "RateBasedStatement" in r["Statement"]]
    assert "Block" in rate["Action"]
    limit = rate["Statement"]["RateBasedStatement"]
    assert limit["Limit"] <= 300 and limit.get("EvaluationWindowSec", 300) >= 300


@pytest.mark.parametrize("route", credential_routes())
def test_every_spelling_of_a_credential_route_is_counted_against_the_clients_own_address(route: str) -> None:
    assert {"/registrations", "/sessions", "/verifications", "/password-resets"} <= set(credential_routes())
    sent = [
        (m, "/api" + p, {"Content-Type": "application/json", **SPOOFED})
        for p in spellings(route)
        for m in ("POST", "post")
    ]
    missed = {}
    for (method, uri, _), request in zip(sent, through_cloudfront(sent), strict=True):
        assert first_terminating_rule(request) is None, uri  # an honest-looking request gets through
        keys = rate_keys(request)
        if keys != [CLIENT_IP]:
            missed[f"{method} {uri}"] = keys
    assert not missed, f"counted against the wrong address, or not at all: {missed}"


def test_viewers_reach_the_distribution_over_ipv4_only() -> None:
    # Counting per address means little over IPv6, where one client holds a /64 of them.
    assert R["WebDistribution"]["Properties"]["DistributionConfig"]["IPV6Enabled"] is False


def test_page_and_results_reads_are_not_counted() -> None:
    for request in through_cloudfront(
        [("GET", u, {"Authorization": "Bearer x"}) for u in ("/api/me", "/api/me/results")]
    ):
        assert rate_keys(request) == [] and first_terminating_rule(request) is None


def test_the_api_answers_only_requests_that_came_through_cloudfront() -> None:
    direct = [
        Request("POST", f"/{STAGE}/sessions", {}, CLIENT_IP),
        Request("POST", f"/{STAGE}/sessions", {"x-origin-verify": "guess"}, CLIENT_IP),
        Request("GET", f"/{STAGE}/me/results", {"x-origin-verify": SECRET.upper()}, CLIENT_IP),
        Request("POST", f"/{STAGE}/sessions", {"x-client-ip": "198.51.100.7"}, CLIENT_IP),
    ]
    for request in direct:
        assert first_terminating_rule(request) is not None, request
    verify = [r for r in rules() if "Block" in r.get("Action", {}) and "RateBasedStatement" not in r["Statement"]]
    assert verify and verify[0]["Priority"] == min(r["Priority"] for r in rules()), "checked first"
    # CloudFront's origin header and the ACL name one Secrets Manager secret, never a literal.
    config = R["WebDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = [o for o in config["Origins"] if o["Id"] == "api"]
    (custom,) = origin["OriginCustomHeaders"]
    assert "{{resolve:secretsmanager:" in custom["HeaderValue"]["Fn::Sub"]
    assert json.dumps(custom["HeaderValue"]) in json.dumps(verify[0]["Statement"])


def test_the_viewer_request_function_strips_api_and_overwrites_the_client_address_header() -> None:
    out, root = run_viewer_request_function(
        [("POST", "/api/sessions", {"X-Client-IP": "198.51.100.2"}), ("GET", "/api", {})], CLIENT_IP
    )
    assert out["uri"] == "/sessions"
    assert out["headers"]["x-client-ip"] == {"value": CLIENT_IP}
    assert root["uri"] == "/" and root["headers"]["x-client-ip"] == {"value": CLIENT_IP}


def test_aws_managed_rules_for_known_bad_inputs_block_except_on_bodies_that_carry_passwords() -> None:
    groups = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]: r
        for r in rules()
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert {"AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesCommonRuleSet"} <= set(groups)
    for rule in groups.values():
        assert rule["OverrideAction"] == {"None": {}}, "the group's own Block actions apply"
        stmt = rule["Statement"]["ManagedRuleGroupStatement"]
        assert stmt["VendorName"] == "AWS"
        # A password may be any printable text (SPEC §4): body rules only count, never block.
        for override in stmt.get("RuleActionOverrides", []):
            assert override["Name"].endswith("_BODY") and override["ActionToUse"] == {"Count": {}}, override
    # The rate rule runs before them: a flood is cut without paying for the managed groups.
    rate = next(r for r in rules() if "RateBasedStatement" in r["Statement"])
    assert rate["Priority"] < min(r["Priority"] for r in groups.values())
