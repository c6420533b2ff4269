"""docs/openapi.json: generated from the resolvers, up to date, and true to the template."""

from __future__ import annotations

import json

from devtools import openapi
from devtools.harness.template import TEMPLATE, load


def test_committed_document_is_up_to_date():
    committed = openapi.OUTPUT.read_text(encoding="utf-8")
    assert committed == openapi.render(openapi.build()), "docs/openapi.json is stale: run `make openapi`"


def test_every_template_route_is_documented_with_its_error_bodies():
    doc = json.loads(openapi.OUTPUT.read_text(encoding="utf-8"))
    routes = set()
    for _fn, (_path, _attr, _layers, fn_routes) in openapi.api_functions(load(TEMPLATE)).items():
        routes |= fn_routes
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == routes
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert any(c.startswith("2") for c in codes), (method, path)
            for code, response in op["responses"].items():
                if code.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
            if op.get("security"):
                assert "401" in codes
            if "requestBody" in op:
                assert "422" in codes, (method, path)
    error = doc["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["code", "message"]


def test_patch_me_documents_its_body():
    doc = json.loads(openapi.OUTPUT.read_text(encoding="utf-8"))
    body = doc["paths"]["/me"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ProfileUpdate"}
    assert doc["components"]["schemas"]["ProfileUpdate"]["properties"]["newsletter_opt_in"]["type"] == "boolean"
