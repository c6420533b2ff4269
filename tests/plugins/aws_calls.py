"""Pytest plugin: record every AWS call each function makes during the whole run, then check
least privilege against ``template.yaml`` (``devtools.iam_check``).

Writes ``test-artifacts/aws-calls.json``. A call that a function's own policy does not allow,
or a wildcard action, fails the run. Grants never used fail only a complete run (``pytest``
with no path, ``-k`` or ``-m`` selection and nothing deselected); in a partial run they are
reported. A function the run never invoked is reported as not checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools import aws_calls, iam_check

_state: dict[str, Any] = {"deselected": 0, "report": None}


def pytest_configure(config: pytest.Config) -> None:
    aws_calls.install()


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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    recorded = aws_calls.RECORDER.to_json()
    artifact = Path(session.config.rootpath) / iam_check.ARTIFACT
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
