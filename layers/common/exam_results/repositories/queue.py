"""SQS queues: the notification queue (batches of recipients for the "results available" email)
and the mail request queue (one email asked for by ID Number: reset, confirmation resend)."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterable

from exam_results.errors import ServiceUnavailable
from exam_results.repositories.aws import client


class NotifyQueue:
    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    def send(self, bodies: Iterable[dict[str, object]]) -> int:
        """SendMessageBatch, 10 messages per call, failed entries retried. Returns the calls made."""
        calls = 0
        batch: list[dict[str, str]] = []

        def flush(entries: list[dict[str, str]]) -> None:
            nonlocal calls
            attempt = 0
            while entries:
                calls += 1
                response = client("sqs").send_message_batch(QueueUrl=self.queue_url, Entries=entries)
                failed = {f["Id"] for f in response.get("Failed", [])}
                entries = [e for e in entries if e["Id"] in failed]
                if entries:
                    attempt += 1
                    if attempt > 8:
                        raise ServiceUnavailable("SendMessageBatch", "Failed")
                    time.sleep(min(5.0, 0.05 * 2**attempt) * random.random())  # noqa: S311

        for body in bodies:
            batch.append({"Id": uuid.uuid4().hex, "MessageBody": json.dumps(body)})
            if len(batch) == 10:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
        return calls


class MailRequestQueue:
    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    def send(self, body: dict[str, object]) -> None:
        """One SendMessage: the only AWS call of a request for an email by ID Number."""
        client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body))
