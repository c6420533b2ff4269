"""20,000 candidates in one session: calls counted, time measured (figures for docs/capacity.md).

Writes ``test-artifacts/notify-scale.json``. Times are on moto in one process (2 cores): they
bound the code's own cost, not AWS latency; the call counts are exact.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from devtools.harness.stack import Stack
from tests.helpers.notify import (
    SenderPoller,
    SesCalls,
    SqsCalls,
    bulk_candidates,
    bulk_send_calls,
    queue_depth,
    results_recipients,
    schedule_event,
)
from tests.integration.notify.test_sender import _due_session

N = 20_000
ARTIFACT = Path(__file__).resolve().parents[3] / "test-artifacts" / "notify-scale.json"


class ApiCalls:
    """Every AWS API call the code under test makes, by operation, with the time spent in it."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> ApiCalls:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call

        def timed(client: Any, operation: str, params: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(client, operation, params)
            finally:
                self.count[operation] += 1
                self.seconds[operation] += time.perf_counter() - started

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", timed)
        return self

    def snapshot(self) -> dict[str, dict[str, float]]:
        return {op: {"calls": n, "seconds": round(self.seconds[op], 3)} for op, n in sorted(self.count.items())}


@pytest.mark.slow
def test_twenty_thousand_candidates_one_session(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    session = _due_session("C1A-SCALE-PB")
    started = time.perf_counter()
    ids = bulk_candidates(session.session_id, N, prefix="S")
    seed_seconds = time.perf_counter() - started

    ses = SesCalls().install(monkeypatch)
    sqs = SqsCalls().install(monkeypatch)

    api = ApiCalls().install(monkeypatch)
    started = time.perf_counter()
    report = stack.invoke("ReleaseFunction", schedule_event(stack))
    release_seconds = time.perf_counter() - started
    release_calls = api.snapshot()
    fanout = report["fanouts"][0]
    assert report["released"] == [session.session_id] and fanout["done"]
    assert fanout["enqueued"] == N
    assert queue_depth(stack, "NotifyQueue") == math.ceil(N / 50)
    assert sqs.messages == math.ceil(N / 50)
    assert sqs.send_message_batch == math.ceil(N / 50 / 10) == fanout["sqs_calls"]

    api = ApiCalls().install(monkeypatch)
    poller = SenderPoller(stack)
    started = time.perf_counter()
    stats = poller.drain()
    drain_seconds = time.perf_counter() - started
    sender_calls = api.snapshot()

    assert ses.calls == bulk_send_calls() == math.ceil(N / 50)
    sent = Counter(results_recipients())
    assert len(sent) == N and set(sent.values()) == {1}
    assert stats.failed_records == 0 and stats.messages == math.ceil(N / 50)
    assert stats.invocations == math.ceil(N / 50 / 10)
    assert queue_depth(stack, "NotifyQueue") == 0 and queue_depth(stack, "NotifyDeadLetterQueue") == 0
    assert len(ids) == N

    figures = {
        "candidates": N,
        "seed_seconds": round(seed_seconds, 2),
        "release": {
            "seconds": round(release_seconds, 2),
            "ids_per_second": round(N / release_seconds),
            "sqs_send_message_batch_calls": sqs.send_message_batch,
            "messages": sqs.messages,
            "aws_calls": release_calls,
        },
        "sender": {
            "invocations": stats.invocations,
            "messages": stats.messages,
            "ses_send_bulk_templated_email_calls": ses.calls,
            "seconds_in_handler": round(stats.seconds_in_handler, 2),
            "seconds_per_message": round(stats.seconds_in_handler / stats.messages, 4),
            "seconds_per_invocation": round(stats.seconds_in_handler / stats.invocations, 3),
            "drain_seconds": round(drain_seconds, 2),
            "aws_calls": sender_calls,
            "aws_calls_per_message": {op: round(v["calls"] / stats.messages, 2) for op, v in sender_calls.items()},
        },
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
