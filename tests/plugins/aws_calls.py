"""Pytest plugin: record every AWS call each function makes during the whole run, then check
least privilege against ``template.yaml`` (``devtools.harness.iam_check``).

Writes ``test-artifacts/aws-calls.json``. Under pytest-xdist each worker writes its own
``aws-calls-<worker>.json`` and the controller merges them before checking. A call that a function's own policy does not allow,
or a wildcard action, fails the run. Grants never used fail only a complete run (``pytest``
with no path, ``-k`` or ``-m`` selection and nothing deselected); in a partial run they are
reported. A function the run never invoked is reported as not checked.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from devtools.harness import aws_calls, iam_check

_state: dict[str, Any] = {"deselected": 0, "report": None}


def pytest_configure(config: pytest.Config) -> None:
    aws_calls.install()
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # a fresh run: no worker files left from an old one
        for stale in (Path(config.rootpath) / iam_check.ARTIFACT).parent.glob("aws-calls-gw*.json"):
            stale.unlink()


def pytest_deselected(items: list[pytest.Item]) -> None:
    _state["deselected"] += len(items)


def _complete_run(config: pytest.Config) -> bool:
    testpaths = [str(Path(config.rootpath, p)) for p in config.getini("testpaths")]
    args = [str(Path(config.invocation_params.dir, a.split("::")[0])) for a in config.args]
    return (
        sorted(args) == sorted(testpaths)
        and not config.getoption("keyword", "")
        and not config.getoption("markexpr", "")
        and not _state["deselected"]
        and not config.getoption("lf", False)
    )


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One recording from several processes' recordings (counts summed, needs and events joined)."""
    merged: dict[str, Any] = {"functions": {}, "unattributed_calls": 0}
    for part in parts:
        merged["unattributed_calls"] += part.get("unattributed_calls", 0)
        for fn, data in part.get("functions", {}).items():
            into = merged["functions"].setdefault(fn, {"calls": {}, "needs": [], "policies": [], "events": []})
            for op, n in data.get("calls", {}).items():
                into["calls"][op] = into["calls"].get(op, 0) + n
            for need in data.get("needs", []):
                same = next(
                    (n for n in into["needs"] if {**n, "count": 0} == {**need, "count": 0}),
                    None,
                )
                if same is None:
                    into["needs"].append(dict(need))
                else:
                    same["count"] = same.get("count", 0) + need.get("count", 0)
            into["policies"] = into["policies"] or data.get("policies", [])
            into["events"] += [e for e in data.get("events", []) if e not in into["events"]]
    return merged


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    artifact = Path(session.config.rootpath) / iam_check.ARTIFACT
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:  # an xdist worker: leave the recording for the controller
        aws_calls.RECORDER.write(artifact.with_name(f"aws-calls-{worker}.json"))
        return
    parts = sorted(artifact.parent.glob("aws-calls-gw*.json")) if artifact.parent.exists() else []
    if parts and getattr(session.config.option, "numprocesses", None):
        recorded = _merge([json.loads(p.read_text(encoding="utf-8")) for p in parts])
        for p in parts:
            p.unlink()
        artifact.write_text(json.dumps(recorded, indent=1) + "\n", encoding="utf-8")
    else:
        recorded = aws_calls.RECORDER.to_json()
        aws_calls.RECORDER.write(artifact)
    if not recorded["functions"]:
        return
    report = iam_check.check(recorded)
    strict = _complete_run(session.config)
    if not strict and report.unused:
        report.notes.append("partial run: unused grants are reported, not failed")
    _state["report"] = report
    if report.violations or (strict and report.unused):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    report = _state.get("report")
    if report is None:
        return
    terminalreporter.section("least privilege (test-artifacts/aws-calls.json)")
    for line in report.lines():
        terminalreporter.write_line(line)
