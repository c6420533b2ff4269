"""The local stack for a newcomer (issue 14): `make release` and `make upload` find the running
stack by themselves, the documents page, each email's HTML in the mailbox, the README's banner,
and each function logging under its own service name. One real `make run` stack for the module."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.harness.template import ROOT, TEMPLATE, load
from devtools.local.headers import policy_headers
from devtools.local.localproc import LocalProcess
from devtools.local.server import ENTRY_COLUMNS, MAIL_CSP


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalProcess]:
    # Exactly `make run`: default tick, demo data.
    proc = LocalProcess(tmp_path_factory.mktemp("newcomer") / "local.log").start()
    try:
        yield proc
    finally:
        proc.stop()


def cli(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`make upload` / `make release` without PORT: the command finds the stack itself."""
    env = {k: v for k, v in os.environ.items() if k != "PORT"}
    env["LOCAL_STATE_FILE"] = str(state)
    return subprocess.run(
        [sys.executable, "-m", "devtools.local", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def register(local: LocalProcess, who: dict[str, Any], email: str) -> None:
    status, body = local.json(
        "POST",
        "/api/registrations",
        {
            "id_number": who["id_number"],
            "secret_number": who["secret_number"],
            "email": email,
            "password": "Local-stack-42",
            "confirm_password": "Local-stack-42",
            "accept_terms": True,
        },
    )
    assert status == 201, body


# ------------------------------------------------------------------ make release, make upload


def test_release_and_upload_find_the_running_stack_through_its_state_file(local: LocalProcess) -> None:
    state = json.loads(local.state_path.read_text(encoding="utf-8"))
    assert local.proc is not None
    assert state == {"port": local.port, "pid": local.proc.pid, "url": local.url}

    done = cli(local.state_path, "release")
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert [i["function"] for i in answer["invocations"]] == ["ReleaseFunction"], answer

    cb = {c["format"]: c for c in local.status()["demo"]}["CB"]
    releases = local.state_path.with_name("now.csv")
    releases.write_text(f"session_id,release_at\r\n{cb['session_id']},\r\n", encoding="utf-8")
    done = cli(local.state_path, "upload", "--kind", "releases", str(releases))
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["key"] == "releases/now.csv" and answer["report"]["status"] == "accepted", answer


def test_without_a_running_stack_the_commands_say_so(tmp_path: Path) -> None:
    done = cli(tmp_path / "none.json", "release")
    assert done.returncode != 0 and "no local stack is running: start it with `make run`" in done.stderr

    # A state file left by a process that is gone (killed, not stopped): not taken for a stack.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({"port": 1, "pid": gone.pid, "url": "http://127.0.0.1:1"}), encoding="utf-8")
    done = cli(stale, "upload", "--kind", "entries", str(stale))
    assert done.returncode != 0 and f"process {gone.pid} of {stale} is gone" in done.stderr, done.stderr

    # An explicit port wins over the state file, before or after the command (PORT=… make release).
    for args in (("--port", "1", "release"), ("release", "--port", "1")):
        done = cli(stale, *args)
        assert done.returncode != 0 and "no local stack on 127.0.0.1:1 " in done.stderr, (args, done.stderr)


def test_the_state_file_is_removed_when_the_stack_stops(tmp_path: Path) -> None:
    proc = LocalProcess(tmp_path / "local.log", "--tick", "0", env={"LOCAL_DEMO": "0"}).start()
    try:
        assert json.loads(proc.state_path.read_text(encoding="utf-8"))["port"] == proc.port
        assert "  Schedules         ReleaseFunction on `make release` only (timer off)\n" in proc.output()
    finally:
        assert proc.stop() == 0
    assert not proc.state_path.exists()


# ------------------------------------------------------------------ documents page


def test_the_documents_page_lists_and_serves_the_confirmation_of_entry_files(local: LocalProcess) -> None:
    status, _, page = local.request("GET", "/_local/documents")
    assert status == 200 and b"No Confirmation of Entry document yet" in page  # the demo gives its secrets

    # An entries file with a blank Secret Number: the service generates one and writes the
    # centre's documents, the only place it is shown.
    pb = {c["format"]: c for c in local.status()["demo"]}["PB"]
    row = f"{pb['session_id']},C1A,{pb['exam_date']},PB,NEWDOC01,,0003,Nia Newcomer,2004-05-17,GB123,Oxford Language Centre,"
    entries = f"{ENTRY_COLUMNS}\r\n{row}\r\n".encode()
    status, answer = local.control("/_local/upload?kind=entries&name=generated.csv", entries)
    assert status == 200 and answer["report"]["status"] == "accepted", answer

    status, headers, page = local.request("GET", "/_local/documents")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    for name, value in policy_headers(TEMPLATE).items():
        assert headers[name] == value, name
    links = re.findall(r'href="(/_local/documents/file\?key=confirmations/[^"]+)"', page.decode())
    assert any(link.endswith(".pdf") for link in links) and any(link.endswith(".csv") for link in links), page

    csv_link = next(link for link in links if link.endswith(".csv"))
    status, headers, body = local.request("GET", csv_link)
    assert status == 200 and headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    assert headers["Content-Security-Policy"] == policy_headers(TEMPLATE)["Content-Security-Policy"]
    # The centre's copy: the generated Secret Number it hands out, which registers the candidate.
    (document,) = [r for r in csv.DictReader(io.StringIO(body.decode("utf-8-sig"))) if r["id_number"] == "NEWDOC01"]
    register(local, {"id_number": "NEWDOC01", "secret_number": document["secret_number"]}, "doc@example.com")
    status, _, pdf = local.request("GET", next(link for link in links if link.endswith(".pdf")))
    assert status == 200 and pdf.startswith(b"%PDF")

    # Only confirmations/: no way to read the rest of the bucket through this page.
    assert local.request("GET", "/_local/documents/file?key=entries/demo-entries.csv")[0] == 404
    assert local.request("GET", "/_local/documents/file?key=confirmations/none.pdf")[0] == 404
    # The same Host guard as every local page (DNS rebinding).
    assert local.request("GET", "/_local/documents", headers={"Host": "evil.example"})[0] == 421
    assert local.request("GET", csv_link, headers={"Host": f"evil.example:{local.port}"})[0] == 421
    # Linked from the mailbox.
    assert b'href="/_local/documents"' in local.request("GET", "/_local/mailbox")[2]


# ------------------------------------------------------------------ mailbox: HTML and text


def test_the_mailbox_shows_each_emails_html_under_its_own_sandboxed_policy_and_its_text(local: LocalProcess) -> None:
    pb = {c["format"]: c for c in local.status()["demo"]}["PB"]
    register(local, pb, "html@example.com")
    mail = local.wait_for_mail("html@example.com")
    assert mail["html"] and mail["text"]

    status, _, page = local.request("GET", "/_local/mailbox")
    assert status == 200
    href = f'href="/_local/mailbox/{mail["index"]}.html"'.encode()
    assert href in page and b"<h3>Text</h3>" in page

    status, headers, html = local.request("GET", f"/_local/mailbox/{mail['index']}.html")
    assert status == 200 and html.decode() == mail["html"]
    csp = headers["Content-Security-Policy"]
    assert csp == MAIL_CSP and csp.startswith("sandbox ") and "script-src" not in csp
    assert "allow-scripts" not in csp and "allow-same-origin" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    # Its links point to the local pages and work: the confirmation link opens the local page.
    link = next(u for u in mail["links"] if u.startswith(f"{local.url}/confirm.html?token="))
    assert link.replace("&", "&amp;").encode() in html or link.encode() in html
    assert local.request("GET", link[len(local.url) :])[0] == 200

    assert local.request("GET", "/_local/mailbox/999.html")[0] == 404
    assert local.request("GET", "/_local/mailbox/x.html")[0] == 404


# ------------------------------------------------------------------ README banner


def _readme_banner() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("`make run` prints what to open", 1)[1].split("```\n", 2)[1]
    return block.rstrip("\n").split("\n")


def test_the_readme_banner_is_what_make_run_prints(local: LocalProcess) -> None:
    output = local.output().replace(f"127.0.0.1:{local.port}", "127.0.0.1:3000").split("\n")
    expected = _readme_banner()
    first = output.index(expected[0])
    printed = output[first : first + len(expected)]
    for want, got in zip(expected, printed, strict=True):
        pattern = "".join(".+?" if part == "…" else re.escape(part) for part in re.split("(…)", want))
        assert re.fullmatch(pattern, got), f"README: {want!r}\nprinted: {got!r}"


# ------------------------------------------------------------------ service names


def _service_names() -> dict[str, str]:
    resources = load(TEMPLATE)["Resources"]
    return {
        logical: r["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for logical, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
        and "POWERTOOLS_SERVICE_NAME" in r["Properties"].get("Environment", {}).get("Variables", {})
    }


def test_each_function_logs_under_its_own_service_name(local: LocalProcess) -> None:
    names = _service_names()
    cb = {c["format"]: c for c in local.status()["demo"]}["CB"]
    register(local, cb, "logs@example.com")  # RegisterFunction, then MailRequests/Sender as queued
    local.wait_for_mail("logs@example.com")
    seen: dict[str, set[str]] = {}
    for line in local.output().split("\n"):
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        function = record.get("function_name")
        if function and "service" in record:
            logical = next(n for n in names if f"-{n}-" in function)
            seen.setdefault(logical, set()).add(record["service"])
    # Several functions logged, each only under the name the template gives it.
    assert {"ImportEntriesFunction", "PublishResultsFunction", "ReleaseSessionsFunction"} <= set(seen), seen
    assert all(services == {names[logical]} for logical, services in seen.items()), seen


def test_service_names_have_one_style_and_the_dashboard_uses_them() -> None:
    names = _service_names()
    functions = [k for k, r in load(TEMPLATE)["Resources"].items() if r["Type"] == "AWS::Serverless::Function"]
    # Every function but the CloudFront viewer-request one (Lambda@Edge takes no environment).
    assert set(functions) - set(names) <= {"ApiViewerRequestFunction"}
    assert len(set(names.values())) == len(names), names
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", n) for n in names.values()), names
    dashboard = (ROOT / "template.yaml").read_text(encoding="utf-8")
    used = set(re.findall(r'"service", "([^"]+)"', dashboard)) | set(
        re.findall(r'\[".", "[A-Za-z]+", ".", "([^"]+)"\]', dashboard)
    )
    assert used and used <= set(names.values()), used - set(names.values())
