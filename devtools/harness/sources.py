"""The template's event sources, run locally: S3 notifications, SQS pollers and schedules.

Everything is read from the functions' ``Events`` in ``template.yaml``:

* ``S3`` events (``Bucket: !Ref X``, ``Events``, ``Filter.S3Key.Rules`` prefix/suffix): an object
  put through :meth:`EventSources.put_object` reaches every matching function with a real S3
  ``ObjectCreated`` notification.
* ``SQS`` events (``Queue: !GetAtt X.Arn``, ``BatchSize``, ``FunctionResponseTypes``,
  ``ScalingConfig.MaximumConcurrency``): polled as Lambda's event source mapping does, with as many
  batches at once as ``MaximumConcurrency`` (else 5, the batches Lambda starts with). Only
  succeeded messages are deleted; failed ones become visible again after the queue's visibility
  timeout, and after ``maxReceiveCount`` receives the emulator moves them to the dead-letter
  queue of the queue's ``RedrivePolicy``.
* ``ScheduleV2`` / ``Schedule`` events: invoked on a short local timer (not the template's
  rate), with EventBridge Scheduler's / EventBridge's payload.

A function that has none of these events simply is not involved.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devtools.harness import events
from devtools.harness.stack import Stack

log = logging.getLogger("devtools.local")

Invoke = Callable[[str, dict[str, Any]], Any]


@dataclass(frozen=True)
class S3Trigger:
    function: str
    event_id: str
    bucket: str  # logical id of the bucket
    patterns: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    def matches(self, event_name: str, key: str) -> bool:
        """``event_name`` as in a notification (``ObjectCreated:Put``)."""
        wanted = f"s3:{event_name}"
        return (
            any(fnmatch.fnmatchcase(wanted, p) for p in self.patterns)
            and key.startswith(self.prefix)
            and key.endswith(self.suffix)
        )


@dataclass(frozen=True)
class SqsSource:
    function: str
    event_id: str
    queue_arn: str
    queue_url: str
    batch_size: int = 10
    report_failures: bool = False
    concurrency: int = 5  # batches at once: ScalingConfig.MaximumConcurrency, else Lambda's first 5


@dataclass(frozen=True)
class ScheduleSource:
    function: str
    event_id: str
    kind: str  # ScheduleV2 | Schedule
    name: str
    expression: str
    input_text: str | None = None

    def event(self, region: str) -> Any:
        if self.kind == "ScheduleV2":
            return events.scheduler_event(schedule_name=self.name, region=region, input_text=self.input_text)
        return events.events_rule_event(rule_name=self.name, region=region, input_text=self.input_text)


@dataclass
class Invocation:
    function: str
    ok: bool
    result: Any = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"function": self.function, "ok": self.ok}
        if self.error:
            out["error"] = self.error
        else:
            try:
                json.dumps(self.result)
                out["result"] = self.result
            except TypeError:
                out["result"] = repr(self.result)
        return out


@dataclass
class PollOutcome:
    received: int = 0
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error: str | None = None


def _enabled(props: dict[str, Any]) -> bool:
    if props.get("Enabled") is False:
        return False
    return str(props.get("State", "ENABLED")).upper() != "DISABLED"


class EventSources:
    def __init__(self, stack: Stack, invoke: Invoke | None = None) -> None:
        self.stack = stack
        self.invoke_fn: Invoke = invoke or stack.invoke
        self.s3_triggers: list[S3Trigger] = []
        self.sqs_sources: list[SqsSource] = []
        self.schedules: list[ScheduleSource] = []
        self._read_template()

    # ------------------------------------------------------------------ template reading

    def _logical(self, value: Any) -> str:
        if isinstance(value, dict) and "Ref" in value:
            return str(value["Ref"])
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            arg = value["Fn::GetAtt"]
            return str(arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0])
        name = str(self.stack.resolver.resolve(value))
        for logical, physical in self.stack.refs.items():
            if physical == name:
                return logical
        raise KeyError(f"no resource of this template is {value!r}")

    def _queue_url(self, arn: str) -> str:
        for (logical, attr), value in self.stack.attrs.items():
            if attr == "Arn" and value == arn and logical in self.stack.refs:
                return self.stack.refs[logical]
        name = arn.rsplit(":", 1)[-1]
        return str(self.stack.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def _read_template(self) -> None:
        for logical, spec in self.stack.functions().items():
            for event_id, event in spec.events.items():
                kind = event.get("Type")
                props = event.get("Properties", {}) or {}
                if kind == "S3":
                    raw = props.get("Events", [])
                    patterns = tuple([raw] if isinstance(raw, str) else raw)
                    rules = props.get("Filter", {}).get("S3Key", {}).get("Rules", [])
                    values = {str(r["Name"]).lower(): str(self.stack.resolver.resolve(r["Value"])) for r in rules}
                    self.s3_triggers.append(
                        S3Trigger(
                            logical,
                            event_id,
                            self._logical(props["Bucket"]),
                            patterns,
                            values.get("prefix", ""),
                            values.get("suffix", ""),
                        )
                    )
                elif kind == "SQS" and _enabled(props):
                    arn = str(self.stack.resolver.resolve(props["Queue"]))
                    self.sqs_sources.append(
                        SqsSource(
                            logical,
                            event_id,
                            arn,
                            self._queue_url(arn),
                            int(props.get("BatchSize", 10)),
                            "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                            int((props.get("ScalingConfig") or {}).get("MaximumConcurrency", 5)),
                        )
                    )
                elif kind in {"ScheduleV2", "Schedule"} and _enabled(props):
                    name = props.get("Name") or f"{spec.name}-{event_id}"
                    raw_input = props.get("Input")
                    self.schedules.append(
                        ScheduleSource(
                            logical,
                            event_id,
                            str(kind),
                            str(self.stack.resolver.resolve(name)),
                            str(props.get("ScheduleExpression") or props.get("Schedule") or ""),
                            None if raw_input is None else str(self.stack.resolver.resolve(raw_input)),
                        )
                    )

    # ------------------------------------------------------------------ invoking

    def invoke(self, function: str, event: Any, source: str) -> Invocation:
        try:
            result = self.invoke_fn(function, event)
        except Exception as exc:
            log.error("[%s] %s failed:\n%s", source, function, traceback.format_exc())
            return Invocation(function, False, error=f"{type(exc).__name__}: {exc}")
        # Timer ticks are quiet when they succeed; everything else is worth a line.
        log.log(logging.DEBUG if source.startswith("tick") else logging.INFO, "[%s] %s ok", source, function)
        return Invocation(function, True, result=result)

    # ------------------------------------------------------------------ S3

    def upload_buckets(self) -> list[str]:
        """Logical ids of the buckets that some function listens to, in template order."""
        seen: list[str] = []
        for trigger in self.s3_triggers:
            if trigger.bucket not in seen:
                seen.append(trigger.bucket)
        return seen

    def bucket_for(self, key: str) -> str | None:
        """The bucket whose S3 events take ``key`` (or the only bucket with S3 events)."""
        for trigger in self.s3_triggers:
            if trigger.matches("ObjectCreated:Put", key):
                return trigger.bucket
        buckets = self.upload_buckets()
        return buckets[0] if len(buckets) == 1 else None

    def put_object(self, bucket: str, key: str, body: bytes) -> list[Invocation]:
        """Put an object into a bucket of the stack, then deliver its notification."""
        name = self.stack.physical(bucket)
        s3 = self.stack.client("s3")
        put = s3.put_object(Bucket=name, Key=key, Body=body)
        return self.notify(bucket, key, len(body), put["ETag"], put.get("VersionId"))

    def notify(
        self,
        bucket: str,
        key: str,
        size: int,
        etag: str,
        version_id: str | None = None,
        event_name: str = "ObjectCreated:Put",
    ) -> list[Invocation]:
        out = []
        for trigger in self.s3_triggers:
            if trigger.bucket != bucket or not trigger.matches(event_name, key):
                continue
            event = events.s3_object_created(
                bucket=self.stack.physical(bucket),
                key=key,
                size=size,
                etag=etag,
                region=self.stack.region,
                version_id=version_id,
                event_name=event_name,
                configuration_id=f"{trigger.function}{trigger.event_id}",
            )
            out.append(self.invoke(trigger.function, event, f"s3 {key}"))
        return out

    # ------------------------------------------------------------------ SQS

    def poll_once(self, source: SqsSource, wait_seconds: int = 0) -> PollOutcome:
        """One receive → invoke → delete cycle of an event source mapping."""
        return self.process(source, self.receive(source, wait_seconds))

    def receive(self, source: SqsSource, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """One batch of messages (up to the batch size; empty after ``wait_seconds``)."""
        sqs = self.stack.client("sqs")
        messages: list[dict[str, Any]] = []
        while len(messages) < source.batch_size:
            got = sqs.receive_message(
                QueueUrl=source.queue_url,
                MaxNumberOfMessages=min(10, source.batch_size - len(messages)),
                WaitTimeSeconds=wait_seconds if not messages else 0,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            fresh = [m for m in got if all(m["MessageId"] != seen["MessageId"] for seen in messages)]
            messages.extend(fresh)
            if len(fresh) < len(got) or not got:
                break  # empty, or messages already in this batch came back (a visibility timeout of 0)
        return messages

    def process(self, source: SqsSource, messages: list[dict[str, Any]]) -> PollOutcome:
        """Invoke the function with a received batch, then delete what succeeded."""
        sqs = self.stack.client("sqs")
        outcome = PollOutcome(received=len(messages))
        if not messages:
            return outcome
        event = events.sqs_event(messages, source.queue_arn, self.stack.region)
        invocation = self.invoke(source.function, event, f"sqs {len(messages)} message(s)")
        ids = [m["MessageId"] for m in messages]
        if not invocation.ok:
            outcome.failed, outcome.error = ids, invocation.error
            return outcome
        failed = self._failed_ids(source, invocation.result, ids)
        if failed is None:
            outcome.failed, outcome.error = ids, "invalid batchItemFailures response: whole batch failed"
            return outcome
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            sqs.delete_message_batch(
                QueueUrl=source.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        outcome.deleted = [m["MessageId"] for m in done]
        outcome.failed = [i for i in ids if i in failed]
        return outcome

    @staticmethod
    def _failed_ids(source: SqsSource, result: Any, ids: list[str]) -> set[str] | None:
        """Lambda's reading of a partial batch response; ``None`` means the whole batch failed."""
        if not source.report_failures or result in (None, "", {}):
            return set()
        if not isinstance(result, dict):
            return None
        failures = result.get("batchItemFailures")
        if failures is None:
            return set()
        if not isinstance(failures, list):
            return None
        failed = set()
        for item in failures:
            ident = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not ident or ident not in ids:
                return None
            failed.add(ident)
        return failed

    # ------------------------------------------------------------------ schedules

    def run_schedules(self, source: str = "schedule") -> list[Invocation]:
        region = self.stack.region
        return [self.invoke(s.function, s.event(region), f"{source} {s.name}") for s in self.schedules]


class Workers:
    """Background threads: per SQS source one receiver handing batches to up to ``concurrency``
    invocations at once (one receiver, so no two take the same message from the emulator), and
    one timer for the schedules."""

    def __init__(self, sources: EventSources, tick_seconds: float = 10.0, poll_wait: int = 1) -> None:
        self.sources = sources
        self.tick_seconds = tick_seconds
        self.poll_wait = poll_wait
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()

    def start(self) -> None:
        for source in self.sources.sqs_sources:
            self._spawn(self._poll_loop, source, name=f"sqs-{source.function}")
        if self.sources.schedules and self.tick_seconds > 0:
            self._spawn(self._tick_loop, name="schedules")

    def _spawn(self, target: Callable[..., None], *args: Any, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        with self._threads_lock:  # finished batches are forgotten
            self.threads = [t for t in self.threads if t.is_alive()] + [thread]

    def _poll_loop(self, source: SqsSource) -> None:
        free = threading.BoundedSemaphore(source.concurrency)  # batches in flight
        while not self.stop_event.is_set():
            if not free.acquire(timeout=self.poll_wait):
                continue  # every slot busy: receive nothing that could not be processed
            try:
                batch = self.sources.receive(source, wait_seconds=self.poll_wait)
            except Exception:
                free.release()
                if self.stop_event.is_set():
                    return
                log.error("[sqs] polling %s failed:\n%s", source.queue_url, traceback.format_exc())
                self.stop_event.wait(1)
                continue
            if not batch:
                free.release()
                continue
            self._spawn(self._process, source, batch, free, name=f"sqs-{source.function}-batch")

    def _process(self, source: SqsSource, batch: list[dict[str, Any]], free: threading.BoundedSemaphore) -> None:
        try:
            self.sources.process(source, batch)
        except Exception:
            log.error("[sqs] a batch of %s failed:\n%s", source.queue_url, traceback.format_exc())
        finally:
            free.release()

    def _tick_loop(self) -> None:
        while not self.stop_event.wait(self.tick_seconds):
            self.sources.run_schedules("tick")

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        with self._threads_lock:
            threads = list(self.threads)
        for thread in threads:
            thread.join(timeout)
