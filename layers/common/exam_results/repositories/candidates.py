"""Entries and accounts in the data table.

Keys (one partition per candidate, so an entry and its account come back in one query):
  entry    pk=CANDIDATE#<ID>  sk=ENTRY   versions={<staged_at>#<file id>: the entry as that
           entries file has it} (staged: in effect once the file's PUBLICATION item is
           published); the entry's own attributes at the top: stored before entries were staged
  account  pk=CANDIDATE#<ID>  sk=ACCOUNT
  result   pk=CANDIDATE#<ID>  sk=RESULT#<session_id>
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from exam_results.errors import AlreadyRegistered, DomainError, InvalidToken, Unauthorized
from exam_results.models import Account, Entry
from exam_results.repositories import dynamo


def candidate_pk(id_number: str) -> str:
    return f"CANDIDATE#{id_number}"


ENTRY_SK = "ENTRY"
ACCOUNT_SK = "ACCOUNT"
VERSIONS = "versions"
"""The entry item's map of versions, one per entries file: ``<staged_at>#<file id>`` -> entry."""


def _file_of(version: str) -> str:
    return version.rsplit("#", 1)[-1]


def entry_files(record: Mapping[str, Any] | None) -> set[str]:
    """The entries files (ids) that staged a version of this entry item: which publication
    items a reader asks about, in a read it makes anyway where it can."""
    return {_file_of(v) for v in (record or {}).get(VERSIONS) or {}}


def entry_sessions(record: Mapping[str, Any] | None) -> set[str]:
    """The sessions of every version of this entry item (the one in effect is among them)."""
    record = record or {}
    found = {str(v["session_id"]) for v in (record.get(VERSIONS) or {}).values()}
    if "session_id" in record:
        found.add(str(record["session_id"]))
    return found


def effective_fields(record: Mapping[str, Any] | None, published: Iterable[str]) -> Mapping[str, Any] | None:
    """The attributes of the entry in effect of an entry item: the latest version (by
    ``staged_at``) whose file is published; else the item's own attributes (an entry stored
    before staging); else none (only unpublished versions: a file still being imported, or one
    that failed). The one rule every reader of an entry applies (docs/files.md "Entries under
    faults"); the item may be projected (then so is the answer)."""
    if record is None:
        return None
    files = set(published)
    versions = record.get(VERSIONS) or {}
    live = [v for v in versions if _file_of(v) in files]
    if live:
        return versions[max(live)]  # type: ignore[no-any-return]
    return record if "id_number" in record else None


def effective_entry(record: Mapping[str, Any] | None, published: Iterable[str]) -> Entry | None:
    """The entry in effect of a whole entry item (``effective_fields``)."""
    fields = effective_fields(record, published)
    return None if fields is None else Entry.model_validate(fields)


def _of_generation(generation: str | None) -> tuple[str, dict[str, Any]]:
    """Condition: the account exists and is still of this credential generation (None: an
    account stored before generations, that has not changed since)."""
    if generation is None:
        return "attribute_exists(pk) AND attribute_not_exists(generation)", {}
    return "generation = :gen", {":gen": generation}


class Partition(NamedTuple):
    """Everything stored under one ID Number, read in one query: the entry item (its versions
    resolved with ``effective_entry`` once the caller knows which files are published), the
    account, and every item (results and markers included) for readers that need more."""

    entry_record: dict[str, Any] | None
    account: Account | None
    records: list[dict[str, Any]]


class CandidateRepository:
    def __init__(self, table: str) -> None:
        self.table = table

    def _key(self, id_number: str, sk: str) -> dict[str, Any]:
        return dynamo.item({"pk": candidate_pk(id_number), "sk": sk})

    def published(self, file_ids: Iterable[str]) -> set[str]:
        """Which of these files are published (one strongly consistent BatchGetItem per 100;
        no call for none)."""
        from exam_results.repositories.exams import PUBLICATION_SK, publication_pk  # exams imports this module

        keys = [{"pk": publication_pk(f), "sk": PUBLICATION_SK} for f in sorted(set(file_ids))]
        if not keys:
            return set()
        records, _ = dynamo.batch_get(self.table, keys, fields=("pk", "status"))
        return {str(r["pk"]).removeprefix("PUBLICATION#") for r in records if r.get("status") == "published"}

    def _resolved(self, record: dict[str, Any] | None) -> Entry | None:
        """The entry in effect of an item read alone (a cold path: one more call if it has versions)."""
        return effective_entry(record, self.published(entry_files(record)))

    def entry_and_account(self, id_number: str) -> tuple[Entry | None, Account | None]:
        """The entry in effect and the account of an ID Number: one strongly consistent query,
        and the publication of the entry's versions (one more read when it has any)."""
        page = dynamo.ddb().query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :e",
            ExpressionAttributeValues=dynamo.values({":pk": candidate_pk(id_number), ":a": ACCOUNT_SK, ":e": ENTRY_SK}),
            ConsistentRead=True,
        )
        entry: dict[str, Any] | None = None
        account: Account | None = None
        for raw in page.get("Items", []):
            record = dynamo.plain(raw) or {}
            if record["sk"] == ENTRY_SK:
                entry = record
            elif record["sk"] == ACCOUNT_SK:
                account = Account.model_validate(record)
        return self._resolved(entry), account

    def partition(self, id_number: str) -> Partition:
        """The candidate's whole partition in one strongly consistent query (a few items: the
        entry, the account, its results and markers): the one read of the hot paths that need
        the entry with the account or with the results (docs/performance.md)."""
        records = list(
            dynamo.query_all(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=dynamo.values({":pk": candidate_pk(id_number)}),
                ConsistentRead=True,
            )
        )
        entry = next((r for r in records if r["sk"] == ENTRY_SK), None)
        account = next((Account.model_validate(r) for r in records if r["sk"] == ACCOUNT_SK), None)
        return Partition(entry_record=entry, account=account, records=records)

    def get_account(self, id_number: str) -> Account | None:
        raw = (
            dynamo.ddb()
            .get_item(TableName=self.table, Key=self._key(id_number, ACCOUNT_SK), ConsistentRead=True)
            .get("Item")
        )
        record = dynamo.plain(raw)
        return Account.model_validate(record) if record else None

    def get_entry(self, id_number: str) -> Entry | None:
        raw = (
            dynamo.ddb()
            .get_item(TableName=self.table, Key=self._key(id_number, ENTRY_SK), ConsistentRead=True)
            .get("Item")
        )
        return self._resolved(dynamo.plain(raw))

    def put_entry(self, entry: Entry) -> None:
        dynamo.ddb().put_item(
            TableName=self.table,
            Item=dynamo.item({"pk": candidate_pk(entry.id_number), "sk": ENTRY_SK, **entry.model_dump(mode="json")}),
        )

    # -- transactional operations (combined with token writes by the use cases) --

    def create_account_op(self, account: Account) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table,
                "Item": dynamo.item(
                    {
                        "pk": candidate_pk(account.id_number),
                        "sk": ACCOUNT_SK,
                        **account.model_dump(mode="json"),
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def create_account(self, account: Account, *others: dict[str, Any], spare: dict[str, Any] | None = None) -> None:
        """Create the account (and anything written with it) only if none exists for the ID.

        ``spare``: a write that goes in the same transaction if its own condition holds, and is
        dropped (the rest written again without it) if that condition alone failed."""
        spares = [spare] if spare is not None else []
        try:
            dynamo.transact([self.create_account_op(account), *others, *spares])
        except ClientError as exc:
            if dynamo.error_code(exc) != "TransactionCanceledException":
                raise
            reasons = dynamo.cancellation_reasons(exc)
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise AlreadyRegistered() from exc
            if not spares or reasons[-1] != "ConditionalCheckFailed" or set(reasons[:-1]) != {"None"}:
                raise
            self.create_account(account, *others)

    # -- account changes written with token writes, in one transaction; a cancelled transaction
    # (a condition failed: the token used meanwhile, the account erased or of another
    # generation) is the use case's domain error --

    @staticmethod
    def _change(operations: list[dict[str, Any]], error: DomainError) -> None:
        try:
            dynamo.transact(operations)
        except ClientError as exc:
            if dynamo.error_code(exc) == "TransactionCanceledException":
                raise error from exc
            raise

    def confirm_email(self, id_number: str, generation: str | None, now: datetime, consume: dict[str, Any]) -> None:
        """Use the confirmation token (``consume``) and confirm the email; InvalidToken if either
        condition fails."""
        self._change([consume, self.confirm_email_op(id_number, generation, now)], InvalidToken())

    def reset_password(
        self,
        id_number: str,
        generation: str | None,
        new_generation: str,
        password_hash: str,
        now: datetime,
        *token_ops: dict[str, Any],
    ) -> None:
        """A reset: the token used (with what else ``token_ops`` write) and the new password and
        generation; InvalidToken if anything changed since the link was issued."""
        op = self.set_password_op(id_number, generation, new_generation, password_hash, now)
        self._change([token_ops[0], op, *token_ops[1:]], InvalidToken())

    def change_password(
        self,
        id_number: str,
        generation: str | None,
        new_generation: str,
        password_hash: str,
        now: datetime,
        carry_session: dict[str, Any],
    ) -> None:
        """A change by a logged-in candidate, carrying its session to the new generation;
        Unauthorized if the credentials changed meanwhile or the session ended."""
        op = self.set_password_op(id_number, generation, new_generation, password_hash, now)
        self._change([op, carry_session], Unauthorized())

    def change_email(
        self, id_number: str, generation: str | None, new_generation: str, email: str, consume: dict[str, Any]
    ) -> None:
        """The link used (``consume``) and the new address and generation; InvalidToken if either
        condition fails."""
        self._change([consume, self.set_email_op(id_number, generation, new_generation, email)], InvalidToken())

    def confirm_email_op(self, id_number: str, generation: str | None, now: datetime) -> dict[str, Any]:
        """Confirm the email of the account the token was issued for (not of a later one)."""
        condition, values = _of_generation(generation)
        return {
            "Update": {
                "TableName": self.table,
                "Key": self._key(id_number, ACCOUNT_SK),
                "UpdateExpression": "SET email_confirmed_at = if_not_exists(email_confirmed_at, :now)",
                "ConditionExpression": condition,
                "ExpressionAttributeValues": dynamo.values({":now": now.isoformat(), **values}),
            }
        }

    def set_password_op(
        self, id_number: str, generation: str | None, new_generation: str, password_hash: str, now: datetime
    ) -> dict[str, Any]:
        """New password and generation, only on the generation the token was issued for; the
        email counts as confirmed. Every session and token issued before it is void."""
        condition, values = _of_generation(generation)
        return {
            "Update": {
                "TableName": self.table,
                "Key": self._key(id_number, ACCOUNT_SK),
                "UpdateExpression": (
                    "SET password_hash = :h, generation = :new, "
                    "email_confirmed_at = if_not_exists(email_confirmed_at, :now) "
                    "REMOVE sessions_valid_after"  # what ended sessions before generations
                ),
                "ConditionExpression": condition,
                "ExpressionAttributeValues": dynamo.values(
                    {":h": password_hash, ":new": new_generation, ":now": now.isoformat(), **values}
                ),
            }
        }

    def set_email_op(self, id_number: str, generation: str | None, new_generation: str, email: str) -> dict[str, Any]:
        """A new email address and generation, only on the generation the link was issued for:
        every session and token issued before it (those mailed to the old address) is void."""
        condition, values = _of_generation(generation)
        return {
            "Update": {
                "TableName": self.table,
                "Key": self._key(id_number, ACCOUNT_SK),
                "UpdateExpression": "SET email = :email, generation = :new REMOVE sessions_valid_after",
                "ConditionExpression": condition,
                "ExpressionAttributeValues": dynamo.values({":email": email, ":new": new_generation, **values}),
            }
        }

    def update_password_hash(self, id_number: str, old_hash: str, new_hash: str) -> None:
        """Upgrade a hash made with older parameters (only if the password did not change)."""
        try:
            dynamo.ddb().update_item(
                TableName=self.table,
                Key=self._key(id_number, ACCOUNT_SK),
                UpdateExpression="SET password_hash = :new",
                ConditionExpression="password_hash = :old",
                ExpressionAttributeValues=dynamo.values({":new": new_hash, ":old": old_hash}),
            )
        except ClientError as exc:
            if not dynamo.is_condition_failure(exc):
                raise

    def set_newsletter(self, id_number: str, generation: str | None, opt_in: bool, now: datetime) -> Account | None:
        """Change the opt-in (and when it changed, only if it did); None if the account is gone
        or is no longer of this generation."""
        condition, values = _of_generation(generation)
        try:
            attrs = dynamo.ddb().update_item(
                TableName=self.table,
                Key=self._key(id_number, ACCOUNT_SK),
                UpdateExpression="SET newsletter_opt_in = :v, newsletter_changed_at = :now",
                ConditionExpression=f"{condition} AND newsletter_opt_in <> :v",
                ExpressionAttributeValues=dynamo.values({":v": opt_in, ":now": now.isoformat(), **values}),
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as exc:
            if not dynamo.is_condition_failure(exc):
                raise
            account = self.get_account(id_number)
            return account if account is not None and account.generation == generation else None
        return Account.model_validate(dynamo.plain(attrs))

    def set_language(self, id_number: str, generation: str | None, language: str) -> Account | None:
        """The account's language; None if the account is gone or no longer of this generation."""
        condition, values = _of_generation(generation)
        try:
            attrs = dynamo.ddb().update_item(
                TableName=self.table,
                Key=self._key(id_number, ACCOUNT_SK),
                UpdateExpression="SET #lang = :v",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#lang": "language"},
                ExpressionAttributeValues=dynamo.values({":v": language, **values}),
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as exc:
            if not dynamo.is_condition_failure(exc):
                raise
            return None
        return Account.model_validate(dynamo.plain(attrs))

    def delete_account(self, id_number: str, generation: str | None) -> bool:
        """Delete the account if it is still of this generation (False: gone or changed)."""
        condition, values = _of_generation(generation)
        try:
            dynamo.ddb().delete_item(
                TableName=self.table,
                Key=self._key(id_number, ACCOUNT_SK),
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": dynamo.values(values)} if values else {}),
            )
        except ClientError as exc:
            if dynamo.is_condition_failure(exc):
                return False
            raise
        return True
