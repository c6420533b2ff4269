"""The per-IP rate rule in front of the credential routes (WAF), declared in template.yaml."""

from __future__ import annotations

from devtools.template import TEMPLATE, load


def _strings(node):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def test_a_rate_based_rule_limits_each_ip_on_registration_login_and_verification():
    resources = load(TEMPLATE)["Resources"]
    acls = {k: v for k, v in resources.items() if v["Type"] == "AWS::WAFv2::WebACL"}
    assert len(acls) == 1
    ((acl_id, acl),) = acls.items()
    assert acl["Properties"]["Scope"] == "REGIONAL"
    assert "Allow" in acl["Properties"]["DefaultAction"]
    rules = [r for r in acl["Properties"]["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rules, "no rate-based rule"
    rate = rules[0]["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP"
    assert rate["Limit"] <= 300 and rate.get("EvaluationWindowSec", 300) >= 300
    assert "Block" in rules[0]["Action"]
    scope = list(_strings(rate["ScopeDownStatement"]))
    for path in ("/registrations", "/verifications", "/sessions"):
        assert path in scope
    assert "POST" in scope

    associations = [v for v in resources.values() if v["Type"] == "AWS::WAFv2::WebACLAssociation"]
    assert len(associations) == 1
    props = associations[0]["Properties"]
    assert props["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    arn = props["ResourceArn"]["Fn::Sub"]
    assert "/restapis/${Api}/stages/${Api.Stage}" in arn
    assert resources["Api"]["Type"] == "AWS::Serverless::Api"
