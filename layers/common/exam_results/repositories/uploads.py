"""The exam board's uploads: S3 objects, their reports, processed-file markers and the batched
reads and conditional writes the imports need.

  marker   pk=UPLOAD#<bucket>/<key>  sk=VERSION#<versionId>  (or sk=ETAG#<etag> without versioning)

A marker is written (conditionally, once) only after a file was fully handled: its rows stored,
its late-result notifications queued and its report written. A delivery that finds the marker
changes nothing; a delivery that crashed before it is simply done again (every write is an
idempotent put), so work is never lost and never applied twice with different effects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import batched
from typing import Any

from botocore.exceptions import ClientError

from exam_results.files.report import Report, report_key
from exam_results.models import Entry, ExamSession
from exam_results.repositories import dynamo
from exam_results.repositories.aws import client, error_code
from exam_results.repositories.candidates import (
    ENTRY_SK,
    VERSIONS,
    CandidateRepository,
    candidate_pk,
    effective_fields,
    entry_files,
)
from exam_results.repositories.exams import (
    GSI1,
    MAX_TRANSACTION_ITEMS,
    PUBLICATION_SK,
    ExamRepository,
    instant,
    publication_pk,
)

STAGED_FILES = "STAGED_FILES"
"""GSI1 partition of results files staged and never published (their leftovers to discard)."""

BATCH_GET_KEYS = dynamo.GET_KEYS
"""BatchGetItem takes at most 100 keys a call."""

READ_CHUNK_BYTES = 1 << 18
"""Bytes asked of the S3 body per read (256 KiB): the file is never held whole in memory, and
a chunk with its decoded text and lines stays near 1.5 MB whatever the file's size."""


@dataclass(frozen=True, slots=True)
class S3Object:
    """One version of an uploaded object, as an S3 event names it (key already URL-decoded)."""

    bucket: str
    key: str
    version_id: str | None
    etag: str

    @property
    def version(self) -> str:
        """What identifies this content: the version id, or the ETag in an unversioned bucket."""
        if self.version_id and self.version_id != "null":
            return f"VERSION#{self.version_id}"
        return f"ETAG#{self.etag.strip(chr(34))}"


class ObjectGone(Exception):
    """The object (this version of it) is no longer there, or was replaced by a newer upload."""


class SessionChanged(Exception):
    """A session an entries file writes changed since it was read (released, or written by
    another file): nothing of the file took effect; it is validated again."""


class UploadsRepository:
    def __init__(self, table: str) -> None:
        self.table = table

    # -- S3 --

    def is_current(self, obj: S3Object) -> bool:
        """True while ``obj`` is the key's current content: an event for an older version (a
        late retry after a newer upload) must not overwrite what the newer file stored, and a
        deleted file is not processed. One ListObjectVersions call (no 403/404 ambiguity)."""
        page = client("s3").list_object_versions(Bucket=obj.bucket, Prefix=obj.key, MaxKeys=10)
        for marker in page.get("DeleteMarkers", []):
            if marker.get("Key") == obj.key and marker.get("IsLatest"):
                return False
        for version in page.get("Versions", []):
            if version.get("Key") == obj.key and version.get("IsLatest"):
                if obj.version_id and obj.version_id != "null":
                    return str(version.get("VersionId", "")) == obj.version_id
                return str(version.get("ETag", "")).strip('"') == obj.etag.strip('"')
        return False

    def stream(self, obj: S3Object) -> Iterator[bytes]:
        """The object's bytes in chunks, read from S3 as they are consumed.

        Pinned to the event's version (or, unversioned, to its ETag), so two passes over the
        file read the same bytes. Raises ``ObjectGone`` if that content is not there any more.
        """
        kwargs: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key}
        if obj.version_id and obj.version_id != "null":
            kwargs["VersionId"] = obj.version_id
        else:
            kwargs["IfMatch"] = f'"{obj.etag.strip(chr(34))}"'
        try:
            body = client("s3").get_object(**kwargs)["Body"]
        except ClientError as exc:
            if error_code(exc) in {"NoSuchKey", "NoSuchVersion", "PreconditionFailed", "404", "412"}:
                raise ObjectGone(obj.key) from exc
            raise
        try:
            yield from body.iter_chunks(chunk_size=READ_CHUNK_BYTES)
        finally:
            body.close()

    def put_report(self, bucket: str, report: Report) -> str:
        key = report_key(report.source_key)
        client("s3").put_object(
            Bucket=bucket,
            Key=key,
            Body=report.to_json().encode(),
            ContentType="application/json",
        )
        return key

    def put_confirmation(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        """A Confirmation of Entry document (``confirmations/...``): it holds Secret Numbers in
        clear, so it is encrypted at rest (the bucket's default, asked for again here), readable
        only by the exam board's role (bucket policy) and expired by a lifecycle rule."""
        client("s3").put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ServerSideEncryption="AES256",
        )

    # -- processed-file markers --

    def _marker_key(self, obj: S3Object) -> dict[str, Any]:
        return dynamo.item({"pk": f"UPLOAD#{obj.bucket}/{obj.key}", "sk": obj.version})

    def processed(self, obj: S3Object) -> dict[str, Any] | None:
        """The marker of this object version, if it was handled already."""
        raw = dynamo.ddb().get_item(TableName=self.table, Key=self._marker_key(obj), ConsistentRead=True)
        return dynamo.plain(raw.get("Item"))

    def mark_processed(self, obj: S3Object, kind: str, report: Report, now: datetime) -> bool:
        """Record that this object version was handled (False if a concurrent delivery did first)."""
        item = {
            "pk": f"UPLOAD#{obj.bucket}/{obj.key}",
            "sk": obj.version,
            "kind": kind,
            "source_key": obj.key,
            "status": report.status,
            "rows": report.rows,
            "stored": report.stored,
            "errors": len(report.errors),
            "processed_at": now.astimezone(UTC).isoformat(),
        }
        try:
            dynamo.ddb().put_item(
                TableName=self.table,
                Item=dynamo.item(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if dynamo.is_condition_failure(exc):
                return False
            raise
        return True

    # -- staging and publication of a results file --

    def stage(self, file_id: str, obj: S3Object, now: datetime) -> tuple[str, str]:
        """Create the file's publication item (``staged``) or find it again: a retry of the same
        object version gets the same ``staged_at``, hence the same result keys. Returns
        (staged_at, status). While staged the item is in the GSI1 partition ``STAGED_FILES``
        (where ``staged_files`` finds leftovers); publishing takes it out in the same write."""
        key = dynamo.item({"pk": publication_pk(file_id), "sk": PUBLICATION_SK})
        try:
            attrs = dynamo.ddb().update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression=(
                    "SET staged_at = if_not_exists(staged_at, :now), #s = :staged, gsi1pk = :staged_files, "
                    "gsi1sk = if_not_exists(staged_at, :now), source_key = :key, source_bucket = :bucket, "
                    "object_version = :version, version_id = :version_id, etag = :etag"
                ),
                ConditionExpression="attribute_not_exists(pk) OR #s = :staged",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=dynamo.values(
                    {
                        ":now": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        ":staged": "staged",
                        ":staged_files": STAGED_FILES,
                        ":key": obj.key,
                        ":bucket": obj.bucket,
                        ":version": obj.version,
                        ":version_id": obj.version_id or "",
                        ":etag": obj.etag,
                    }
                ),
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as exc:
            if not dynamo.is_condition_failure(exc):
                raise
            # Published already (a retry after the publishing write) or discarded.
            attrs = dynamo.ddb().get_item(TableName=self.table, Key=key, ConsistentRead=True)["Item"]
        record = dynamo.plain(attrs) or {}
        return str(record["staged_at"]), str(record["status"])

    def publish(self, file_id: str, stored: int, now: datetime) -> None:
        """The one write that makes every staged row of the file visible at once: conditional on
        the file being staged (never a discarded one); publishing again (a retry) changes
        nothing readers see."""
        dynamo.ddb().update_item(
            TableName=self.table,
            Key=dynamo.item({"pk": publication_pk(file_id), "sk": PUBLICATION_SK}),
            UpdateExpression=(
                "SET #s = :published, published_at = if_not_exists(published_at, :now), #n = :n REMOVE gsi1pk, gsi1sk"
            ),
            ConditionExpression="#s IN (:staged, :published)",
            ExpressionAttributeNames={"#s": "status", "#n": "stored"},
            ExpressionAttributeValues=dynamo.values(
                {":published": "published", ":staged": "staged", ":now": instant(now), ":n": stored}
            ),
        )

    def staged_files(self, source_key: str) -> list[dict[str, Any]]:
        """Publication items of this key's object versions staged but never published (or being
        discarded): GSI1 partition ``STAGED_FILES``, which holds only failed files."""
        return list(
            dynamo.query_all(
                TableName=self.table,
                IndexName=GSI1,
                KeyConditionExpression="gsi1pk = :p",
                FilterExpression="source_key = :key",
                ExpressionAttributeValues=dynamo.values({":p": STAGED_FILES, ":key": source_key}),
            )
        )

    def discard(self, file_id: str, *, done: bool) -> bool:
        """Mark a staged file ``discarding`` (it can never be published from then on), or, once
        its rows are deleted (``done``), ``discarded`` and out of ``STAGED_FILES``. False if it
        was published meanwhile (then it is not touched)."""
        expression = "SET #s = :discarded REMOVE gsi1pk, gsi1sk" if done else "SET #s = :discarding"
        try:
            dynamo.ddb().update_item(
                TableName=self.table,
                Key=dynamo.item({"pk": publication_pk(file_id), "sk": PUBLICATION_SK}),
                UpdateExpression=expression,
                ConditionExpression="#s IN (:staged, :discarding)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=dynamo.values(
                    {":staged": "staged", ":discarding": "discarding", ":discarded": "discarded"}
                    if done
                    else {":staged": "staged", ":discarding": "discarding"}
                ),
            )
        except ClientError as exc:
            if dynamo.is_condition_failure(exc):
                return False
            raise
        return True

    # -- batched reads --

    def entry_fields(
        self,
        id_numbers: Iterable[str],
        fields: tuple[str, ...],
        published: dict[str, bool] | None = None,
        *,
        parallel: bool = False,
    ) -> dict[str, dict[str, Any]]:
        """Some attributes of the entries in effect of these ID Numbers (upper-case), by ID
        Number; IDs without an entry in effect are absent. One strongly consistent BatchGetItem
        per 100 keys, asking for ``fields`` and the entry's versions (staged entries files), and
        one for the publication of those files not known yet (``published``: a cache the caller
        keeps across calls, file id -> published); ``parallel``: several BatchGetItems at once
        (``dynamo.batch_get``)."""
        wanted = ("pk", "id_number", *(f for f in fields if f != "id_number"), VERSIONS)
        records = self.entry_records(id_numbers, wanted, parallel=parallel)
        known: dict[str, bool] = {} if published is None else published
        unknown = set().union(*map(entry_files, records)) - known.keys()
        if unknown:
            live = CandidateRepository(self.table).published(unknown)
            known.update((f, f in live) for f in unknown)
        out: dict[str, dict[str, Any]] = {}
        for record in records:
            fields_in_effect = effective_fields(record, (f for f, yes in known.items() if yes))
            if fields_in_effect is not None:
                out[str(record["pk"]).removeprefix("CANDIDATE#")] = dict(fields_in_effect)
        return out

    def entry_records(
        self, id_numbers: Iterable[str], fields: tuple[str, ...], *, parallel: bool = False
    ) -> list[dict[str, Any]]:
        """The entry items of these ID Numbers as stored (``fields`` of them, versions
        unresolved): one strongly consistent BatchGetItem per 100 keys."""
        keys = ({"pk": candidate_pk(i), "sk": ENTRY_SK} for i in sorted(set(id_numbers)))
        return dynamo.batch_get(self.table, keys, fields=fields, parallel=parallel)[0]

    # -- writes --

    def stage_entries(self, entries: Iterable[tuple[Entry, bool]], version: str) -> int:
        """Write each entry as ``version`` in its item's ``versions`` map, where no reader takes
        it until the file is published (``candidates.effective_entry``). ``bool``: the item has
        a ``versions`` map already (as read just before): the version is added to it, else the
        map is created; each update is conditional on that, so a map another file created
        meanwhile is never overwritten (the transaction fails and the event is retried). One
        TransactWriteItems per 100 entries; a retry writes the same versions again. Returns
        the calls made."""
        calls = 0
        for chunk in batched(entries, MAX_TRANSACTION_ITEMS, strict=False):
            operations = []
            for entry, has_versions in chunk:
                fields = entry.model_dump(mode="json")
                update: dict[str, Any] = {
                    "TableName": self.table,
                    "Key": dynamo.item({"pk": candidate_pk(entry.id_number), "sk": ENTRY_SK}),
                    "ExpressionAttributeNames": {"#m": VERSIONS},
                }
                if has_versions:
                    update["UpdateExpression"] = "SET #m.#v = :e"
                    update["ConditionExpression"] = "attribute_exists(#m)"
                    update["ExpressionAttributeNames"]["#v"] = version
                    update["ExpressionAttributeValues"] = dynamo.values({":e": fields})
                else:
                    update["UpdateExpression"] = "SET #m = :m"
                    update["ConditionExpression"] = "attribute_not_exists(#m)"
                    update["ExpressionAttributeValues"] = dynamo.values({":m": {version: fields}})
                operations.append({"Update": update})
            dynamo.transact(operations)
            calls += 1
        return calls

    def publish_entries(self, file_id: str, stored: int, now: datetime, sessions: list[dict[str, Any]]) -> None:
        """The one write that puts a staged entries file in effect: its publication item turns
        ``published`` in one TransactWriteItems with the session puts it makes (``put_session_op``,
        each conditional), so its sessions and entries take effect together. Raises
        ``SessionChanged`` if a session changed since it was read (the caller validates again)."""
        publish = {
            "Update": {
                "TableName": self.table,
                "Key": dynamo.item({"pk": publication_pk(file_id), "sk": PUBLICATION_SK}),
                "UpdateExpression": (
                    "SET #s = :published, published_at = if_not_exists(published_at, :now), #n = :n "
                    "REMOVE gsi1pk, gsi1sk"
                ),
                "ConditionExpression": "#s IN (:staged, :published)",
                "ExpressionAttributeNames": {"#s": "status", "#n": "stored"},
                "ExpressionAttributeValues": dynamo.values(
                    {":published": "published", ":staged": "staged", ":now": instant(now), ":n": stored}
                ),
            }
        }
        if len(sessions) >= MAX_TRANSACTION_ITEMS:
            raise ValueError(f"at most {MAX_TRANSACTION_ITEMS - 1} sessions with a publication")
        try:
            dynamo.transact([*sessions, publish])
        except ClientError as exc:
            if "ConditionalCheckFailed" in dynamo.cancellation_reasons(exc)[:-1]:
                raise SessionChanged(file_id) from exc
            raise

    @staticmethod
    def entry_item(entry: Entry) -> dict[str, Any]:
        """The entry item, as ``CandidateRepository.put_entry`` writes it (for batch writes)."""
        return {"pk": candidate_pk(entry.id_number), "sk": ENTRY_SK, **entry.model_dump(mode="json")}

    def put_session_op(self, exams: ExamRepository, session: ExamSession, *, new: bool) -> dict[str, Any]:
        """``put_session``'s conditional put, as a transaction's action."""
        kwargs = self._session_put(exams, session, new=new)
        return {"Put": kwargs}

    def _session_put(self, exams: ExamRepository, session: ExamSession, *, new: bool) -> dict[str, Any]:
        if new:
            condition = "attribute_not_exists(pk)"
            values: dict[str, Any] | None = None
        elif session.release_at is None:
            condition = "#s = :open AND attribute_not_exists(release_at)"
            values = dynamo.values({":open": "open"})
        else:
            condition = "#s = :open AND release_at = :release_at"
            values = dynamo.values({":open": "open", ":release_at": instant(session.release_at)})
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Item": dynamo.item(exams.session_item(session)),
            "ConditionExpression": condition,
        }
        if values is not None:
            kwargs["ExpressionAttributeNames"] = {"#s": "status"}
            kwargs["ExpressionAttributeValues"] = values
        return kwargs

    def put_session(self, exams: ExamRepository, session: ExamSession, *, new: bool) -> bool:
        """Create the session (``new``) or rewrite it while it is still open.

        Conditional, so that a session the schedule released in the meantime is never put back
        to ``open``, two files creating one session cannot both think they created it, and a
        release time a releases/ file set in the meantime is not put back either.
        Returns False when the condition failed (the caller re-validates).
        """
        kwargs = self._session_put(exams, session, new=new)
        try:
            dynamo.ddb().put_item(**kwargs)
        except ClientError as exc:
            if dynamo.is_condition_failure(exc):
                return False
            raise
        return True
