"""Debian's chromium driven by Playwright against `make run`'s local stack (a child process).

Never downloads a browser: the test run fails, with the fix in the message, when `chromium`
is not installed (`make browser`, or `apt-get install chromium`; CI installs it).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from devtools.harness.template import ROOT
from devtools.local.localproc import LocalProcess

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium")
    if not path:
        pytest.fail(
            "Debian's chromium is not installed, so the browser tests cannot run. "
            "Install it with `make browser` (as root: apt-get update && apt-get install chromium). "
            "Never let Playwright download a browser.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalProcess]:
    log = tmp_path_factory.mktemp("local") / "local.log"
    proc = LocalProcess(log, "--tick", "2").start()
    yield proc
    assert proc.stop() == 0, proc.output()


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, local: LocalProcess) -> Iterator[Page]:
    context = browser.new_context(base_url=local.url, viewport={"width": 1024, "height": 800})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


class Shots:
    """One screenshot per page visited, kept as a test artefact (not committed)."""

    def __init__(self, test_name: str) -> None:
        self.prefix = re.sub(r"[^A-Za-z0-9_-]+", "-", test_name).strip("-")
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Page, label: str) -> Path:
        self.count += 1
        path = SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)


def demo(local: LocalProcess, fmt: str) -> dict[str, Any]:
    return next(c for c in local.status()["demo"] if c["format"] == fmt)
