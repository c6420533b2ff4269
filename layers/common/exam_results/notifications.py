"""The contract between whoever finds candidates to notify and the sender of the emails.

A message on the notification queue is a ``NotificationBatch``: one session and at most
``MAX_RECIPIENTS`` ID Numbers (SES ``SendBulkTemplatedEmail`` takes 50 destinations a call).
The sender decides who really gets an email (result present, confirmed address, not yet
notified) — so enqueueing the same ID twice never emails twice.

``versions`` (parallel to ``id_numbers``) names the result version of each candidate that was
published when it was queued (results are staged, docs/files.md): the sender checks that item
exists. It is left out for results stored before staging (the sender then reads the plain key).
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
    versions: list[str | None] | None = None

    def version_of(self) -> dict[str, str | None]:
        """Each ID's published result version (None: the plain, pre-staging key)."""
        if self.versions is None or len(self.versions) != len(self.id_numbers):
            return dict.fromkeys(self.id_numbers)
        return dict(zip(self.id_numbers, self.versions, strict=True))


def batches(
    session_id: str, id_numbers: Iterable[str], versions: Iterable[str | None] | None = None
) -> Iterator[NotificationBatch]:
    pairs = zip(id_numbers, versions, strict=True) if versions is not None else ((i, None) for i in id_numbers)
    chunk: list[tuple[str, str | None]] = []
    for pair in pairs:
        chunk.append(pair)
        if len(chunk) == MAX_RECIPIENTS:
            yield _batch(session_id, chunk)
            chunk = []
    if chunk:
        yield _batch(session_id, chunk)


def _batch(session_id: str, chunk: list[tuple[str, str | None]]) -> NotificationBatch:
    versions = [v for _, v in chunk]
    return NotificationBatch(
        session_id=session_id,
        id_numbers=[i for i, _ in chunk],
        versions=versions if any(versions) else None,
    )


def enqueue(
    queue: NotifyQueue, session_id: str, id_numbers: Iterable[str], versions: Iterable[str | None] | None = None
) -> int:
    """Queue the candidates of a session for the "results available" email. Returns SQS calls."""
    return queue.send(b.model_dump(exclude_none=True) for b in batches(session_id, id_numbers, versions))
