"""Shared fixtures: the template's stack on moto, an API Gateway in front of it, a mailbox."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_REGION": "eu-west-2",
        "POWERTOOLS_METRICS_NAMESPACE": "ExamResults",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import boto3
from moto import mock_aws

from devtools.harness import moto_patches
from devtools.harness.apigw import ApiGateway
from devtools.harness.stack import Stack
from devtools.local import mailbox as local_mailbox

moto_patches.serialise_requests()

pytest_plugins = ["tests.plugins.aws_calls"]


@pytest.fixture
def stack() -> Iterator[Stack]:
    with mock_aws():
        from exam_results.repositories.aws import reset_clients
        from exam_results.repositories.pepper import get_pepper

        reset_clients()
        boto3.setup_default_session()  # hooks a test registers on the session end with it
        get_pepper.cache_clear()
        built = Stack(parameters={"WebBaseUrl": "https://results.test"}).provision()
        built._apply_env(next(iter(built.functions().values())))
        yield built
        reset_clients()
        get_pepper.cache_clear()


@pytest.fixture
def api(stack: Stack) -> ApiGateway:
    return ApiGateway(stack)


@dataclass
class Mail:
    to: list[str]
    subject: str
    body: str

    def link(self) -> str:
        found = re.search(r"https://results\.test/[^\s\"<]+", self.body)
        assert found, f"no link in {self.body!r}"
        return found.group(0).replace("&amp;", "&")

    def token(self) -> str:
        found = re.search(r"token=([A-Za-z0-9_-]+)", self.body)
        assert found
        return found.group(1)


class Mailbox:
    def messages(self) -> list[Mail]:
        """The single emails moto's SES accepted (read by the local mailbox), as sent."""
        return [
            Mail(to=m.to, subject=m.subject, body=m.html or m.text) for m in local_mailbox.messages() if not m.template
        ]

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.messages() if address in m.to]

    def last_to(self, address: str) -> Mail:
        mails = self.to(address)
        assert mails, f"no email to {address}"
        return mails[-1]


@pytest.fixture
def mailbox(stack: Stack) -> Mailbox:
    return Mailbox()


class MailWorker:
    """MailRequestsFunction run from its queue by the local stack's SQS poller (devtools.harness.sources),
    as Lambda's event source mapping would: POST /password-resets and .../resend only queue the
    request, and the email exists once the worker has run."""

    FUNCTION = "MailRequestsFunction"

    def __init__(self, stack: Stack) -> None:
        from devtools.harness.sources import EventSources

        self.sources = EventSources(stack)
        self.source = next(s for s in self.sources.sqs_sources if s.function == self.FUNCTION)

    def drain(self, failures_allowed: bool = False) -> int:
        """Deliver every queued request; returns how many. A failed one waits for its visibility
        timeout (it is not retried within a drain) and fails the drain unless allowed."""
        handled = 0
        while True:
            outcome = self.sources.poll_once(self.source)
            if not outcome.received:
                return handled
            assert failures_allowed or not outcome.failed, outcome
            handled += outcome.received


@pytest.fixture
def mail_worker(stack: Stack) -> MailWorker:
    return MailWorker(stack)


@dataclass
class Candidate:
    id_number: str
    secret_number: str
    name: str
    session_id: str
    email: str = "jane.candidate@example.com"
    password: str = "Correct-Horse-42"


@pytest.fixture
def seed(stack: Stack):  # type: ignore[no-untyped-def]
    """Put an entry straight into the data table (the entries import has its own tests)."""
    from exam_results import credentials
    from exam_results.models import Entry
    from exam_results.wiring import deps

    def _seed(
        id_number: str = "ABC123456",
        secret_number: str = "4821",
        name: str = "Jane Candidate",
        session_id: str = "C1A-2026-06-20-PB",
        **fields: Any,
    ) -> Candidate:
        d = deps()
        entry = Entry(
            id_number=id_number,
            session_id=session_id,
            secret_hash=credentials.hash_secret(d.pepper(), id_number, secret_number),
            candidate_number=fields.get("candidate_number", "0042"),
            candidate_name=name,
            date_of_birth=fields.get("date_of_birth", date(2004, 5, 17)),
            centre_number=fields.get("centre_number", "GB123"),
            centre_name=fields.get("centre_name", "Oxford Language Centre"),
        )
        d.candidates.put_entry(entry)
        return Candidate(id_number, secret_number, name, session_id)

    return _seed


def registration(c: Candidate, **overrides: Any) -> dict[str, Any]:
    body = {
        "id_number": c.id_number,
        "secret_number": c.secret_number,
        "email": c.email,
        "password": c.password,
        "confirm_password": c.password,
        "accept_terms": True,
        "newsletter_opt_in": False,
    }
    body.update(overrides)
    return body


@pytest.fixture
def registered(api: ApiGateway, seed, mailbox: Mailbox):  # type: ignore[no-untyped-def]
    """A candidate with a confirmed account; returns (candidate, session token)."""

    def _make(**kw: Any) -> tuple[Candidate, str]:
        c = seed(**kw)
        assert api.call("POST", "/registrations", registration(c)).status == 201
        token = mailbox.last_to(c.email).token()
        assert api.call("POST", "/registrations/confirmations", {"token": token}).status == 200
        r = api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password})
        assert r.status == 200, r.body
        return c, r.json()["token"]

    return _make


@pytest.fixture
def exams(stack):
    """Sessions and results written straight into the data table."""
    from exam_results.models import ExamSession, Result
    from exam_results.wiring import deps

    d = deps()

    class Exams:
        def session(self, session_id, code, exam_date, fmt, available_by, released_at=None):
            s = ExamSession(
                session_id=session_id,
                exam_code=code,
                exam_date=exam_date,
                format=fmt,
                results_available_by=available_by,
                status="released" if released_at else "open",
                released_at=released_at,
            )
            d.exams.write_items([d.exams.session_item(s)])
            return s

        def result(self, id_number, session_id, overall, grade, cefr, skills):
            r = Result(
                id_number=id_number,
                session_id=session_id,
                overall_score=overall,
                grade=grade,
                cefr_level=cefr,
                skills=skills,
            )
            d.exams.write_items([d.exams.result_item(r)])
            return r

        def release(self, session_id, now):
            from exam_results.repositories.fanout import FanoutRepository

            return FanoutRepository(d.settings.data_table).release(session_id, now)

    return Exams()
