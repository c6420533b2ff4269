"""Who gets a "results available" email, and the marker that makes it exactly once.

For one session and a batch of ID Numbers, everything the sender needs comes back in
BatchGetItem calls (100 keys a call, four keys per candidate): the entry (the name), the
account (the address and whether it is confirmed), the result of that session and the marker.

  marker  pk=CANDIDATE#<ID>  sk=NOTIFIED#<session_id>
          status=claimed  claim_token  claim_expires_at (epoch seconds)   before the send
          status=sent     sent_at  message_id                              after it

A sender claims a candidate with a conditional put that succeeds only if there is no marker
(or a claim whose holder died: expired). It holds the claim while it sends and turns it into
``sent`` afterwards; if SES says the email was not sent, it deletes its own claim again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from exam_results.repositories import dynamo
from exam_results.repositories.candidates import ACCOUNT_SK, ENTRY_SK, candidate_pk
from exam_results.repositories.exams import result_sk

_PROJECTED = ("#pk", "#sk", "#candidate_name", "#email", "#email_confirmed_at", "#status", "#claim_expires_at")


def marker_sk(session_id: str) -> str:
    return f"NOTIFIED#{session_id}"


@dataclass(frozen=True)
class Recipient:
    """What the sender knows about one candidate of a batch."""

    id_number: str
    name: str | None = None
    email: str | None = None
    email_confirmed: bool = False
    has_result: bool = False
    marker_status: str | None = None
    claim_expires_at: float | None = None


@dataclass(frozen=True)
class Claim:
    id_number: str
    session_id: str
    token: str


class RecipientRepository:
    def __init__(self, table: str) -> None:
        self.table = table

    def load(self, session_id: str, id_numbers: Sequence[str]) -> tuple[dict[str, Recipient], int]:
        """Entry, account, result and marker of each ID (strongly consistent BatchGetItem).

        Returns the recipients by ID and the number of BatchGetItem calls made.
        """
        ids = list(dict.fromkeys(id_numbers))
        wanted = {
            "ENTRY": ENTRY_SK,
            "ACCOUNT": ACCOUNT_SK,
            "RESULT": result_sk(session_id),
            "MARKER": marker_sk(session_id),
        }
        keys = [{"pk": candidate_pk(i), "sk": sk} for i in ids for sk in wanted.values()]
        found: dict[tuple[str, str], dict[str, Any]] = {}
        calls = 0
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [dynamo.item(k) for k in keys[start : start + 100]],
                    "ConsistentRead": True,
                    "ProjectionExpression": ", ".join(_PROJECTED),
                    "ExpressionAttributeNames": {name: name[1:] for name in _PROJECTED},
                }
            }
            attempt = 0
            while request:
                calls += 1
                page = dynamo.ddb().batch_get_item(RequestItems=request)
                for raw in page.get("Responses", {}).get(self.table, []):
                    record = dynamo.plain(raw) or {}
                    found[(record["pk"], record["sk"])] = record
                request = page.get("UnprocessedKeys") or {}
                if request:
                    attempt += 1
                    _backoff(attempt)
        out: dict[str, Recipient] = {}
        for i in ids:
            pk = candidate_pk(i)
            entry = found.get((pk, wanted["ENTRY"]))
            account = found.get((pk, wanted["ACCOUNT"]))
            marker = found.get((pk, wanted["MARKER"]))
            out[i] = Recipient(
                id_number=i,
                name=(entry or {}).get("candidate_name"),
                email=(account or {}).get("email"),
                email_confirmed=bool((account or {}).get("email_confirmed_at")),
                has_result=(pk, wanted["RESULT"]) in found,
                marker_status=(marker or {}).get("status"),
                claim_expires_at=(marker or {}).get("claim_expires_at"),
            )
        return out, calls

    def claim(self, session_id: str, id_number: str, token: str, now: float, lease_seconds: float) -> bool:
        """Claim the candidate for this send: a conditional put, True if this caller holds it."""
        try:
            dynamo.ddb().put_item(
                TableName=self.table,
                Item=dynamo.item(
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
                ConditionExpression="attribute_not_exists(pk) OR (#st = :claimed AND claim_expires_at < :now)",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues=dynamo.values({":claimed": "claimed", ":now": now}),
            )
        except ClientError as exc:
            if dynamo.is_condition_failure(exc):
                return False
            raise
        return True

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
        requests = [
            {
                "PutRequest": {
                    "Item": dynamo.item(
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
                    )
                }
            }
            for claim, message_id in sent
        ]
        calls = 0
        for start in range(0, len(requests), 25):
            request: dict[str, Any] = {self.table: requests[start : start + 25]}
            attempt = 0
            while request:
                calls += 1
                request = dynamo.ddb().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                if request:
                    attempt += 1
                    _backoff(attempt)
        return calls


def _backoff(attempt: int) -> None:
    import random
    import time

    if attempt > 10:
        raise RuntimeError("DynamoDB kept returning unprocessed items")
    time.sleep(min(2.0, 0.025 * 2**attempt) * random.random())  # noqa: S311
