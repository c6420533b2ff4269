"""Who gets a "results available" email, and the marker that makes it exactly once.

For one session and a batch of ID Numbers, everything the sender needs comes back in
BatchGetItem calls (100 keys a call, four keys per candidate): the entry (the name), the
account (the address, whether it is confirmed, its language), the result of that session and the marker.

  marker  pk=CANDIDATE#<ID>  sk=NOTIFIED#<session_id>
          status=claimed  claim_token  claim_expires_at (epoch seconds)   before the send
          status=sent     sent_at  message_id                              after it

A sender claims its candidates with conditional puts, all of a message's in one
``TransactWriteItems``; each succeeds only if there is no marker (or a claim whose holder died:
expired). It holds the claim while it sends and turns it into
``sent`` afterwards; if SES says the email was not sent, it deletes its own claim again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from exam_results.repositories import dynamo
from exam_results.repositories.candidates import (
    ACCOUNT_SK,
    ENTRY_SK,
    VERSIONS,
    candidate_pk,
    effective_fields,
    entry_files,
)
from exam_results.repositories.exams import result_sk

# What the sender reads of each item (BatchGetItem allows one projection per table and call, so
# the two calls of a batch project different attributes).
# entry (its name, and its versions of staged entries files), account
_PROFILE = ("pk", "sk", "id_number", "candidate_name", VERSIONS, "email", "email_confirmed_at", "language")
_STATE = ("pk", "sk", "status", "claim_expires_at")  # result (its key is enough), marker
_IDS_PER_READ = 50
"""IDs per pair of BatchGetItem calls: 2 keys a call per ID, 100 keys a call at most."""
MAX_CLAIMS = 100
"""TransactWriteItems takes at most 100 actions: one conditional put per candidate."""
_CLAIM_CONDITION = "attribute_not_exists(pk) OR (#st = :claimed AND claim_expires_at < :now)"
_CLAIM_RETRIES = 5
"""Transactions cancelled only by conflicts or throttling, retried with back-off before raising."""


def marker_sk(session_id: str) -> str:
    return f"NOTIFIED#{session_id}"


class Recipient(NamedTuple):
    """What the sender knows about one candidate of a batch."""

    id_number: str
    name: str | None = None
    email: str | None = None
    email_confirmed: bool = False
    has_result: bool = False
    marker_status: str | None = None
    claim_expires_at: float | None = None
    language: str = "en"
    """The account's: the language of its email."""


class Claim(NamedTuple):
    id_number: str
    session_id: str
    token: str


class RecipientRepository:
    def __init__(self, table: str) -> None:
        self.table = table

    def load(
        self, session_id: str, id_numbers: Sequence[str], versions: Mapping[str, str | None] | None = None
    ) -> tuple[dict[str, Recipient], int]:
        """Entry, account, result and marker of each ID (strongly consistent BatchGetItem).

        Two calls per 50 IDs: entry and account (name, address), then result and marker (only
        their keys and the marker's state); and the publication of the entries files whose
        versions the entries hold, once per file (``CandidateRepository.published``). The result
        read is the version each ID was queued with (``versions``; its file was published then,
        and publication is never undone), or the plain key of a result stored before staging.
        Returns the recipients by ID and the calls made.
        """
        ids = list(dict.fromkeys(id_numbers))
        versions = versions or {}
        marker = marker_sk(session_id)
        found: dict[tuple[str, str], dict[str, Any]] = {}
        calls = 0
        for start in range(0, len(ids), _IDS_PER_READ):
            chunk = [candidate_pk(i) for i in ids[start : start + _IDS_PER_READ]]
            calls += self._read([(pk, sk) for pk in chunk for sk in (ENTRY_SK, ACCOUNT_SK)], _PROFILE, found)
            states = [
                (candidate_pk(i), sk)
                for i in ids[start : start + _IDS_PER_READ]
                for sk in (result_sk(session_id, versions.get(i)), marker)
            ]
            calls += self._read(states, _STATE, found)
        files: dict[str, bool] = {}  # entries file id -> published
        out: dict[str, Recipient] = {}
        for i in ids:
            pk = candidate_pk(i)
            result = result_sk(session_id, versions.get(i))
            entry_record = found.get((pk, ENTRY_SK))
            unknown = entry_files(entry_record) - files.keys()
            if unknown:
                published = self.published(unknown)
                calls += -(-len(unknown) // 100)
                files.update((f, f in published) for f in unknown)
            entry = effective_fields(entry_record, (f for f, yes in files.items() if yes)) or {}
            account = found.get((pk, ACCOUNT_SK)) or {}
            state = found.get((pk, marker)) or {}
            out[i] = Recipient(
                id_number=i,
                name=entry.get("candidate_name"),
                email=account.get("email"),
                email_confirmed=bool(account.get("email_confirmed_at")),
                has_result=(pk, result) in found,
                marker_status=state.get("status"),
                claim_expires_at=state.get("claim_expires_at"),
                language=str(account.get("language") or "en"),
            )
        return out, calls

    def published(self, file_ids: Iterable[str]) -> set[str]:
        """Which of these entries files are published (one BatchGetItem per 100)."""
        from exam_results.repositories.candidates import CandidateRepository

        return CandidateRepository(self.table).published(file_ids)

    def _read(
        self, keys: list[tuple[str, str]], projected: tuple[str, ...], found: dict[tuple[str, str], dict[str, Any]]
    ) -> int:
        """The items of ≤ 100 keys, ``projected`` attributes only (``dynamo.batch_get``); returns
        the calls made."""
        records, calls = dynamo.batch_get(self.table, ({"pk": pk, "sk": sk} for pk, sk in keys), fields=projected)
        for record in records:
            found[(record["pk"], record["sk"])] = record
        return calls

    def claim(
        self, session_id: str, id_numbers: Sequence[str], token: str, now: float, lease_seconds: float
    ) -> tuple[set[str], int]:
        """Claim candidates for this send in one ``TransactWriteItems`` of conditional puts.

        Each put succeeds only if the candidate has no marker, or a claim whose lease has ended.
        A transaction is all or nothing: when it is cancelled, ``CancellationReasons`` (one per
        put, in order) say which candidates failed their condition — someone else holds or sent
        them — and the transaction is retried without them; cancellations for other reasons
        (``TransactionConflict`` with a concurrent writer, throttling) are retried with back-off,
        at most ``_CLAIM_RETRIES`` times. Each retry either drops a candidate or counts against
        that bound, so the loop ends.

        Returns the IDs this caller now holds (with ``token``) and the calls made.
        """
        pending = list(dict.fromkeys(id_numbers))
        if len(pending) > MAX_CLAIMS:
            raise ValueError(f"at most {MAX_CLAIMS} claims a call")
        calls = retries = 0
        while pending:
            calls += 1
            try:
                dynamo.ddb().transact_write_items(
                    TransactItems=[self._claim_op(session_id, i, token, now, lease_seconds) for i in pending]
                )
            except ClientError as exc:
                reasons = dynamo.cancellation_reasons(exc)
                if dynamo.error_code(exc) != "TransactionCanceledException" or len(reasons) != len(pending):
                    raise
                taken = {i for i, code in zip(pending, reasons, strict=True) if code == "ConditionalCheckFailed"}
                if taken:
                    pending = [i for i in pending if i not in taken]
                    continue
                retries += 1
                if retries > _CLAIM_RETRIES:
                    raise
                _backoff(retries)
                continue
            return set(pending), calls
        return set(), calls

    def _claim_op(
        self, session_id: str, id_number: str, token: str, now: float, lease_seconds: float
    ) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table,
                "Item": dynamo.item(
                    {
                        "pk": candidate_pk(id_number),
                        "sk": marker_sk(session_id),
                        "id_number": id_number,
                        "session_id": session_id,
                        "status": "claimed",
                        "claim_token": token,
                        "claimed_at": now,
                        "claim_expires_at": now + lease_seconds,
                    }
                ),
                "ConditionExpression": _CLAIM_CONDITION,
                "ExpressionAttributeNames": {"#st": "status"},
                "ExpressionAttributeValues": dynamo.values({":claimed": "claimed", ":now": now}),
            }
        }

    def unclaim(self, claim: Claim) -> None:
        """Give a claim back (the email was not sent): only our own, only while still a claim."""
        try:
            dynamo.ddb().delete_item(
                TableName=self.table,
                Key=dynamo.item({"pk": candidate_pk(claim.id_number), "sk": marker_sk(claim.session_id)}),
                ConditionExpression="claim_token = :t AND #st = :claimed",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues=dynamo.values({":t": claim.token, ":claimed": "claimed"}),
            )
        except ClientError as exc:
            if not dynamo.is_condition_failure(exc):
                raise

    def mark_sent(self, sent: Iterable[tuple[Claim, str]], now: float) -> int:
        """Turn claims into ``sent`` markers (BatchWriteItem, 25 a call). Returns the calls made.

        Unconditional puts are safe here: the caller holds each claim, and a claim outlives the
        longest an invocation can run.
        """
        markers = (
            {
                "pk": candidate_pk(claim.id_number),
                "sk": marker_sk(claim.session_id),
                "id_number": claim.id_number,
                "session_id": claim.session_id,
                "status": "sent",
                "claim_token": claim.token,
                "sent_at": now,
                "message_id": message_id,
            }
            for claim, message_id in sent
        )
        return dynamo.batch_write(self.table, dynamo.put_requests(markers))


def _backoff(attempt: int) -> None:
    import random
    import time

    time.sleep(min(2.0, 0.025 * 2**attempt) * random.random())  # noqa: S311
