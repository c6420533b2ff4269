"""Exam sessions and results in the data table.

  session  pk=SESSION#<session_id>   sk=SESSION
           while open: gsi1pk=OPEN_SESSIONS  gsi1sk=<release time, ISO UTC: release_at if the
           exam board set an earlier one with a releases/ file, else results_available_by>
  result   pk=CANDIDATE#<ID>         sk=RESULT#<session_id>#<version>   version=<version>
           gsi1pk=RESULTS#<session_id>#<shard>  gsi1sk=<ID>   shard = result_shard(ID), 0..15
           (sk=RESULT#<session_id>, no version: stored before files were staged; counts as published)
           (gsi1pk=RESULTS#<session_id>, no shard: stored before the key was sharded; still read)
  file     pk=PUBLICATION#<file id>  sk=PUBLICATION   status=staged|published  staged_at  published_at
  notified pk=CANDIDATE#<ID>         sk=NOTIFIED#<session_id>

A results file's rows are written as versions (``<staged_at>#<file id>``, see
``exam_results.usecases.results_publication``) and become visible together when its file item
turns ``published``. Readers see, per candidate and session, the latest version (by sort key,
i.e. by the instant its file was first staged) whose file is published: ``visible_result``.

Queries, never scans: due sessions come from GSI1 (``OPEN_SESSIONS`` up to now; the partition
holds only open sessions, a few hundred at most), a session's results from GSI1 too: its
``RESULT_SHARDS`` partitions and the legacy unsharded one, merged in ID order
(``FanoutRepository.result_versions``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from exam_results.models import ExamSession, Result
from exam_results.repositories import dynamo
from exam_results.repositories.candidates import candidate_pk

OPEN_SESSIONS = "OPEN_SESSIONS"
MAX_TRANSACTION_ITEMS = 100
"""TransactWriteItems takes at most 100 actions."""
SESSION_SK = "SESSION"
GSI1 = "GSI1"
RESULT_SHARDS = 16
"""GSI1 partitions a session's results are spread over. One partition key takes at most ~1,000
writes/s, so under one key a million-row file of one session needs 1,000 s of writes, past the
import's 900 s timeout; 16 keys lift that to ~16,000 rows/s, above the table's own on-demand rate
(docs/capacity.md, "A million-row results file"). Changing it moves results between keys:
readers would then have to merge the old count's keys too."""


class ReleaseTimeConflict(Exception):
    """A session of a releases/ file was released or changed after it was checked (retry)."""


def session_pk(session_id: str) -> str:
    return f"SESSION#{session_id}"


def result_shard(id_number: str) -> int:
    """The GSI1 shard of a candidate's results: the same for every version and every run (a
    digest, not ``hash()``, which is salted per process), so a candidate's versions share a key."""
    return int.from_bytes(hashlib.sha256(id_number.encode()).digest()[:4], "big") % RESULT_SHARDS


def results_partition(session_id: str, shard: int | None = None) -> str:
    """GSI1 key of a session's results in ``shard``; None: the legacy unsharded key, which holds
    results stored before the key was sharded (read, never written)."""
    return f"RESULTS#{session_id}" if shard is None else f"RESULTS#{session_id}#{shard}"


def result_sk(session_id: str, version: str | None = None) -> str:
    return f"RESULT#{session_id}#{version}" if version else f"RESULT#{session_id}"


PUBLICATION_SK = "PUBLICATION"


def publication_pk(file_id: str) -> str:
    return f"PUBLICATION#{file_id}"


def file_of(version: str) -> str:
    """The file id of a result version (``<staged_at>#<file id>``)."""
    return version.rsplit("#", 1)[-1]


def visible_result(records: Iterable[dict[str, Any]], published: set[str]) -> dict[str, Any] | None:
    """Of one candidate's result items for one session, the one every reader shows: the latest
    version whose file is published (an item without a version predates staging: published).
    Readers get ``published`` in a call they make anyway (``sessions_and_files``)."""
    best: dict[str, Any] | None = None
    for record in records:
        version = record.get("version")
        if version is not None and file_of(str(version)) not in published:
            continue
        if best is None or str(record["sk"]) > str(best["sk"]):
            best = record
    return best


def result_files(records: Iterable[dict[str, Any]]) -> set[str]:
    """The file ids of these result items (what ``sessions_and_files`` is asked about)."""
    return {file_of(str(r["version"])) for r in records if r.get("version")}


def instant(value: datetime) -> str:
    """Instants are stored as ISO 8601 UTC with a Z, so that they sort as text."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ExamRepository:
    def __init__(self, table: str) -> None:
        self.table = table

    # -- sessions --

    def session_item(self, session: ExamSession) -> dict[str, Any]:
        record: dict[str, Any] = {
            "pk": session_pk(session.session_id),
            "sk": SESSION_SK,
            **session.model_dump(mode="json"),
            "results_available_by": instant(session.results_available_by),
            "release_at": instant(session.release_at) if session.release_at else None,
        }
        if session.status == "open":
            record["gsi1pk"] = OPEN_SESSIONS
            record["gsi1sk"] = instant(session.release_time)
        return record

    def set_release_times(self, releases: Iterable[tuple[str, datetime]], source_key: str) -> None:
        """Set ``release_at`` of open sessions, all or none (one TransactWriteItems, at most
        ``MAX_TRANSACTION_ITEMS``): GSI1's sort key moves to it, so the schedule's query finds
        the session then. Each update is conditional on the session being still open and
        ``release_at`` not after its ``results_available_by``; raises ``ReleaseTimeConflict``
        when one is not (released, or changed, since the caller checked it)."""
        operations = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": dynamo.item({"pk": session_pk(session_id), "sk": SESSION_SK}),
                    "UpdateExpression": "SET release_at = :at, gsi1sk = :at, release_set_by = :by",
                    "ConditionExpression": "#s = :open AND results_available_by >= :at",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": dynamo.values(
                        {":at": instant(at), ":by": source_key, ":open": "open"}
                    ),
                }
            }
            for session_id, at in releases
        ]
        if not operations:
            return
        if len(operations) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"at most {MAX_TRANSACTION_ITEMS} sessions in one transaction")
        try:
            dynamo.transact(operations)
        except ClientError as exc:
            if "ConditionalCheckFailed" in dynamo.cancellation_reasons(exc):
                raise ReleaseTimeConflict(source_key) from exc
            raise

    def open_sessions_until(self, until: datetime) -> list[ExamSession]:
        """Open sessions whose release time is at or before ``until``, soonest first (GSI1
        query, every page): what the schedule will release by then."""
        return [
            ExamSession.model_validate(record)
            for record in dynamo.query_all(
                TableName=self.table,
                IndexName=GSI1,
                KeyConditionExpression="gsi1pk = :p AND gsi1sk <= :until",
                ExpressionAttributeValues=dynamo.values({":p": OPEN_SESSIONS, ":until": instant(until)}),
            )
        ]

    def get_sessions(self, session_ids: Iterable[str]) -> dict[str, ExamSession]:
        """Sessions by id, in one BatchGetItem per 100 (strongly consistent)."""
        keys = ({"pk": session_pk(s), "sk": SESSION_SK} for s in sorted(set(session_ids)))
        records, _ = dynamo.batch_get(self.table, keys)
        return {r["session_id"]: ExamSession.model_validate(r) for r in records}

    def get_session(self, session_id: str) -> ExamSession | None:
        return self.get_sessions([session_id]).get(session_id)

    def sessions_and_files(
        self, session_ids: Iterable[str], file_ids: Iterable[str]
    ) -> tuple[dict[str, ExamSession], set[str]]:
        """Sessions by id and which of these results files are published, read together in one
        strongly consistent BatchGetItem per 100 keys (a reader pays no extra call for staging)."""
        keys = [{"pk": session_pk(s), "sk": SESSION_SK} for s in sorted(set(session_ids))]
        keys += [{"pk": publication_pk(f), "sk": PUBLICATION_SK} for f in sorted(set(file_ids))]
        sessions: dict[str, ExamSession] = {}
        published: set[str] = set()
        for record in dynamo.batch_get(self.table, keys)[0]:
            if record["sk"] == SESSION_SK:
                sessions[record["session_id"]] = ExamSession.model_validate(record)
            elif record.get("status") == "published":
                published.add(str(record["pk"]).removeprefix("PUBLICATION#"))
        return sessions, published

    def due_sessions(self, now: datetime, limit: int = 100) -> list[ExamSession]:
        """Open sessions whose release time has passed (GSI1 query; eventually consistent)."""
        page = dynamo.ddb().query(
            TableName=self.table,
            IndexName=GSI1,
            KeyConditionExpression="gsi1pk = :p AND gsi1sk <= :now",
            ExpressionAttributeValues=dynamo.values({":p": OPEN_SESSIONS, ":now": instant(now)}),
            Limit=limit,
        )
        return [ExamSession.model_validate(dynamo.plain(r)) for r in page.get("Items", [])]

    # -- results --

    def result_item(self, result: Result, version: str | None = None) -> dict[str, Any]:
        """A result item; with ``version`` (a results file's) it is staged: invisible until that
        file is published."""
        record = {
            "pk": candidate_pk(result.id_number),
            "sk": result_sk(result.session_id, version),
            "gsi1pk": results_partition(result.session_id, result_shard(result.id_number)),
            "gsi1sk": result.id_number,
            **result.model_dump(mode="json"),
        }
        if version:
            record["version"] = version
        return record

    def candidate_records(self, id_number: str) -> list[dict[str, Any]]:
        """Everything in a candidate's partition (entry, account, results, markers): one query."""
        return list(
            dynamo.query_all(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=dynamo.values({":pk": candidate_pk(id_number)}),
                ConsistentRead=True,
            )
        )

    def result_versions(self, id_number: str, session_id: str) -> list[dict[str, Any]]:
        """Every version of a candidate's result for one session, published or not (one query;
        ``visible_result`` picks the one to show)."""
        return [
            r
            for r in dynamo.query_all(
                TableName=self.table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
                ExpressionAttributeValues=dynamo.values({":pk": candidate_pk(id_number), ":sk": result_sk(session_id)}),
                ConsistentRead=True,
            )
            if r.get("session_id") == session_id  # RESULT#S1 is also a prefix of RESULT#S10
        ]

    # -- bulk writes --

    def delete_items(self, keys: Iterable[tuple[str, str]]) -> int:
        """Delete these (pk, sk), 25 a BatchWriteItem (``dynamo.batch_write``). Returns the calls."""
        unique = dict.fromkeys(keys)
        return dynamo.batch_write(self.table, dynamo.delete_requests({"pk": pk, "sk": sk} for pk, sk in unique))

    def write_items(self, records: Iterable[dict[str, Any]], *, parallel: bool = False) -> int:
        """Put these items, 25 a BatchWriteItem (``dynamo.batch_write``; ``parallel`` for a large
        file's staged rows). Returns the calls made."""
        return dynamo.batch_write(self.table, dynamo.put_requests(records), parallel=parallel)
