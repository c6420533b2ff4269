"""Least privilege, checked against what the functions really did (``devtools.harness.aws_calls``).

For every function the test run invoked:

* each AWS call it made must be allowed by **its own** policy in ``template.yaml``: an
  ``Allow`` statement whose action and resource (table vs index ARN, bucket/key, queue,
  secret, SES identity) match, and whose conditions hold for the call (``ses:FromAddress``...);
* every action × resource its policy grants must have been used by some call (or by the
  function's event source: Lambda polls an SQS queue with the function's role).

For every function of the template: no action with a wildcard (``*``, ``s3:*``, ``s3:Get*``).
A function the run never invoked is listed as such: its "unused grant" check is skipped.

    python -m devtools.harness.iam_check test-artifacts/aws-calls.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from devtools.harness.template import TEMPLATE, load

ARTIFACT = Path("test-artifacts") / "aws-calls.json"


@dataclass
class Statement:
    index: int
    actions: list[str]
    resources: list[str]
    condition: dict[str, Any]
    source: str  # where it came from, for reports


@dataclass
class Report:
    violations: list[str] = field(default_factory=list)  # calls not allowed, wildcard actions, bad forms
    unused: list[str] = field(default_factory=list)  # grants never used
    notes: list[str] = field(default_factory=list)  # functions not invoked, counts

    @property
    def ok(self) -> bool:
        return not self.violations and not self.unused

    def lines(self) -> list[str]:
        out = [f"least privilege: {len(self.violations)} violation(s), {len(self.unused)} unused grant(s)"]
        out += [f"  VIOLATION {v}" for v in self.violations]
        out += [f"  UNUSED    {u}" for u in self.unused]
        out += [f"  note      {n}" for n in self.notes]
        return out


# ------------------------------------------------------------------ policies → statements


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(policies: list[Any]) -> tuple[list[Statement], list[str]]:
    """Allow statements of a function's ``Policies``, and the forms this checker cannot accept."""
    out: list[Statement] = []
    problems: list[str] = []
    for p_index, policy in enumerate(policies):
        if isinstance(policy, str):
            problems.append(f"managed policy {policy!r}: its grants cannot be checked; use inline statements")
            continue
        if isinstance(policy, dict) and "Statement" in policy:
            for s_index, st in enumerate(_listify(policy["Statement"])):
                where = f"Policies[{p_index}].Statement[{s_index}]"
                if st.get("Effect") != "Allow" or "NotAction" in st or "NotResource" in st:
                    problems.append(f"{where}: only Allow statements with Action and Resource are supported")
                    continue
                out.append(
                    Statement(
                        len(out),
                        [str(a) for a in _listify(st.get("Action", []))],
                        [str(r) for r in _listify(st.get("Resource", []))],
                        st.get("Condition", {}) or {},
                        where,
                    )
                )
            continue
        if isinstance(policy, dict) and len(policy) == 1:
            # A SAM policy template expands to grants the checker would have to restate: the
            # template writes every grant as an inline statement instead.
            problems.append(f"Policies[{p_index}]: policy template {next(iter(policy))}: use inline statements")
            continue
        problems.append(f"Policies[{p_index}]: unsupported policy form")
    return out, problems


# ------------------------------------------------------------------ matching


@lru_cache(maxsize=4096)
def _wild(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z", re.S)


def action_matches(pattern: str, action: str) -> bool:
    return bool(_wild(pattern.lower()).match(action.lower()))


def resource_matches(pattern: str, resource: str) -> bool:
    return bool(_wild(pattern).match(resource))


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> tuple[bool, str]:
    """Whether every condition of a statement holds for a call (IAM semantics, the common operators)."""
    ctx = {k.lower(): v for k, v in context.items()}
    ctx.setdefault("aws:securetransport", "true")
    for operator, tests in condition.items():
        op = operator.removeprefix("ForAllValues:").removeprefix("ForAnyValue:")
        if_exists = op.endswith("IfExists")
        op = op.removesuffix("IfExists")
        for key, expected in tests.items():
            expected_values = [str(v) for v in _listify(expected)]
            actual = ctx.get(key.lower())
            if actual is None:
                if if_exists:
                    continue
                return False, f"condition key {key} is not known for this call"
            if op in {"StringEquals", "ArnEquals"}:
                ok = actual in expected_values
            elif op == "StringEqualsIgnoreCase":
                ok = actual.lower() in {v.lower() for v in expected_values}
            elif op in {"StringLike", "ArnLike"}:
                ok = any(resource_matches(v, actual) for v in expected_values)
            elif op == "StringNotEquals":
                ok = actual not in expected_values
            elif op == "Bool":
                ok = actual.lower() in {v.lower() for v in expected_values}
            else:
                return False, f"condition operator {operator} is not supported by the checker"
            if not ok:
                return False, f"{operator} {key}={actual!r} not in {expected_values}"
    return True, ""


def _event_needs(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Actions the function's event sources use with its role (Lambda polls queues and streams)."""
    out = []
    for event in events:
        props = event.get("properties", {})
        if event.get("type") == "SQS" and isinstance(props.get("Queue"), str):
            for action in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes", "ChangeMessageVisibility"):
                out.append((f"sqs:{action}", props["Queue"]))
        if event.get("type") in {"DynamoDB", "Kinesis"} and isinstance(props.get("Stream"), str):
            prefix = "dynamodb" if event["type"] == "DynamoDB" else "kinesis"
            for action in ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"):
                out.append((f"{prefix}:{action}", props["Stream"]))
    return out


# ------------------------------------------------------------------ the check


def wildcard_actions(template: dict[str, Any]) -> list[str]:
    """Every policy action with a wildcard, in any function of the template."""
    found = []
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for p_index, policy in enumerate(resource.get("Properties", {}).get("Policies", []) or []):
            if not (isinstance(policy, dict) and "Statement" in policy):
                continue
            for s_index, st in enumerate(_listify(policy["Statement"])):
                for action in _listify(st.get("Action", [])):
                    if "*" in str(action) or "?" in str(action):
                        found.append(f"{logical} Policies[{p_index}].Statement[{s_index}]: action {action!r}")
    return found


def check(recorded: dict[str, Any], template: dict[str, Any] | None = None) -> Report:
    template = template if template is not None else load(TEMPLATE)
    report = Report()
    report.violations += [f"wildcard action: {w}" for w in wildcard_actions(template)]
    declared = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"]
    functions = recorded.get("functions", {})
    for logical in declared:
        if logical not in functions:
            report.notes.append(f"{logical}: not invoked in this run, its unused-grant check is skipped")
    # Test stacks (tests/e2e/local's Recorder, Slow, …) and fixtures' calls are not this template's:
    # one count, not a line each that reads like stale data. A name in the template's own naming
    # style (all its functions end in "Function") that it no longer declares is a real warning.
    suffix = "Function" if declared and all(d.endswith("Function") for d in declared) else None
    outside = int(recorded.get("unattributed_calls", 0))
    for logical, data in sorted(functions.items()):
        if logical not in declared:
            if suffix and logical.endswith(suffix):
                report.notes.append(f"{logical}: recorded but no longer in the template")
            else:
                outside += sum(data.get("calls", {}).values())
            continue
        stmts, problems = statements(data.get("policies", []))
        report.violations += [f"{logical}: {p}" for p in problems]
        used: set[tuple[int, str, str]] = set()
        for need in data.get("needs", []):
            allowed = False
            why = ""
            for st in stmts:
                actions = [a for a in st.actions if action_matches(a, need["action"])]
                resources = [
                    r for r in st.resources for alt in need["resource"].split(" | ") if resource_matches(r, alt)
                ]
                if not actions or not resources:
                    continue
                holds, why = _condition_holds(st.condition, need.get("context", {}))
                if holds:
                    allowed = True
                    used.update((st.index, a, r) for a in actions for r in resources)
            if not allowed:
                report.violations.append(
                    f"{logical}: {need['action']} on {need['resource']} ({need.get('count', 1)} call(s)) "
                    f"is not allowed by its policy" + (f": {why}" if why else "")
                )
        for action, resource in _event_needs(data.get("events", [])):
            for st in stmts:
                for a in st.actions:
                    for r in st.resources:
                        if action_matches(a, action) and resource_matches(r, resource):
                            used.add((st.index, a, r))
        for st in stmts:
            for a in st.actions:
                for r in st.resources:
                    if (st.index, a, r) not in used:
                        report.unused.append(f"{logical} {st.source}: {a} on {r} is granted but never used")
        calls = sum(data.get("calls", {}).values())
        report.notes.append(f"{logical}: {calls} call(s), {len(data.get('needs', []))} distinct need(s) checked")
    if outside:
        report.notes.append(f"calls outside this template's functions (test stacks, fixtures): {outside}, not checked")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="check recorded AWS calls against template.yaml")
    parser.add_argument("artifact", nargs="?", type=Path, default=ARTIFACT)
    parser.add_argument("--allow-unused", action="store_true", help="report unused grants without failing")
    args = parser.parse_args(argv)
    report = check(json.loads(args.artifact.read_text(encoding="utf-8")))
    print("\n".join(report.lines()))
    failed = bool(report.violations) or (bool(report.unused) and not args.allow_unused)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
