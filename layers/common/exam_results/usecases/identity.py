"""Who is asking: session tokens and Secret Numbers, shared by the account use cases and the
results function (which authenticates candidates and verifies Secret Numbers, and imports
nothing else of the accounts).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from exam_results import tokens
from exam_results.errors import Unauthorized
from exam_results.models import Account, Entry, ExamSession, TokenKind, TokenRecord
from exam_results.repositories.candidates import Partition, effective_entry, entry_files, entry_sessions
from exam_results.repositories.exams import result_files
from exam_results.wiring import Deps

if TYPE_CHECKING:
    from exam_results.lockout import Reservation


def utc_now() -> datetime:
    return datetime.fromtimestamp(time.time(), tz=UTC)


def issue_token(kind: TokenKind, account: Account, ttl: int) -> tuple[str, TokenRecord]:
    """A new token for the account as it was read: it carries the account's generation."""
    token = tokens.new_token()
    now = time.time()
    return token, TokenRecord(
        token_hash=tokens.token_hash(token),
        kind=kind,
        id_number=account.id_number,
        generation=account.generation,
        created_at=now,
        expires_at=math.ceil(now) + ttl,
    )


def live_token(deps: Deps, token: str, kind: TokenKind) -> TokenRecord | None:
    """The stored token if it exists, is of this kind and has not expired (TTL deletes late)."""
    if not tokens.well_formed(token):
        return None
    record = deps.auth.get_token(tokens.token_hash(token))
    if record is None or record.kind != kind or not record.live(time.time()):
        return None
    return record


NO_SESSION = "-"
"""No session has this id: what a read of no session asks for, so that it is still one call."""


class CheckedSecret(NamedTuple):
    """The entry if the secret matched (else None), and the candidate's partition as read for
    the check (the account and the results come with the entry: no second read). ``held``: the
    attempt of a right secret, when the caller gives it back itself (``hold``). ``sessions`` and
    ``published``: the sessions of the entry's versions and which of the partition's entries
    and results files are published, read together before the check."""

    entry: Entry | None
    partition: Partition
    held: Reservation | None = None
    sessions: Mapping[str, ExamSession] = MappingProxyType({})
    published: frozenset[str] = frozenset()


def verify_secret_number(deps: Deps, id_number: str, secret: str, *, hold: bool = False) -> CheckedSecret:
    """The entry if the secret matches; counts wrong secrets (unknown IDs too) towards the lock.

    Shared by registration and verification: raises TooManyAttempts while locked and on the
    5th wrong secret; the entry is None for an unknown ID or a wrong secret, alike. The entry is
    read with the rest of the candidate's partition in one query (what each caller needs next).
    A right secret's attempt is given back here, or with ``hold`` returned to be given back in
    the caller's own write (registration: in its transaction; it stays counted until then).

    The entry checked is the one in effect (entries are staged, docs/files.md): one
    BatchGetItem, made for every ID alike (a session no one has when there is nothing to
    read: no answer by time), reads which files of the partition are published with the
    sessions of the entry's versions (verification needs those next).
    """
    from exam_results import credentials
    from exam_results.lockout import SECRET, AttemptLimiter

    limiter = AttemptLimiter(deps.auth, SECRET)
    reservation = limiter.reserve(id_number)
    partition = deps.candidates.partition(id_number)
    record = partition.entry_record
    session_ids = entry_sessions(record)
    files = entry_files(record) | result_files(r for r in partition.records if str(r["sk"]).startswith("RESULT#"))
    sessions, published = deps.exams.sessions_and_files(session_ids or [NO_SESSION], files)
    entry = effective_entry(record, published)
    ok = credentials.verify_secret(deps.pepper(), entry.secret_hash if entry else None, id_number, secret)
    if not ok or entry is None:
        limiter.failed(reservation)
        return CheckedSecret(None, partition, None, sessions, frozenset(published))
    held = reservation if hold else None
    if not hold:
        limiter.give_back(reservation)
    return CheckedSecret(entry, partition, held, sessions, frozenset(published))


class Principal(NamedTuple):
    """An authenticated candidate: the live session token and the account behind it."""

    token_hash: str
    account: Account


def session_token(deps: Deps, authorization: str | None) -> TokenRecord:
    """The live session token of a bearer header; every missing, malformed, expired or revoked
    token → Unauthorized. The account is checked next, by ``principal``."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized()
    record = live_token(deps, token.strip(), "session")
    if record is None:
        raise Unauthorized()
    return record


def principal(record: TokenRecord, account: Account | None) -> Principal:
    """The candidate of a session token, given its account as read after the token."""
    # Erased, or its credentials changed (or erased and registered again) since the session was
    # issued, however late the session was written: checked on every use, on a read the request
    # pays for anyway.
    if account is None or account.generation != record.generation:
        raise Unauthorized()
    return Principal(token_hash=record.token_hash, account=account)


def authenticate(deps: Deps, authorization: str | None) -> Principal:
    """Every missing, malformed, expired or revoked token → Unauthorized. Routes that read the
    candidate's partition anyway check the account from it instead (``results``)."""
    record = session_token(deps, authorization)
    return principal(record, deps.candidates.get_account(record.id_number))
