"""The whole service on this machine, in one process: ``make run`` (``python -m devtools.local``).

* An AWS emulator (moto's server on 127.0.0.1, answering only its own host names) with every
  table, bucket, queue, secret, SES identity and template of ``template.yaml``.
* One HTTP server on 127.0.0.1:PORT (env ``PORT``, default 3000):
  ``/api/*`` the API routes of the template (API Gateway REST proxy events), ``/`` the
  candidate pages of ``web/``,
  ``/_local/mailbox`` every email SES accepted (``/_local/mailbox.json`` for scripts; each
  email's HTML as the candidate sees it at ``/_local/mailbox/<index>.html``),
  ``/_local/documents`` the Confirmation of Entry PDFs and CSVs in the uploads bucket,
  ``/_local/status.json``, and two local-only controls (POST, header ``X-Local-Control: 1``):
  ``/_local/upload?kind=entries|results|releases&name=FILE`` and ``/_local/release``.
* The template's S3, SQS and schedule event sources (see ``devtools.harness.sources``).
* Every invocation runs as on Lambda, at once with the others: each function in its own pool
  of up to ``LOCAL_POOL_SIZE`` (default 4) worker processes with that function's environment
  and its handler imported once (``devtools.local.containers``); no lock around handlers.
* Demo data: one PB and one CB session with a candidate each, both with results, released about
  a minute after start: the PB session because its window (``results_available_by``) ends then,
  the CB session, whose window ends 11 days later, because a ``releases/`` file brings it forward
  (faster results).

Other commands, for a running stack: ``python -m devtools.local upload --kind entries FILE``
(``make upload``) and ``python -m devtools.local release`` (``make release``). They find the
stack through the state file it writes while it runs (``.local-stack.json``, env
``LOCAL_STATE_FILE``: port and pid), unless ``--port`` or ``PORT`` says where it is.
"""

from __future__ import annotations

import argparse
import json
import logging
import mimetypes
import os
import secrets
import signal
import sys
import threading
import urllib.error
import urllib.request
import warnings
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from devtools.harness.template import ROOT, TEMPLATE
from devtools.local.headers import policy_headers
from devtools.local.hostguard import REFUSED, GuardedEmulator, own_host

if TYPE_CHECKING:
    from devtools.harness.apigw import ApiGateway
    from devtools.harness.sources import EventSources, Invocation, Workers
    from devtools.harness.stack import Stack
    from devtools.local.containers import Pools

HOST = "127.0.0.1"
WEB = ROOT / "web"
CONTROL_HEADER = "X-Local-Control"
UPLOAD_KINDS = ("entries", "results", "releases")
SENDER = "results@example.com"
READY = "Local stack ready on"
CONFIRMATIONS = "confirmations/"
# A mail's own HTML runs under this policy, not the pages' one: its inline styles apply, nothing
# runs (sandbox, no script-src), it loads nothing from the network, and its links still navigate.
MAIL_CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)

log = logging.getLogger("devtools.local")


def state_file() -> Path:
    """Where a running stack says where it is (gitignored; env ``LOCAL_STATE_FILE`` for tests)."""
    return Path(os.environ.get("LOCAL_STATE_FILE") or ROOT / ".local-stack.json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def running_port() -> int:
    """The port of the running local stack, from its state file; exits with a clear message
    when no stack is running (no file, or the process that wrote it is gone)."""
    path = state_file()
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        pid, port = int(state["pid"]), int(state["port"])
    except FileNotFoundError:
        raise SystemExit("no local stack is running: start it with `make run` (or give PORT=…)") from None
    except (ValueError, KeyError, TypeError):
        raise SystemExit(f"unreadable state file {path}: start the stack again with `make run`") from None
    if not _alive(pid):
        raise SystemExit(f"no local stack is running (process {pid} of {path} is gone): start it with `make run`")
    return port


# ---------------------------------------------------------------------------------- environment


def use_emulator(endpoint: str, region: str) -> None:
    """Point every boto3 client of this process at the emulator, before any function runs."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ.pop(key, None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )


def _pooled_stack_class() -> type[Stack]:
    from devtools.harness.stack import Stack

    class PooledStack(Stack):
        """Runs every invocation in a container of its function's pool, at once with others."""

        pools: Pools

        def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
            return self.pools.invoke(logical_id, event)

    return PooledStack


# ---------------------------------------------------------------------------------- demo data


@dataclass
class DemoCandidate:
    format: str
    session_id: str
    exam: str
    exam_date: str
    id_number: str
    secret_number: str
    name: str
    results_available_by: str  # ISO 8601, or "" for the default window
    has_result: bool
    release_at: str = ""  # ISO 8601: brought forward by the demo's releases/ file ("" if not)


ENTRY_COLUMNS = (
    "session_id,exam,exam_date,format,id_number,secret_number,candidate_number,candidate_name,"
    "date_of_birth,centre_number,centre_name,results_available_by"
)
RESULT_COLUMNS = "session_id,id_number,overall_score,grade,cefr_level,reading,use_of_english,writing,listening,speaking"
RELEASE_COLUMNS = "session_id,release_at"
DEMO_RESULTS: dict[str, dict[str, Any]] = {
    # C1 Advanced: the mean of the skills is 195, grade B, CEFR C1 (band 193–199).
    "C1A": {
        "overall_score": 195,
        "grade": "B",
        "cefr_level": "C1",
        "skills": {"reading": 198, "use_of_english": 190, "writing": 195, "listening": 200, "speaking": 192},
    },
    # B2 First: the mean of the skills is 175, grade B, CEFR B2 (band 173–179).
    "B2F": {
        "overall_score": 175,
        "grade": "B",
        "cefr_level": "B2",
        "skills": {"reading": 176, "use_of_english": 174, "writing": 175, "listening": 177, "speaking": 173},
    },
}


def demo_candidates(now: datetime) -> list[DemoCandidate]:
    today = now.date()
    pb_date, cb_date = today - timedelta(days=36), today - timedelta(days=3)
    release = (now + timedelta(minutes=1)).replace(microsecond=0)
    return [
        DemoCandidate(
            "PB",
            f"C1A-{pb_date}-PB",
            "C1A",
            pb_date.isoformat(),
            "DEMOPB01",
            f"{secrets.randbelow(10**8):08d}",
            "Alex Paper",
            release.isoformat(),
            True,
        ),
        DemoCandidate(
            "CB",
            f"B2F-{cb_date}-CB",
            "B2F",
            cb_date.isoformat(),
            "DEMOCB01",
            f"{secrets.randbelow(10**8):08d}",
            "Sam Computer",
            "",
            True,
            release.isoformat(),
        ),
    ]


def demo_files(candidates: list[DemoCandidate]) -> tuple[bytes, bytes]:
    """The demo entries file and results file, in the exam board's CSV formats."""
    entries = [ENTRY_COLUMNS]
    results = [RESULT_COLUMNS]
    for i, c in enumerate(candidates, start=1):
        entries.append(
            f"{c.session_id},{c.exam},{c.exam_date},{c.format},{c.id_number},{c.secret_number},"
            f"{i:04d},{c.name},2004-05-17,GB123,Oxford Language Centre,{c.results_available_by}"
        )
        if c.has_result:
            r = DEMO_RESULTS[c.exam]
            s = r["skills"]
            results.append(
                f"{c.session_id},{c.id_number},{r['overall_score']},{r['grade']},"
                f"{r['cefr_level']},{s['reading']},{s['use_of_english']},{s['writing']},"
                f"{s['listening']},{s['speaking']}"
            )
    return ("\r\n".join(entries) + "\r\n").encode(), ("\r\n".join(results) + "\r\n").encode()


def demo_release_file(candidates: list[DemoCandidate]) -> bytes:
    """The demo releases file (faster results): the sessions the board brings forward."""
    rows = [RELEASE_COLUMNS, *(f"{c.session_id},{c.release_at}" for c in candidates if c.release_at)]
    return ("\r\n".join(rows) + "\r\n").encode()


def load_demo(local: LocalStack) -> tuple[list[DemoCandidate], str]:
    """Put the demo data in: through the uploads bucket once a function imports entries files,
    straight into the data table until then. Returns the candidates and how they were loaded."""
    candidates = demo_candidates(datetime.now(UTC))
    entries_csv, results_csv = demo_files(candidates)
    sources = local.sources
    entries_key = "entries/demo-entries.csv"
    bucket = sources.bucket_for(entries_key)
    if bucket and any(t.matches("ObjectCreated:Put", entries_key) for t in sources.s3_triggers):
        # Both import functions cold-start at once, not one after the other.
        keys = (entries_key, "results/demo-results.csv", "releases/demo-releases.csv")
        local.pools.prewarm(
            [t.function for t in sources.s3_triggers if any(t.matches("ObjectCreated:Put", k) for k in keys)]
        )
        failed = [i for i in sources.put_object(bucket, entries_key, entries_csv) if not i.ok]
        for key, body in (
            ("results/demo-results.csv", results_csv),
            ("releases/demo-releases.csv", demo_release_file(candidates)),
        ):
            other_bucket = sources.bucket_for(key)
            if other_bucket and any(t.matches("ObjectCreated:Put", key) for t in sources.s3_triggers):
                failed += [i for i in sources.put_object(other_bucket, key, body) if not i.ok]
        how = "uploaded entries, results and releases files through the uploads bucket"
        if failed:
            how += f" ({len(failed)} invocation(s) failed: see the log above)"
        return candidates, how

    # No entries import in the template yet: seed the entries as the tests do.
    spec = next(iter(local.stack.functions().values()))
    for layer in spec.layers:
        if str(layer) not in sys.path:
            sys.path.insert(0, str(layer))
    local.stack._apply_env(spec)
    from exam_results import credentials
    from exam_results.models import Entry
    from exam_results.wiring import deps

    d = deps()
    for i, c in enumerate(candidates, start=1):
        d.candidates.put_entry(
            Entry(
                id_number=c.id_number,
                session_id=c.session_id,
                secret_hash=credentials.hash_secret(d.pepper(), c.id_number, c.secret_number),
                candidate_number=f"{i:04d}",
                candidate_name=c.name,
                date_of_birth=date(2004, 5, 17),
                centre_number="GB123",
                centre_name="Oxford Language Centre",
            )
        )
    return candidates, "entries written straight to the data table (no entries import function yet)"


# ---------------------------------------------------------------------------------- HTTP


class Handler(BaseHTTPRequestHandler):
    server_version = "ExamResultsLocal/1"
    protocol_version = "HTTP/1.1"
    local: LocalStack  # set on the subclass made per server

    # -- plumbing

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None, csp: str | None = None) -> None:
        self.send_response(status)
        # The deployed security headers (CloudFront's policy in template.yaml) replace any of the
        # same name, as CloudFront's Override does. ``csp``: a stricter policy of a local page's own.
        security = dict(self.local.security_headers)
        if csp is not None:
            security["Content-Security-Policy"] = csp
        overridden = {"content-length", "connection", "transfer-encoding"} | {k.lower() for k in security}
        sent = {k.lower() for k in (headers or {})}
        for key, value in (headers or {}).items():
            if key.lower() in overridden:
                continue
            self.send_header(key, value)
        for key, value in security.items():
            self.send_header(key, value)
        if "cache-control" not in sent:
            self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value, indent=2, default=str).encode(), {"Content-Type": "application/json"})

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- verbs

    def do_GET(self) -> None:
        self._route()

    def do_HEAD(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def do_PUT(self) -> None:
        self._route()

    def do_PATCH(self) -> None:
        self._route()

    def do_DELETE(self) -> None:
        self._route()

    def do_OPTIONS(self) -> None:
        self._route()

    def _route(self) -> None:
        if not self.headers.get("Host"):
            self._send(400, b"Bad Request: no Host header\n", {"Content-Type": "text/plain"})
            return
        if not own_host(self.headers.get("Host"), self.local.port):  # DNS rebinding: devtools.local.hostguard
            self._send(421, REFUSED, {"Content-Type": "text/plain"})
            return
        parts = urlsplit(self.path)
        path = parts.path
        try:
            if path == "/api" or path.startswith("/api/"):
                self._api(path[len("/api") :] or "/", parts.query)
            elif path.startswith("/_local/"):
                self._control(path, parts.query)
            elif self.command in {"GET", "HEAD"}:
                self._static(path)
            else:
                self._send(405, b"Method Not Allowed\n", {"Content-Type": "text/plain", "Allow": "GET, HEAD"})
        except Exception:
            log.exception("%s %s failed", self.command, self.path)
            self._json(500, {"message": "local server error (see the log)"})

    def _api(self, path: str, query: str) -> None:
        body = self._body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in {"connection", "keep-alive"}}
        response = self.local.api.request(self.command, path, body or None, headers, query)
        log.info("API %s %s → %s", self.command, path, response.status)
        self._send(response.status, response.content, response.headers)

    def _static(self, path: str) -> None:
        target = (WEB / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if WEB.resolve() not in target.parents or not target.is_file():
            self._send(404, b"Not Found\n", {"Content-Type": "text/plain; charset=utf-8"})
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in {"application/javascript", "text/javascript"}:
            ctype += "; charset=utf-8"
        self._send(200, target.read_bytes(), {"Content-Type": ctype, "Cache-Control": "no-cache"})

    def _swagger(self, name: str) -> None:
        """Swagger UI (from the swagger-ui-bundle package: no CDN) over the API's OpenAPI document.
        No inline script: the page runs under the same CSP as the candidate pages."""
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

        if not name:
            page = (
                "<!doctype html><html><head><meta charset='utf-8'><title>Exam Results API</title>"
                "<link rel='stylesheet' href='/_local/docs/swagger-ui.css'></head><body>"
                "<div id='ui' data-url='/_local/openapi.json'></div>"
                "<script src='/_local/docs/swagger-ui-bundle.js'></script>"
                "<script src='/_local/docs/init.js'></script></body></html>"
            )
            self._send(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
            return
        if name == "init.js":
            init = b"SwaggerUIBundle({url: document.getElementById('ui').dataset.url, dom_id: '#ui'});\n"
            self._send(200, init, {"Content-Type": "text/javascript; charset=utf-8"})
            return
        allowed = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}
        if name not in allowed:
            self._json(404, {"message": "unknown local page"})
            return
        body = (Path(swagger_ui_path) / name).read_bytes()
        self._send(200, body, {"Content-Type": allowed[name] + "; charset=utf-8", "Cache-Control": "max-age=3600"})

    def _mail_html(self, index: str) -> None:
        from devtools.local import mailbox

        mails = mailbox.messages(region=self.local.region)
        if not index.isdigit() or int(index) >= len(mails) or not mails[int(index)].html:
            self._json(404, {"message": "no such email with an HTML part"})
            return
        body = mails[int(index)].html.encode()
        self._send(200, body, {"Content-Type": "text/html; charset=utf-8"}, csp=MAIL_CSP)

    def _document(self, key: str) -> None:
        found = self.local.document(key)
        if found is None:
            self._json(404, {"message": "no such document"})
            return
        body, ctype = found
        name = quote(key.rsplit("/", 1)[-1])
        headers = {"Content-Type": ctype, "Content-Disposition": f"attachment; filename*=UTF-8''{name}"}
        self._send(200, body, headers)

    def _control(self, path: str, query: str) -> None:
        from devtools.local import mailbox

        local = self.local
        if self.command in {"GET", "HEAD"}:
            if path == "/_local/mailbox":
                html = mailbox.page(mailbox.messages(region=local.region))
                self._send(200, html.encode(), {"Content-Type": "text/html; charset=utf-8"})
            elif path.startswith("/_local/mailbox/") and path.endswith(".html"):
                self._mail_html(path[len("/_local/mailbox/") : -len(".html")])
            elif path == "/_local/documents":
                html = mailbox.documents_page(local.documents())
                self._send(200, html.encode(), {"Content-Type": "text/html; charset=utf-8"})
            elif path == "/_local/documents/file":
                self._document((parse_qs(query).get("key") or [""])[0])
            elif path == "/_local/mailbox.css":
                self._send(200, mailbox.STYLE.encode(), {"Content-Type": "text/css; charset=utf-8"})
            elif path == "/_local/mailbox.json":
                self._json(200, {"messages": [m.as_json() for m in mailbox.messages(region=local.region)]})
            elif path == "/_local/status.json":
                self._json(200, local.status())
            elif path == "/_local/openapi.json":
                document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
                document["servers"] = [{"url": "/api"}]
                self._json(200, document)
            elif path == "/_local/docs" or path.startswith("/_local/docs/"):
                self._swagger(path[len("/_local/docs") :].lstrip("/"))
            else:
                self._json(404, {"message": "unknown local page"})
            return
        if self.command != "POST":
            self._json(405, {"message": "local controls take POST"})
            return
        if self.headers.get(CONTROL_HEADER) != "1":
            self._json(403, {"message": f"local controls need the header {CONTROL_HEADER}: 1"})
            return
        body = self._body()
        if path == "/_local/release":
            invocations = local.sources.run_schedules()
            self._json(
                200,
                {
                    "invocations": [i.as_json() for i in invocations],
                    "message": "" if invocations else "template.yaml has no schedule yet",
                },
            )
        elif path == "/_local/upload":
            qs = parse_qs(query)
            kind = (qs.get("kind") or [""])[0]
            name = Path((qs.get("name") or [""])[0]).name
            if kind not in UPLOAD_KINDS or not name:
                hint = "give ?kind=entries|results|releases&name=FILE.csv and the file as the body"
                self._json(400, {"message": hint})
                return
            status, answer = local.upload(f"{kind}/{name}", body)
            self._json(status, answer)
        else:
            self._json(404, {"message": "unknown local control"})


class _Server(ThreadingHTTPServer):
    # Requests arrive at once (a page's assets, a burst of API calls): socketserver's backlog of
    # 5 would reset connections while the server is busy starting containers.
    request_queue_size = 128


# ---------------------------------------------------------------------------------- the stack


class LocalStack:
    def __init__(
        self,
        port: int = 3000,
        tick_seconds: float = 10.0,
        demo: bool = True,
        template_path: Path = TEMPLATE,
        region: str = "eu-west-2",
        pool_size: int = 4,
    ) -> None:
        self.port = port
        self.pool_size = pool_size
        self.tick_seconds = tick_seconds
        self.with_demo = demo
        self.template_path = template_path
        self.region = region
        self.demo: list[DemoCandidate] = []
        self.demo_how = ""
        self.started_at = datetime.now(UTC)
        self.security_headers = policy_headers(template_path)
        self._serve_thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> LocalStack:

        from devtools.harness import moto_patches

        # Invocations run at once: DynamoDB applies each request atomically, so must the emulator.
        moto_patches.serialise_requests()

        # Listen first: with PORT=0 the port is only known now, and links in emails need it.
        handler = type("BoundHandler", (Handler,), {"local": self})
        self.httpd = _Server((HOST, self.port), handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])

        self.moto = GuardedEmulator(HOST)
        self.moto.start()
        moto_host, moto_port = self.moto.get_host_and_port()
        self.moto_url = f"http://{moto_host}:{moto_port}"
        use_emulator(self.moto_url, self.region)

        import boto3

        from devtools.harness.apigw import ApiGateway
        from devtools.harness.sources import EventSources, Workers
        from devtools.local.containers import Pools

        stack = _pooled_stack_class()(
            template_path=self.template_path,
            parameters={"WebBaseUrl": self.url, "SenderEmail": SENDER},
            session=boto3.Session(region_name=self.region),
        ).provision()
        stack.pools = self.pools = Pools(stack, self.pool_size)
        self.stack: Stack = stack
        self.api: ApiGateway = ApiGateway(self.stack)
        self.sources: EventSources = EventSources(self.stack)
        if self.with_demo:
            self.demo, self.demo_how = load_demo(self)
        self.workers: Workers = Workers(self.sources, self.tick_seconds)
        self.workers.start()
        self._serve_thread = threading.Thread(target=self.httpd.serve_forever, name="http", daemon=True)
        self._serve_thread.start()
        return self

    def stop(self) -> None:
        if self._serve_thread:
            self.httpd.shutdown()
            self._serve_thread.join(5)
        self.httpd.server_close()
        if hasattr(self, "workers"):
            self.workers.stop()
        if hasattr(self, "pools"):
            self.pools.stop()
        if hasattr(self, "moto"):
            self.moto.stop()

    def _uploads_bucket(self) -> str | None:
        logical = self.sources.bucket_for("entries/demo.csv")
        return self.stack.physical(logical) if logical else None

    def documents(self) -> list[dict[str, Any]]:
        """The Confirmation of Entry documents the service wrote (key, size, time), newest first."""
        bucket = self._uploads_bucket()
        if bucket is None:
            return []
        found: list[dict[str, Any]] = []
        pages = self.stack.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=CONFIRMATIONS)
        for page in pages:
            for item in page.get("Contents", []):
                found.append({"key": item["Key"], "size": item["Size"], "modified": item["LastModified"]})
        return sorted(found, key=lambda d: (d["modified"], d["key"]), reverse=True)

    def document(self, key: str) -> tuple[bytes, str] | None:
        """One document's bytes and type; only keys under confirmations/ (this is no general reader)."""
        bucket = self._uploads_bucket()
        if bucket is None or not key.startswith(CONFIRMATIONS):
            return None
        try:
            obj = self.stack.client("s3").get_object(Bucket=bucket, Key=key)
        except self.stack.client("s3").exceptions.NoSuchKey:
            return None
        ctype = mimetypes.guess_type(key)[0] or "application/octet-stream"
        if ctype.startswith("text/"):
            ctype += "; charset=utf-8"
        return obj["Body"].read(), ctype

    def write_state(self) -> None:
        path = state_file()
        path.write_text(json.dumps({"port": self.port, "pid": os.getpid(), "url": self.url}) + "\n", encoding="utf-8")
        self._state_path = path

    def remove_state(self) -> None:
        """Remove the state file, if it is still this process's (another stack may have started since)."""
        path = getattr(self, "_state_path", None)
        if path is None:
            return
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass

    def upload(self, key: str, body: bytes) -> tuple[int, dict[str, Any]]:
        bucket = self.sources.bucket_for(key)
        if bucket is None:
            return 409, {"message": f"no function of template.yaml takes S3 events for {key} yet"}
        invocations: list[Invocation] = self.sources.put_object(bucket, key, body)
        answer: dict[str, Any] = {
            "bucket": self.stack.physical(bucket),
            "key": key,
            "invocations": [i.as_json() for i in invocations],
        }
        try:
            report = self.stack.client("s3").get_object(Bucket=answer["bucket"], Key=f"reports/{key}.json")
            answer["report"] = json.loads(report["Body"].read())
        except Exception:  # no report (yet): the answer says what ran
            answer["report"] = None
        return 200, answer

    def status(self) -> dict[str, Any]:
        s = self.sources
        return {
            "web": self.url + "/",
            "api": self.url + "/api",
            "mailbox": self.url + "/_local/mailbox",
            "documents": self.url + "/_local/documents",
            "emulator": self.moto_url,
            "routes": [f"{r.method} {r.path} → {r.function}" for r in self.stack.api_routes()],
            "s3_triggers": [asdict(t) for t in s.s3_triggers],
            "sqs_sources": [asdict(q) for q in s.sqs_sources],
            "schedules": [asdict(x) for x in s.schedules],
            "tick_seconds": self.tick_seconds,
            "containers": self.pools.status(),
            "demo": [asdict(c) for c in self.demo],
            "demo_loaded": self.demo_how,
        }

    def banner(self) -> str:
        s = self.sources
        none = "none in template.yaml yet"
        s3 = ", ".join(f"{t.function} <- {t.prefix}*{t.suffix}" for t in s.s3_triggers) or none
        sqs = ", ".join(f"{q.function} (batch {q.batch_size}, {q.concurrency} at once)" for q in s.sqs_sources) or none
        ticks = ", ".join(x.function for x in s.schedules)
        if ticks:
            ticks += (
                f" every {self.tick_seconds:g} s" if self.tick_seconds > 0 else " on `make release` only (timer off)"
            )
        else:
            ticks = none
        lines = [
            "",
            "Exam Results Service, running locally (AWS emulated by moto; nothing leaves this machine)",
            f"  Candidate pages   {self.url}/",
            f"  API               {self.url}/api   ({len(self.api.routes)} routes from template.yaml)",
            f"  Mailbox           {self.url}/_local/mailbox   (every email sent, as HTML and text; links work)",
            f"  Documents         {self.url}/_local/documents   (Confirmation of Entry PDFs and CSVs)",
            f"  API docs          {self.url}/_local/docs   (Swagger UI over docs/openapi.json)",
            f"  AWS emulator      {self.moto_url}",
            f"  S3 triggers       {s3}",
            f"  SQS pollers       {sqs}",
            f"  Schedules         {ticks}",
            f"  Containers        up to {self.pool_size} per function, started on demand (LOCAL_POOL_SIZE)",
            "  Upload a file     make upload FILE=path/to/file.csv KIND=entries|results|releases",
            "  Release now       make release",
        ]
        if self.demo:
            lines += ["", f"Demo candidates ({self.demo_how}):"]
            for c in self.demo:
                if c.release_at:
                    when = f"results released early at about {c.release_at[11:16]} UTC by releases/demo-releases.csv"
                elif c.results_available_by:
                    when = f"results released at about {c.results_available_by[11:16]} UTC (end of its window)"
                else:
                    when = "results pending (default result window)"
                lines.append(
                    f"  {c.format}  {c.session_id:<20} {c.name:<13} ID Number {c.id_number}  "
                    f"Secret Number {c.secret_number}  ({when})"
                )
            lines.append(f"  Register at {self.url}/register.html, then open the email in the mailbox.")
        lines += ["", f"{READY} {self.url}/ (Ctrl-C to stop)"]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------- commands


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    log.setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's access log
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    local = LocalStack(
        port=args.port,
        tick_seconds=args.tick,
        demo=not args.no_demo,
        template_path=Path(args.template),
        pool_size=args.pool_size,
    )
    try:
        local.start()
        local.write_state()
        print(local.banner(), flush=True)
        while not stop.wait(0.5):
            pass
        print("Stopping…", flush=True)
    finally:
        local.remove_state()
        local.stop()
    print("Stopped: nothing left listening.", flush=True)
    return 0


def _post(port: int, path: str, body: bytes = b"") -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://{HOST}:{port}{path}", data=body, method="POST", headers={CONTROL_HEADER: "1"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")
    except urllib.error.URLError as err:
        raise SystemExit(f"no local stack on {HOST}:{port} ({err.reason}): start it with `make run`") from err


def _port(args: argparse.Namespace) -> int:
    """--port, else env PORT, else the running stack's state file."""
    if args.port is not None:
        return int(args.port)
    if os.environ.get("PORT"):
        return int(os.environ["PORT"])
    return running_port()


def upload(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise SystemExit(f"no such file: {path}")
    status, answer = _post(
        _port(args), f"/_local/upload?kind={quote(args.kind)}&name={quote(path.name)}", path.read_bytes()
    )
    print(json.dumps(answer, indent=2))
    failed = status != 200 or any(not i.get("ok") for i in answer.get("invocations", []))
    return 1 if failed else 0


def release(args: argparse.Namespace) -> int:
    status, answer = _post(_port(args), "/_local/release")
    print(json.dumps(answer, indent=2))
    return 0 if status == 200 and all(i.get("ok") for i in answer.get("invocations", [])) else 1


def main(argv: list[str] | None = None) -> int:
    default_port = int(os.environ.get("PORT") or 3000)
    parser = argparse.ArgumentParser(prog="python -m devtools.local", description=__doc__.split("\n\n")[0])
    # None: `make run` takes env PORT or 3000; upload and release take env PORT or the running stack's.
    parser.add_argument("--port", type=int, default=None, help="HTTP port on 127.0.0.1 (env PORT, default 3000)")
    sub = parser.add_subparsers(dest="command")
    parser.add_argument(
        "--tick",
        type=float,
        default=float(os.environ.get("LOCAL_TICK_SECONDS") or 10),
        help="seconds between schedule runs (env LOCAL_TICK_SECONDS; 0 turns the timer off)",
    )
    parser.add_argument(
        "--no-demo",
        action="store_true",
        default=os.environ.get("LOCAL_DEMO") == "0",
        help="start without demo data (env LOCAL_DEMO=0)",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        default=int(os.environ.get("LOCAL_POOL_SIZE") or 4),
        help="most containers (worker processes) per function (env LOCAL_POOL_SIZE)",
    )
    parser.add_argument("--template", default=str(TEMPLATE), help=argparse.SUPPRESS)
    up = sub.add_parser("upload", help="put a file into the running stack's uploads bucket")
    up.add_argument("--kind", choices=UPLOAD_KINDS, required=True)
    up.add_argument("--port", type=int, default=argparse.SUPPRESS, help="default: env PORT, else the running stack's")
    up.add_argument("file")
    rel = sub.add_parser("release", help="run the scheduled functions of the running stack now")
    rel.add_argument("--port", type=int, default=argparse.SUPPRESS, help="default: env PORT, else the running stack's")
    args = parser.parse_args(argv)
    if args.command == "upload":
        return upload(args)
    if args.command == "release":
        return release(args)
    if args.port is None:
        args.port = default_port
    return run(args)
