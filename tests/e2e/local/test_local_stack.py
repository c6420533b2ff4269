"""Smoke test of `make run`: the real entry point as a child process, then Ctrl-C."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path
from urllib.parse import unquote_plus

from devtools.local.localproc import LocalProcess


def closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_make_run_serves_api_pages_and_mailbox_then_stops_on_ctrl_c(tmp_path: Path) -> None:
    started = time.monotonic()
    local = LocalProcess(tmp_path / "local.log", "--tick", "0").start()
    ready_after = time.monotonic() - started
    try:
        status, body = local.json("POST", "/api/sessions", {"id_number": "NOSUCH1", "password": "Wrong-pass-12"})
        assert status == 401 and body["code"] == "invalid_credentials", body

        status, headers, page = local.request("GET", "/")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert b'<script src="config.js"></script>' in page
        status, _, config = local.request("GET", "/config.js")
        assert status == 200 and b'apiBase: "/api"' in config
        assert local.request("GET", "/../template.yaml")[0] == 404
        assert local.request("GET", "/nothing-here.html")[0] == 404

        status, body = local.json("GET", "/api/no/such/route")
        assert (status, body) == (403, {"message": "Missing Authentication Token"})

        # Swagger UI over the OpenAPI document, served from the local package (no CDN).
        status, headers, page = local.request("GET", "/_local/docs")
        assert status == 200 and b"/_local/openapi.json" in page
        assert local.request("GET", "/_local/docs/swagger-ui-bundle.js")[0] == 200
        status, document = local.json("GET", "/_local/openapi.json")
        assert status == 200 and document["servers"] == [{"url": "/api"}] and "/registrations" in document["paths"]

        info = local.status()
        assert info["web"] == f"{local.url}/"
        assert "POST /sessions → LoginFunction" in info["routes"]
        demo = {c["format"]: c for c in info["demo"]}
        assert set(demo) == {"PB", "CB"} and demo["PB"]["has_result"]
        assert f"ID Number {demo['PB']['id_number']}  Secret Number {demo['PB']['secret_number']}" in local.output()

        # A demo candidate registers; the confirmation email is in the mailbox with a local link.
        pb = demo["PB"]
        status, body = local.json(
            "POST",
            "/api/registrations",
            {
                "id_number": pb["id_number"],
                "secret_number": pb["secret_number"],
                "email": "pb@example.com",
                "password": "Local-stack-42",
                "confirm_password": "Local-stack-42",
                "accept_terms": True,
            },
        )
        assert status == 201, body
        mail = local.wait_for_mail("pb@example.com")
        assert any(link.startswith(f"{local.url}/confirm.html?token=") for link in mail["links"]), mail
        status, _, html = local.request("GET", "/_local/mailbox")
        assert status == 200 and b"pb@example.com" in html and b'href="http://127.0.0.1:' in html

        # make upload KIND=releases: the CB session brought forward to now, then released by the schedule.
        assert "uploaded entries, results and releases files" in info["demo_loaded"], info["demo_loaded"]
        cb = demo["CB"]
        assert cb["has_result"] and cb["release_at"]
        assert f"released early at about {cb['release_at'][11:16]} UTC" in local.output()
        body = f"session_id,release_at\r\n{cb['session_id']},\r\n".encode()
        status, answer = local.control("/_local/upload?kind=releases&name=now.csv", body)
        assert status == 200 and answer["report"]["status"] == "accepted", answer

        # A reset request is only queued (202); the stack polls the template's mail request queue
        # and runs MailRequestsFunction, which sends the email.
        status, body = local.json("POST", "/api/password-resets", {"id_number": pb["id_number"]})
        assert status == 202, body
        reset = local.wait_for_mail("pb@example.com", count=2)
        assert any(link.startswith(f"{local.url}/reset.html?token=") for link in reset["links"]), reset

        # Controls are POST only, and need the local header (no cross-site form can send it).
        assert local.request("POST", "/_local/release")[0] == 403
        status, answer = local.control("/_local/release")
        assert status == 200 and len(answer["invocations"]) == len(info["schedules"])
        assert all(i["ok"] for i in answer["invocations"]), answer
        released = [s for i in answer["invocations"] for s in (i.get("result") or {}).get("released", [])]
        assert cb["session_id"] in released, answer
        assert local.control("/_local/upload?kind=other&name=x.csv", b"a")[0] == 400
    finally:
        code = local.stop(signal.SIGINT)
    assert code == 0, local.output()
    assert closed(local.port), "the HTTP port is still open"
    emulator = int(info["emulator"].rsplit(":", 1)[1])
    assert closed(emulator), "the emulator's port is still open"
    assert "Stopped: nothing left listening." in local.output()
    assert ready_after < 30, ready_after


def test_uploads_queues_and_schedules_of_the_template_run_in_the_local_stack(
    tmp_path: Path, fake_template: Path
) -> None:
    out = fake_template.parent / "calls.jsonl"
    local = LocalProcess(tmp_path / "local.log", "--template", str(fake_template), "--no-demo", "--tick", "0.5")
    local.start()
    try:
        status, answer = local.control("/_local/upload?kind=entries&name=day%201.csv", b"h\r\nv\r\n")
        assert status == 200, answer
        assert answer["key"] == "entries/day 1.csv" and answer["report"] is None
        assert [(i["function"], i["ok"]) for i in answer["invocations"]] == [("Recorder", True)]

        # The S3 handler queued a message; the poller delivers it; the timer ticks the schedules.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            calls = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
            kinds = {
                (c["fn"], c["event"].get("source") or c["event"].get("job") or c["event"]["Records"][0]["eventSource"])
                for c in calls
            }
            if {("recorder", "aws:sqs"), ("recorder", "aws.scheduler"), ("other", "daily")} <= kinds:
                break
            time.sleep(0.2)
        assert ("recorder", "aws:s3") in kinds and ("recorder", "aws:sqs") in kinds, kinds
        assert ("recorder", "aws.scheduler") in kinds and ("other", "daily") in kinds, kinds
        s3_call = next(c for c in calls if c["event"].get("Records", [{}])[0].get("eventSource") == "aws:s3")
        assert unquote_plus(s3_call["event"]["Records"][0]["s3"]["object"]["key"]) == "entries/day 1.csv"

        status, answer = local.control("/_local/release")
        assert status == 200 and [i["function"] for i in answer["invocations"]] == ["Recorder", "Other"]
        assert local.control("/_local/upload?kind=results&name=r.csv", b"x")[1]["invocations"][0]["function"] == "Other"
    finally:
        code = local.stop(signal.SIGTERM)
    assert code == 0, local.output()
    assert closed(local.port)
