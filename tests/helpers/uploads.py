"""Helpers for the exam board's files: objects put into moto's S3, the S3 events AWS sends for them
(``devtools.harness.events``), rows seeded straight into the table, DynamoDB faults and call counts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from devtools.harness import events
from devtools.harness.stack import REGION, Stack

RESULT_HEADER = "session_id,id_number,overall_score,grade,cefr_level,reading,use_of_english,writing,listening,speaking"
ENTRY_HEADER = (
    "session_id,exam,exam_date,format,id_number,secret_number,candidate_number,candidate_name,"
    "date_of_birth,centre_number,centre_name"
)


@dataclass
class Board:
    """The exam board: uploads files to the stack's uploads bucket and reads the reports."""

    stack: Stack

    @property
    def bucket(self) -> str:
        return self.stack.physical("UploadsBucket")

    def put(self, key: str, body: bytes | str) -> dict[str, Any]:
        """Put the object and return the event S3 sends for it."""
        data = body.encode() if isinstance(body, str) else body
        answer = self.stack.client("s3").put_object(Bucket=self.bucket, Key=key, Body=data)
        return self._event(key, len(data), answer["ETag"], answer.get("VersionId"))

    def event(self, key: str) -> dict[str, Any]:
        """The event S3 sends for the object's current version (written by someone else)."""
        head = self.stack.client("s3").head_object(Bucket=self.bucket, Key=key)
        return self._event(key, head["ContentLength"], head["ETag"], head.get("VersionId"))

    def _event(self, key: str, size: int, etag: str, version_id: str | None) -> dict[str, Any]:
        return events.s3_object_created(
            bucket=self.bucket, key=key, size=size, etag=etag, version_id=version_id, region=REGION
        )

    def entries(self, key: str, body: bytes | str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Upload an entries file and deliver its event; (handler answer, event)."""
        event = self.put(key, body)
        return self.stack.invoke("ImportEntriesFunction", event), event

    def results(self, key: str, body: bytes | str) -> tuple[dict[str, Any], dict[str, Any]]:
        event = self.put(key, body)
        return self.stack.invoke("PublishResultsFunction", event), event

    def releases(self, key: str, body: bytes | str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Upload a releases file (SPEC §6, faster results) and deliver its event."""
        event = self.put(key, body)
        return self.stack.invoke("ReleaseSessionsFunction", event), event

    def report(self, source_key: str) -> dict[str, Any]:
        body = self.stack.client("s3").get_object(Bucket=self.bucket, Key=f"reports/{source_key}.json")["Body"]
        return json.loads(body.read())

    def report_versions(self, source_key: str) -> int:
        listing = self.stack.client("s3").list_object_versions(Bucket=self.bucket, Prefix=f"reports/{source_key}.json")
        return len(listing.get("Versions", []))


def layer_dynamodb_events() -> list[Any]:
    """The event emitters that reach every DynamoDB client of the layer: its cached client's, and
    boto3's default session's, which hands its hooks to each client made after them — the threads
    of the batch pool make their own (the ``stack`` fixture gives each test a fresh default
    session, so nothing registered there outlives the test). The layer's clients are forgotten
    first, as in a new container: the pool's threads, whose clients live from call to call, would
    not see hooks registered after them."""
    import boto3

    from exam_results.repositories.aws import client, reset_clients

    reset_clients()
    return [client("dynamodb").meta.events, boto3.DEFAULT_SESSION._session.get_component("event_emitter")]


class CallCounter:
    """Counts the calls of one operation made through the layer's DynamoDB clients (the cached
    one and the threads' of a parallel write)."""

    def __init__(self, operation: str) -> None:
        self.calls = 0
        self.items = 0  # write requests (BatchWriteItem) or keys (BatchGetItem) sent
        self._lock = threading.Lock()
        for emitter in layer_dynamodb_events():
            emitter.register(f"before-parameter-build.dynamodb.{operation}", self._count)

    def _count(self, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.calls += 1
            for request in params.get("RequestItems", {}).values():
                self.items += len(request["Keys"]) if isinstance(request, dict) else len(request)


def seed_sessions(sessions: Iterable[tuple[str, str, date, str, str]]) -> None:
    """(session_id, exam code, exam date, format, status) straight into the table."""
    from exam_results.entry_rows import default_results_available_by
    from exam_results.models import ExamSession
    from exam_results.wiring import deps

    d = deps()
    records = []
    for session_id, code, day, fmt, status in sessions:
        records.append(
            d.exams.session_item(
                ExamSession(
                    session_id=session_id,
                    exam_code=code,
                    exam_date=day,
                    format=fmt,  # type: ignore[arg-type]
                    results_available_by=default_results_available_by(day, fmt),
                    status=status,  # type: ignore[arg-type]
                    released_at=datetime(2026, 7, 25, 8, 0, tzinfo=UTC) if status == "released" else None,
                )
            )
        )
    d.exams.write_items(records)


def session_record(session_id: str) -> dict[str, Any]:
    """A session's raw item, bookkeeping attributes included (what no reader is shown)."""
    from exam_results.repositories import dynamo
    from exam_results.repositories.exams import SESSION_SK, session_pk
    from exam_results.wiring import deps

    key = dynamo.item({"pk": session_pk(session_id), "sk": SESSION_SK})
    raw = dynamo.ddb().get_item(TableName=deps().settings.data_table, Key=key, ConsistentRead=True).get("Item")
    record = dynamo.plain(raw)
    assert record is not None, session_id
    return record


def seed_entries(rows: Iterable[tuple[str, str]], secret_hash: str = "0" * 64) -> int:
    """(id_number, session_id) entries straight into the table, 25 per BatchWriteItem."""
    from exam_results.models import Entry
    from exam_results.repositories.uploads import UploadsRepository
    from exam_results.wiring import deps

    d = deps()

    def items() -> Iterator[dict[str, Any]]:
        for id_number, session_id in rows:
            yield UploadsRepository.entry_item(
                Entry(
                    id_number=id_number,
                    session_id=session_id,
                    secret_hash=secret_hash,
                    candidate_number="0001",
                    candidate_name="Test Candidate",
                    date_of_birth=date(2005, 1, 2),
                    centre_number="GB123",
                    centre_name="Oxford Language Centre",
                )
            )

    return d.exams.write_items(items())


class Faults:
    """The one place faults are injected (issue 18): a botocore ``before-call`` hook on the layer's
    DynamoDB client raises the error AWS returns once the SDK's own retries are spent (a sustained
    throttle, an outage) for chosen calls of one operation, counted from 1.

    ``fail(op, calls, code)`` fails those calls of ``op`` (``"every"``: every call from then on;
    ``"even"``: every other call, the 2nd, 4th, ...; or a set of call numbers). ``clear()`` ends all faults (the next
    delivery succeeds). The code under test is not patched: it sees exactly what boto3 raises.
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.rules: dict[str, tuple[Any, str]] = {}
        self.raised: list[tuple[str, int]] = []
        self._lock = threading.Lock()  # calls of a parallel write come from several threads
        self._events = layer_dynamodb_events()
        for emitter in self._events:
            emitter.register("before-call.dynamodb", self._hook)

    def fail(self, operation: str, calls: Any, code: str = "ProvisionedThroughputExceededException") -> None:
        """Fail these calls of ``operation``, counted from the next one (``raised`` starts anew)."""
        self.raised = []
        self.counts[operation] = 0
        self.rules[operation] = (calls, code)

    def clear(self) -> None:
        self.rules.clear()

    def _hook(self, model: Any, **_: Any) -> None:
        from botocore.exceptions import ClientError

        name = model.name
        with self._lock:
            n = self.counts[name] = self.counts.get(name, 0) + 1
            rule = self.rules.get(name)
            if rule is None:
                return
            calls, code = rule
            hit = calls == "every" or (calls == "even" and n % 2 == 0) or (isinstance(calls, set) and n in calls)
            if hit:
                self.raised.append((name, n))
        if hit:
            raise ClientError({"Error": {"Code": code, "Message": f"injected {code}"}}, name)

    def close(self) -> None:
        for emitter in self._events:
            emitter.unregister("before-call.dynamodb", self._hook)
