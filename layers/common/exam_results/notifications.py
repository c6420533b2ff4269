"""The contract between whoever finds candidates to notify and the sender of the emails.

A message on the notification queue is a ``NotificationBatch``: one session and at most
``MAX_RECIPIENTS`` ID Numbers (SES ``SendBulkTemplatedEmail`` takes 50 destinations a call).
The sender decides who really gets an email (result present, confirmed address, not yet
notified) — so enqueueing the same ID twice never emails twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pydantic import BaseModel, ConfigDict, Field

from exam_results.repositories.queue import NotifyQueue

MAX_RECIPIENTS = 50


class NotificationBatch(BaseModel):
    model_config = ConfigDict(defer_build=True)

    session_id: str
    id_numbers: list[str] = Field(min_length=1, max_length=MAX_RECIPIENTS)


def batches(session_id: str, id_numbers: Iterable[str]) -> Iterator[NotificationBatch]:
    chunk: list[str] = []
    for id_number in id_numbers:
        chunk.append(id_number)
        if len(chunk) == MAX_RECIPIENTS:
            yield NotificationBatch(session_id=session_id, id_numbers=chunk)
            chunk = []
    if chunk:
        yield NotificationBatch(session_id=session_id, id_numbers=chunk)


def enqueue(queue: NotifyQueue, session_id: str, id_numbers: Iterable[str]) -> int:
    """Queue the candidates of a session for the "results available" email. Returns SQS calls."""
    return queue.send(b.model_dump() for b in batches(session_id, id_numbers))
