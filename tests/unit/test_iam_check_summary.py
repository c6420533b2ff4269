"""The least-privilege summary printed after the test run: test stacks' functions and calls made
outside any function are counted on one line, not reported as stale template functions."""

from __future__ import annotations

from typing import Any

import yaml

from devtools.harness import iam_check

TEMPLATE = yaml.safe_load(
    "Resources:\n"
    "  LoginFunction:\n    Type: AWS::Serverless::Function\n    Properties: {Policies: []}\n"
    "  ResultsFunction:\n    Type: AWS::Serverless::Function\n    Properties: {Policies: []}\n"
)


def _fn(calls: int) -> dict[str, Any]:
    return {"calls": {"s3:GetObject": calls}, "needs": [], "policies": [], "events": []}


def test_test_stack_functions_and_unattributed_calls_are_one_line_not_stale_template_functions() -> None:
    recorded = {
        "functions": {"LoginFunction": _fn(2), "Recorder": _fn(3), "Other": _fn(1), "Slow": _fn(4)},
        "unattributed_calls": 10,
    }
    lines = iam_check.check(recorded, TEMPLATE).lines()
    text = "\n".join(lines)
    assert "no longer in the template" not in text, text
    for name in ("Recorder", "Other", "Slow"):
        assert not any(line.split()[1:2] == [f"{name}:"] for line in lines), text
    outside = [line for line in lines if "outside this template's functions" in line]
    assert outside == ["  note      calls outside this template's functions (test stacks, fixtures): 18, not checked"]
    assert "  note      LoginFunction: 2 call(s), 0 distinct need(s) checked" in lines


def test_a_recorded_name_that_looks_like_a_template_function_is_still_reported_as_stale() -> None:
    recorded = {"functions": {"LoginFunction": _fn(1), "SendReminderFunction": _fn(1)}, "unattributed_calls": 0}
    lines = iam_check.check(recorded, TEMPLATE).lines()
    assert "  note      SendReminderFunction: recorded but no longer in the template" in lines
    assert not any("outside this template's functions" in line for line in lines)
