"""``make run``'s local stack as a child process, for tests: start, wait for readiness, call, stop.

The child is exactly what ``make run`` starts (``python -m devtools.local``) with ``PORT=0``; its
readiness line gives the port. Output goes to a file (a pipe nobody reads would block it).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from devtools.harness.template import ROOT
from devtools.local.server import CONTROL_HEADER, HOST, READY

_READY = re.compile(re.escape(READY) + r" http://127\.0\.0\.1:(\d+)/")


class LocalProcess:
    def __init__(self, log_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        self.args = args
        # Its own state file: a test's stack never takes the place of the developer's `make run`.
        self.state_path = log_path.with_name(log_path.stem + "-state.json")
        self.env = {
            **os.environ,
            "PORT": "0",
            "PYTHONUNBUFFERED": "1",
            "LOCAL_STATE_FILE": str(self.state_path),
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 60.0) -> LocalProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "devtools.local", *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = _READY.search(self.output())
            if found:
                self.port = int(found.group(1))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"the local stack exited with {self.proc.returncode}:\n{self.output()}")
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the local stack was not ready within {timeout} s:\n{self.output()}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise RuntimeError(f"the local stack ignored signal {sig}:\n{self.output()}") from None
        return self.proc.returncode

    # -- HTTP helpers

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers.items()), err.read()

    def json(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        status, _, raw = self.request(method, path, data, {"Content-Type": "application/json"})
        return status, json.loads(raw) if raw else None

    def control(self, path: str, body: bytes = b"") -> tuple[int, Any]:
        status, _, raw = self.request("POST", path, body, {CONTROL_HEADER: "1"})
        return status, json.loads(raw) if raw else None

    def status(self) -> dict[str, Any]:
        return dict(self.json("GET", "/_local/status.json")[1])

    def mails_to(self, address: str) -> list[dict[str, Any]]:
        messages = self.json("GET", "/_local/mailbox.json")[1]["messages"]
        return [m for m in messages if address.lower() in (a.lower() for a in m["to"])]

    def wait_for_mail(self, address: str, count: int = 1, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            mails = self.mails_to(address)
            if len(mails) >= count:
                return mails[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no email number {count} to {address}: {mails}")
            time.sleep(0.2)
