"""Release of sessions and the bookkeeping of their notification fan-out (data table, GSI1).

A session item (``pk=SESSION#<id> sk=SESSION``) carries, besides the session itself:

  while open                 gsi1pk=OPEN_SESSIONS     gsi1sk=<release_at or results_available_by>
  released, fan-out to do    gsi1pk=FANOUT_PENDING    gsi1sk=<released_at>
  released, fan-out done     no gsi1 keys (sparse index: the session leaves GSI1)

  notify_cursor        last ID Number whose notification batch is on the queue
  notify_enqueued      how many ID Numbers were put on the queue (counter, may count repeats)
  notify_done          true once every result of the session was put on the queue
  fanout_owner         the run that holds the fan-out lease (absent when nobody does)
  fanout_lease_until   epoch seconds after which another run may take the fan-out over

A session's results are read from GSI1 too: its ``RESULT_SHARDS`` partitions
(``RESULTS#<session>#<n>``) and the legacy ``RESULTS#<session>`` (results stored before the key
was sharded), merged in ID order (``result_versions``), so the cursor is an ID Number as before.

Releasing moves the session from ``OPEN_SESSIONS`` to ``FANOUT_PENDING`` in the same
conditional update, so no crash between two writes can leave a released session that nobody
notifies. Both partitions hold only a few sessions at a time: queries, never scans.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from exam_results.models import ExamSession
from exam_results.repositories import dynamo
from exam_results.repositories.exams import (
    GSI1,
    PUBLICATION_SK,
    RESULT_SHARDS,
    SESSION_SK,
    instant,
    publication_pk,
    results_partition,
    session_pk,
)

FANOUT_PENDING = "FANOUT_PENDING"


class FanoutRepository:
    def __init__(self, table: str) -> None:
        self.table = table

    def _key(self, session_id: str) -> dict[str, Any]:
        return dynamo.item({"pk": session_pk(session_id), "sk": SESSION_SK})

    def release(self, session_id: str, now: datetime) -> ExamSession | None:
        """Release an open session whose release time has come, exactly once, and queue its
        fan-out.

        Only an ``open`` session whose window has passed, or whose ``release_at`` (set by a
        releases/ file) has; returns None when another run released it first (or it is not
        due). A released session is never released again, so a session released early sends
        no second email when its window ends.
        """
        at = instant(now)
        try:
            attrs = dynamo.ddb().update_item(
                TableName=self.table,
                Key=self._key(session_id),
                UpdateExpression=(
                    "SET #s = :released, released_at = :now, gsi1pk = :pending, gsi1sk = :now, "
                    "notify_done = :false, notify_enqueued = :zero"
                ),
                ConditionExpression="#s = :open AND (results_available_by <= :now OR release_at <= :now)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=dynamo.values(
                    {
                        ":released": "released",
                        ":open": "open",
                        ":now": at,
                        ":pending": FANOUT_PENDING,
                        ":false": False,
                        ":zero": 0,
                    }
                ),
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as exc:
            if dynamo.is_condition_failure(exc):
                return None
            raise
        return ExamSession.model_validate(dynamo.plain(attrs))

    def result_versions(
        self, session_id: str, start_after: str | None = None, page_size: int | None = None
    ) -> Iterator[tuple[str, list[str | None]]]:
        """The ID Numbers of a session's results in ID order, after ``start_after``, each with the
        versions of its result items (None: stored before staging). Published or not: the caller
        keeps the versions of published files (``published``).

        One GSI1 query per shard (``RESULT_SHARDS``) and one of the legacy unsharded key (results
        stored before the key was sharded: read where they are, no migration), each lazy and in ID
        order, merged: every shard's first page is read before the first ID comes out (17 queries
        for a small session, where one did before), then each shard's next page when it runs out.
        Only the index's sort key and the version are projected. Pages are as large as DynamoDB
        returns (1 MB of index items read: ≈ 2,500 results) unless ``page_size`` says otherwise;
        the caller stops between pages or inside one just the same.
        """
        partitions = [results_partition(session_id, shard) for shard in range(RESULT_SHARDS)]
        partitions.append(results_partition(session_id))  # legacy: before the shards
        merged = heapq.merge(
            *(self._index_records(p, start_after, page_size) for p in partitions),
            key=lambda record: str(record["gsi1sk"]),
        )
        current: str | None = None
        versions: list[str | None] = []
        for record in merged:
            id_number = str(record["gsi1sk"])
            # A candidate's versions share a shard (or sit in the legacy key as well): equal keys
            # come out of the merge together.
            if id_number != current:
                if current is not None:
                    yield current, versions
                current, versions = id_number, []
            versions.append(record.get("version"))
        if current is not None:
            yield current, versions

    def _index_records(
        self, partition: str, start_after: str | None, page_size: int | None
    ) -> Iterator[dict[str, Any]]:
        """One GSI1 partition's results in ID order, after ``start_after``, page after page."""
        condition = "gsi1pk = :p" + (" AND gsi1sk > :after" if start_after else "")
        values: dict[str, Any] = {":p": partition}
        if start_after:
            values[":after"] = start_after
        return dynamo.query_all(
            TableName=self.table,
            IndexName=GSI1,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=dynamo.values(values),
            ProjectionExpression="gsi1sk, version",
            **({"Limit": page_size} if page_size else {}),
        )

    def published(self, file_ids: Iterable[str]) -> set[str]:
        """Which of these results files are published (BatchGetItem, 100 keys a call)."""
        keys = ({"pk": publication_pk(f), "sk": PUBLICATION_SK} for f in sorted(set(file_ids)))
        records, _ = dynamo.batch_get(self.table, keys, fields=("pk", "status"))
        return {str(r["pk"]).removeprefix("PUBLICATION#") for r in records if r.get("status") == "published"}

    def pending(self, limit: int = 25) -> list[dict[str, Any]]:
        """Released sessions whose fan-out is not finished, oldest release first (GSI1 query)."""
        page = dynamo.ddb().query(
            TableName=self.table,
            IndexName=GSI1,
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues=dynamo.values({":p": FANOUT_PENDING}),
            Limit=limit,
        )
        return [dynamo.plain(r) or {} for r in page.get("Items", [])]

    def take_lease(self, session_id: str, owner: str, now: float, until: float) -> dict[str, Any] | None:
        """Take the fan-out of a session for ``owner`` until ``until`` (epoch seconds).

        Succeeds when the fan-out is still pending and nobody else holds a live lease; returns
        the session record (with its cursor), or None.
        """
        try:
            attrs = dynamo.ddb().update_item(
                TableName=self.table,
                Key=self._key(session_id),
                UpdateExpression="SET fanout_owner = :me, fanout_lease_until = :until",
                ConditionExpression=(
                    "gsi1pk = :pending AND (attribute_not_exists(fanout_owner) "
                    "OR fanout_owner = :me OR fanout_lease_until < :now)"
                ),
                ExpressionAttributeValues=dynamo.values(
                    {":me": owner, ":until": until, ":now": now, ":pending": FANOUT_PENDING}
                ),
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as exc:
            if dynamo.is_condition_failure(exc):
                return None
            raise
        return dynamo.plain(attrs)

    def save_cursor(self, session_id: str, owner: str, cursor: str, enqueued: int, until: float) -> bool:
        """Record progress (only while ``owner`` holds the lease) and extend the lease."""
        try:
            dynamo.ddb().update_item(
                TableName=self.table,
                Key=self._key(session_id),
                UpdateExpression=("SET notify_cursor = :c, fanout_lease_until = :until ADD notify_enqueued :n"),
                ConditionExpression="fanout_owner = :me",
                ExpressionAttributeValues=dynamo.values({":c": cursor, ":n": enqueued, ":me": owner, ":until": until}),
            )
        except ClientError as exc:
            if dynamo.is_condition_failure(exc):
                return False
            raise
        return True

    def stop(self, session_id: str, owner: str) -> None:
        """Give the lease back without finishing (the next run resumes from the cursor)."""
        try:
            dynamo.ddb().update_item(
                TableName=self.table,
                Key=self._key(session_id),
                UpdateExpression="REMOVE fanout_owner, fanout_lease_until",
                ConditionExpression="fanout_owner = :me",
                ExpressionAttributeValues=dynamo.values({":me": owner}),
            )
        except ClientError as exc:
            if not dynamo.is_condition_failure(exc):
                raise

    def finish(self, session_id: str, owner: str, now: datetime) -> bool:
        """Every result is on the queue: the session leaves the ``FANOUT_PENDING`` partition."""
        try:
            dynamo.ddb().update_item(
                TableName=self.table,
                Key=self._key(session_id),
                UpdateExpression=(
                    "SET notify_done = :true, notify_finished_at = :now "
                    "REMOVE gsi1pk, gsi1sk, fanout_owner, fanout_lease_until"
                ),
                ConditionExpression="fanout_owner = :me AND gsi1pk = :pending",
                ExpressionAttributeValues=dynamo.values(
                    {":true": True, ":now": instant(now), ":me": owner, ":pending": FANOUT_PENDING}
                ),
            )
        except ClientError as exc:
            if dynamo.is_condition_failure(exc):
                return False
            raise
        return True
