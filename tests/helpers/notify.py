"""Helpers for the release and notification tests.

moto never fires schedules and never delivers SQS messages to Lambda, so the tests do what AWS
would with devtools' own pieces: ``schedule_event`` is the template's schedule as
``devtools.harness.sources`` reads it (EventBridge Scheduler's payload, ``devtools.harness.events``),
``SenderPoller`` is the harness's SQS event source mapping with the visibility timeout of a failed
message cut to nothing (a drain sees every redelivery) and counts kept, and ``results_emails``
reads moto's SES through ``devtools.local.mailbox``. The result window is the layer's own
(``entry_rows.default_results_available_by``).
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.harness import events
from devtools.harness.sources import EventSources
from devtools.harness.stack import ACCOUNT, REGION, Stack
from devtools.local import mailbox
from tests.conftest import Candidate, registration

# ---------------------------------------------------------------------- seeding


def seed_session(
    session_id: str,
    exam_date: date,
    fmt: str = "PB",
    exam_code: str = "C1A",
    results_available_by: datetime | None = None,
) -> Any:
    from exam_results.entry_rows import default_results_available_by
    from exam_results.models import ExamSession
    from exam_results.wiring import deps

    session = ExamSession(
        session_id=session_id,
        exam_code=exam_code,
        exam_date=exam_date,
        format=fmt,  # type: ignore[arg-type]
        results_available_by=results_available_by or default_results_available_by(exam_date, fmt),
    )
    exams = deps().exams
    exams.write_items([exams.session_item(session)])
    return session


def result_for(id_number: str, session_id: str, passed: bool = True) -> Any:
    from exam_results.models import Result

    if passed:  # C1A: mean 201 → A, C2
        skills = {"reading": 205, "use_of_english": 200, "writing": 198, "listening": 202, "speaking": 200}
        return Result(
            id_number=id_number, session_id=session_id, overall_score=201, grade="A", cefr_level="C2", skills=skills
        )
    skills = {"reading": 150, "use_of_english": 155, "writing": 160, "listening": 150, "speaking": 160}
    return Result(
        id_number=id_number, session_id=session_id, overall_score=155, grade="Fail", cefr_level=None, skills=skills
    )


def seed_results(session_id: str, id_numbers: Iterable[str], passed: Callable[[str], bool] = lambda _: True) -> int:
    from exam_results.wiring import deps

    exams = deps().exams
    return exams.write_items(exams.result_item(result_for(i, session_id, passed(i))) for i in id_numbers)


def bulk_candidates(session_id: str, count: int, prefix: str = "N") -> list[str]:
    """``count`` candidates with an entry, a confirmed account and a pass, written in bulk."""
    from exam_results.models import Account, Entry
    from exam_results.repositories.candidates import ACCOUNT_SK, ENTRY_SK, candidate_pk
    from exam_results.wiring import deps

    ids = [f"{prefix}{n:08d}" for n in range(count)]
    now = datetime.now(UTC)

    def records() -> Iterable[dict[str, Any]]:
        exams = deps().exams
        for i in ids:
            entry = Entry(
                id_number=i,
                session_id=session_id,
                secret_hash="x" * 64,
                candidate_number=i[-4:],
                candidate_name=f"Candidate {i}",
                date_of_birth=date(2004, 1, 1),
                centre_number="GB123",
                centre_name="Oxford Language Centre",
            )
            account = Account(
                id_number=i,
                email=f"{i.lower()}@example.com",
                password_hash="$argon2id$v=19$m=19456,t=2,p=1$x$y",
                terms_accepted_at=now,
                email_confirmed_at=now,
                created_at=now,
            )
            yield {"pk": candidate_pk(i), "sk": ENTRY_SK, **entry.model_dump(mode="json")}
            yield {"pk": candidate_pk(i), "sk": ACCOUNT_SK, **account.model_dump(mode="json")}
            yield exams.result_item(result_for(i, session_id))

    put_items_in_moto(deps().exams.table, records())
    return ids


def put_items_in_moto(table: str, records: Iterable[dict[str, Any]]) -> int:
    """Seed items straight into moto's table (the same ``put_item`` its API calls end in).

    For fixtures only: no HTTP round trip, no request parsing, ≈ 20 times faster than
    BatchWriteItem on moto, which matters for the 20,000-candidate test (60,000 items).
    """
    from moto.dynamodb.models import dynamodb_backends

    from exam_results.repositories import dynamo

    backend = dynamodb_backends[ACCOUNT][REGION]
    written = 0
    for record in records:
        backend.put_item(table, dynamo.item(record))
        written += 1
    return written


def register(
    api: Any, seed: Any, mailbox: Any, id_number: str, email: str, confirm: bool = True, **kw: Any
) -> Candidate:
    """A candidate registered through the API with their own address (confirmed or not)."""
    c: Candidate = seed(id_number=id_number, **kw)
    c.email = email
    assert api.call("POST", "/registrations", registration(c)).status == 201
    if confirm:
        token = mailbox.last_to(email).token()
        assert api.call("POST", "/registrations/confirmations", {"token": token}).status == 200
    return c


def log_in(api: Any, c: Candidate) -> str:
    r = api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password})
    assert r.status == 200, r.body
    return str(r.json()["token"])


# ---------------------------------------------------------------------- events


def schedule_event(stack: Stack, when: datetime | None = None) -> Any:
    """What EventBridge Scheduler passes to ReleaseFunction at ``when``: the template's ``Input``."""
    schedule = next(s for s in EventSources(stack).schedules if s.function == "ReleaseFunction")
    return events.scheduler_event(
        schedule_name=schedule.name,
        region=REGION,
        input_text=schedule.input_text,
        now=when.astimezone(UTC) if when else None,
    )


@dataclass
class PollStats:
    polls: int = 0
    invocations: int = 0
    messages: int = 0
    failed_records: int = 0
    handler_errors: int = 0
    seconds_in_handler: float = 0.0
    receive_counts: Counter[int] = field(default_factory=Counter)


class SenderPoller:
    """SenderFunction's SQS event source mapping (``devtools.harness.sources``), with the failed
    messages visible again at once (as after their visibility timeout) and counts kept."""

    def __init__(self, stack: Stack, function: str = "SenderFunction") -> None:
        self.sources = EventSources(stack)
        self.source = next(s for s in self.sources.sqs_sources if s.function == function)
        self.sqs = stack.client("sqs")
        self.stats = PollStats()

    def receive(self) -> list[dict[str, Any]]:
        return self.sources.receive(self.source)

    def deliver(self, messages: list[dict[str, Any]]) -> set[str]:
        """Invoke the sender with these messages; returns the IDs of the failed ones."""
        event = events.sqs_event(messages, self.source.queue_arn, REGION)
        started = time.perf_counter()
        invocation = self.sources.invoke(self.source.function, event, f"sqs {len(messages)} message(s)")
        self.stats.seconds_in_handler += time.perf_counter() - started
        if invocation.ok:
            failed = {f["itemIdentifier"] for f in (invocation.result or {}).get("batchItemFailures", [])}
        else:
            self.stats.handler_errors += 1
            failed = {m["MessageId"] for m in messages}
        self.stats.invocations += 1
        self.stats.messages += len(messages)
        self.stats.failed_records += len(failed)
        for m in messages:
            self.stats.receive_counts[int(m["Attributes"]["ApproximateReceiveCount"])] += 1
        return failed

    def settle(self, messages: list[dict[str, Any]], failed: set[str]) -> None:
        """Delete what succeeded; failed messages become visible again (visibility timeout over)."""
        done = [m for m in messages if m["MessageId"] not in failed]
        for batch in itertools.batched(done, 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.source.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)],
            )
        again = [m for m in messages if m["MessageId"] in failed]
        for batch in itertools.batched(again, 10):
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.source.queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for n, m in enumerate(batch)
                ],
            )

    def poll_once(self) -> bool:
        messages = self.receive()
        self.stats.polls += 1
        if not messages:
            return False
        self.settle(messages, self.deliver(messages))
        return True

    def drain(self, max_polls: int = 100_000) -> PollStats:
        for _ in range(max_polls):
            if not self.poll_once():
                break
        return self.stats


def fail_third_queue_send(monkeypatch: pytest.MonkeyPatch) -> None:
    """``NotifyQueue.send`` raises on its third call: a fan-out that crashes between two cursor
    saves (the tests then resume it)."""
    from exam_results.repositories.queue import NotifyQueue

    original = NotifyQueue.send
    calls = itertools.count(1)

    def failing_send(self: NotifyQueue, bodies: Any) -> int:
        if next(calls) == 3:
            raise RuntimeError("SQS unavailable")
        return original(self, bodies)

    monkeypatch.setattr(NotifyQueue, "send", failing_send)


def queue_depth(stack: Stack, logical: str) -> int:
    attrs = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical(logical),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def queued_batches(stack: Stack, logical: str = "NotifyQueue") -> list[dict[str, Any]]:
    """Every message body on a queue (received and made visible again: the queue is unchanged)."""
    sqs = stack.client("sqs")
    url = stack.physical(logical)
    bodies: list[dict[str, Any]] = []
    handles: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages", [])
        if not got:
            break
        bodies.extend(json.loads(m["Body"]) for m in got)
        handles.extend(m["ReceiptHandle"] for m in got)
    for h in handles:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=h, VisibilityTimeout=0)
    return bodies


# ---------------------------------------------------------------------- SES


def results_emails() -> list[mailbox.Mail]:
    """Every "results available" email moto accepted, one per recipient, rendered from its
    template (the local mailbox's reader of moto's SES)."""
    return [m for m in mailbox.messages() if m.template]


def results_recipients() -> list[str]:
    """The address of every "results available" email, once per email."""
    return [to for m in results_emails() for to in m.to]


def bulk_send_calls() -> int:
    """SendBulkTemplatedEmail calls moto accepted (its recipients share the message's id)."""
    return len({m.id for m in results_emails()})


class SesCalls:
    """Wraps the SES client of the code under test: counts bulk calls, can fail some of them."""

    def __init__(self, failure_rate: float = 0.0, seed: int = 0, code: str = "Throttling") -> None:
        self.failure_rate = failure_rate
        self.rng = random.Random(seed)
        self.code = code
        self.calls = 0
        self.failures = 0
        self.lock = threading.Lock()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> SesCalls:
        from exam_results.repositories.aws import client

        ses = client("ses")
        original = ses.send_bulk_templated_email

        def send_bulk_templated_email(**kwargs: Any) -> Any:
            with self.lock:
                self.calls += 1
                fail = self.rng.random() < self.failure_rate
                if fail:
                    self.failures += 1
            if fail:
                raise ClientError(
                    {"Error": {"Code": self.code, "Message": "Maximum sending rate exceeded."}},
                    "SendBulkTemplatedEmail",
                )
            return original(**kwargs)

        monkeypatch.setattr(ses, "send_bulk_templated_email", send_bulk_templated_email)
        return self


class SqsCalls:
    """Counts SendMessageBatch calls made by the code under test."""

    def __init__(self) -> None:
        self.send_message_batch = 0
        self.messages = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> SqsCalls:
        from exam_results.repositories.aws import client

        sqs = client("sqs")
        original = sqs.send_message_batch

        def send_message_batch(**kwargs: Any) -> Any:
            self.send_message_batch += 1
            self.messages += len(kwargs["Entries"])
            return original(**kwargs)

        monkeypatch.setattr(sqs, "send_message_batch", send_message_batch)
        return self
