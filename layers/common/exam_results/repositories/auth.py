"""Short-lived auth records in the auth table, each with a TTL attribute ``expires_at``.

  token          pk=TOKEN#<sha256 of token>  kind, owner_id, generation, created_at, expires_at
                                             [email: the new address of an email_change token]
  attempt count  pk=ATTEMPTS#<scope>#<ID>    attempts, locked_until, expires_at
  send log       pk=SENDS#<scope>#<ID>       sent (instants), version, expires_at

TTL deletes late, so every reader also compares ``expires_at`` with the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from exam_results.models import TokenRecord
from exam_results.repositories import dynamo

OWNER_INDEX = "ByOwner"


class AuthRepository:
    def __init__(self, table: str) -> None:
        self.table = table

    def _key(self, pk: str) -> dict[str, Any]:
        return dynamo.item({"pk": pk})

    # -- tokens --

    @staticmethod
    def _token_pk(token_hash: str) -> str:
        return f"TOKEN#{token_hash}"

    def put_token_op(self, record: TokenRecord) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table,
                "Item": dynamo.item(
                    {
                        "pk": self._token_pk(record.token_hash),
                        "kind": record.kind,
                        "owner_id": record.id_number,
                        "generation": record.generation,
                        "created_at": record.created_at,
                        "expires_at": record.expires_at,
                        **({"email": record.email} if record.email is not None else {}),
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def put_token(self, record: TokenRecord) -> None:
        put = self.put_token_op(record)["Put"]
        dynamo.ddb().put_item(**put)

    def start_session(self, record: TokenRecord, *others: dict[str, Any]) -> None:
        """Store a session token together with ``others`` (a log-in clears its attempts with
        it), in one transaction."""
        dynamo.transact([self.put_token_op(record), *others])

    def get_token(self, token_hash: str) -> TokenRecord | None:
        raw = (
            dynamo.ddb()
            .get_item(TableName=self.table, Key=self._key(self._token_pk(token_hash)), ConsistentRead=True)
            .get("Item")
        )
        record = dynamo.plain(raw)
        if not record:
            return None
        return TokenRecord(
            token_hash=token_hash,
            kind=record["kind"],
            id_number=record["owner_id"],
            generation=record.get("generation"),
            created_at=record["created_at"],
            expires_at=record["expires_at"],
            email=record.get("email"),
        )

    def consume_token_op(self, token_hash: str) -> dict[str, Any]:
        """Delete a token only if it is still there: a used token cannot be used again."""
        return {
            "Delete": {
                "TableName": self.table,
                "Key": self._key(self._token_pk(token_hash)),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }

    def carry_session_op(
        self, token_hash: str, generation: str | None, new_generation: str, now: float
    ) -> dict[str, Any]:
        """Move a live session to the account's new generation (a password change keeps the
        session that made it): only if it is still there, unexpired and of the old generation."""
        of_generation = "attribute_not_exists(generation)" if generation is None else "generation = :gen"
        values: dict[str, Any] = {":new": new_generation, ":now": now, ":session": "session"}
        if generation is not None:
            values[":gen"] = generation
        return {
            "Update": {
                "TableName": self.table,
                "Key": self._key(self._token_pk(token_hash)),
                "UpdateExpression": "SET generation = :new",
                "ConditionExpression": f"#kind = :session AND expires_at > :now AND {of_generation}",
                "ExpressionAttributeNames": {"#kind": "kind"},
                "ExpressionAttributeValues": dynamo.values(values),
            }
        }

    def delete_token(self, token_hash: str) -> None:
        dynamo.ddb().delete_item(TableName=self.table, Key=self._key(self._token_pk(token_hash)))

    def owner_token_keys(self, id_number: str) -> list[str]:
        return [
            r["pk"]
            for r in dynamo.query_all(
                TableName=self.table,
                IndexName=OWNER_INDEX,
                KeyConditionExpression="owner_id = :o",
                ExpressionAttributeValues=dynamo.values({":o": id_number}),
            )
        ]

    def delete_keys(self, pks: Iterable[str]) -> None:
        """Delete these items (each key once), 25 a BatchWriteItem (``dynamo.batch_write``)."""
        dynamo.batch_write(self.table, ({"DeleteRequest": {"Key": self._key(pk)}} for pk in dict.fromkeys(pks)))

    def delete_owner_tokens(self, id_number: str, keep: str | None = None) -> None:
        """Delete the ID's tokens, except the one whose hash is ``keep``."""
        kept = self._token_pk(keep) if keep is not None else None
        self.delete_keys(pk for pk in self.owner_token_keys(id_number) if pk != kept)

    # -- attempt counters (lockouts) --

    @staticmethod
    def attempts_pk(scope: str, id_number: str) -> str:
        return f"ATTEMPTS#{scope}#{id_number}"

    def add_attempt(self, pk: str, now: float, expires_at: int) -> int | None:
        """Count one attempt on a live, unlocked record (or a new one). None: expired or locked."""
        try:
            attrs = dynamo.ddb().update_item(
                TableName=self.table,
                Key=self._key(pk),
                UpdateExpression="SET expires_at = :exp ADD attempts :one",
                ConditionExpression=(
                    "attribute_not_exists(pk) OR "
                    "(expires_at > :now AND (attribute_not_exists(locked_until) OR locked_until <= :now))"
                ),
                ExpressionAttributeValues=dynamo.values({":exp": expires_at, ":one": 1, ":now": now}),
                ReturnValues="UPDATED_NEW",
            )["Attributes"]
        except ClientError as exc:
            if dynamo.is_condition_failure(exc):
                return None
            raise
        return int((dynamo.plain(attrs) or {})["attempts"])

    def get_attempts(self, pk: str) -> dict[str, Any] | None:
        raw = dynamo.ddb().get_item(TableName=self.table, Key=self._key(pk), ConsistentRead=True)
        return dynamo.plain(raw.get("Item"))

    def restart_attempts(self, pk: str, old_expires_at: int | None, expires_at: int) -> bool:
        """Replace an expired record by a fresh one holding one attempt (False: lost a race)."""
        condition = "attribute_not_exists(pk)" if old_expires_at is None else "expires_at = :old"
        names = {":old": old_expires_at} if old_expires_at is not None else {}
        try:
            dynamo.ddb().put_item(
                TableName=self.table,
                Item=dynamo.item({"pk": pk, "attempts": 1, "expires_at": expires_at}),
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": dynamo.values(names)} if names else {}),
            )
        except ClientError as exc:
            if dynamo.is_condition_failure(exc):
                return False
            raise
        return True

    def lock(self, pk: str, until: int) -> None:
        dynamo.ddb().update_item(
            TableName=self.table,
            Key=self._key(pk),
            UpdateExpression="SET locked_until = :u, expires_at = :u",
            ExpressionAttributeValues=dynamo.values({":u": until}),
        )

    def extend_attempts(self, pk: str, expires_at: int) -> None:
        """The record lives ``expires_at`` (a failure's window); never touches a locked record."""
        try:
            dynamo.ddb().update_item(
                TableName=self.table,
                Key=self._key(pk),
                UpdateExpression="SET expires_at = :exp",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(locked_until)",
                ExpressionAttributeValues=dynamo.values({":exp": expires_at}),
            )
        except ClientError as exc:
            if not dynamo.is_condition_failure(exc):
                raise

    def undo_attempt_op(self, pk: str) -> dict[str, Any]:
        """Take one attempt back, if any is counted (the record may have expired and restarted)."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": self._key(pk),
                "UpdateExpression": "ADD attempts :minus",
                "ConditionExpression": "attempts > :zero",
                "ExpressionAttributeValues": dynamo.values({":minus": -1, ":zero": 0}),
            }
        }

    def undo_attempt(self, pk: str) -> None:
        try:
            dynamo.ddb().update_item(**self.undo_attempt_op(pk)["Update"])
        except ClientError as exc:
            if not dynamo.is_condition_failure(exc):
                raise

    def clear_op(self, pk: str) -> dict[str, Any]:
        return {"Delete": {"TableName": self.table, "Key": self._key(pk)}}

    def clear(self, pk: str) -> None:
        dynamo.ddb().delete_item(TableName=self.table, Key=self._key(pk))

    # -- send logs (emails per ID per hour) --

    @staticmethod
    def sends_pk(scope: str, id_number: str) -> str:
        return f"SENDS#{scope}#{id_number}"

    def get_sends(self, pk: str) -> tuple[list[float], int]:
        record = self.get_attempts(pk) or {}
        return [float(t) for t in record.get("sent", [])], int(record.get("version", 0))

    def put_sends(self, pk: str, sent: list[float], version: int, expires_at: int) -> bool:
        """Write the send log if nobody else changed it since it was read (False: lost a race)."""
        condition = "attribute_not_exists(pk) OR version = :v"
        try:
            dynamo.ddb().put_item(
                TableName=self.table,
                Item=dynamo.item({"pk": pk, "sent": sent, "version": version + 1, "expires_at": expires_at}),
                ConditionExpression=condition,
                ExpressionAttributeValues=dynamo.values({":v": version}),
            )
        except ClientError as exc:
            if dynamo.is_condition_failure(exc):
                return False
            raise
        return True
