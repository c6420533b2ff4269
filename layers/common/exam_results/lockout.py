"""Attempt limits (SPEC §4), the one home of the lockout rules.

* Login: the 4th wrong password for an ID Number locks it for 30 minutes from that failure.
* Secret Number: the 5th wrong secret for an ID Number (registration and verification share
  the counter) locks both routes for 30 minutes.

Unknown ID Numbers are counted exactly like known ones. An attempt is *reserved* (counted)
before the password or secret is checked, with an atomic conditional update, so concurrent
attempts can never check more than ``threshold`` times before the lock: the attempt that draws
number n > threshold is refused without checking. A right answer gives the reservation back
(login: clears the record, in the transaction that stores the session, so a right login holds
its attempt until then; secret: takes the one attempt back, registration in the transaction
that creates the account). Attempts while locked are
refused without touching the record, so they never extend the lock. The record expires
``window`` seconds after the last failure; expiry is checked on every read, since DynamoDB TTL
deletes late.

Secret Numbers (``record_failures``): a wrong secret also writes its record (the window again
from the failure), as a right one writes its give-back, so that verification's 404 for a right
secret with nothing released does the same AWS calls as for a wrong secret or an unknown ID
(SPEC §4, same work for every ID). Login needs no such write: its refusals all follow a wrong
or missing password, so the refusals already do the same calls.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from exam_results.errors import ConcurrentUpdate, Locked, TooManyAttempts
from exam_results.repositories.auth import AuthRepository

WINDOW_SECONDS = 30 * 60


@dataclass(frozen=True)
class AttemptPolicy:
    scope: str
    threshold: int  # the failure with this number locks
    window: int
    error: type[TooManyAttempts]
    record_failures: bool = False  # every wrong answer writes (see above), not only the locking one


LOGIN = AttemptPolicy(scope="LOGIN", threshold=4, window=WINDOW_SECONDS, error=Locked)
SECRET = AttemptPolicy(scope="SECRET", threshold=5, window=WINDOW_SECONDS, error=TooManyAttempts, record_failures=True)


@dataclass(frozen=True)
class Reservation:
    pk: str
    number: int


class AttemptLimiter:
    def __init__(self, repo: AuthRepository, policy: AttemptPolicy) -> None:
        self.repo = repo
        self.policy = policy

    def reserve(self, id_number: str) -> Reservation:
        """Count this attempt before checking it; raise the policy's error while locked."""
        pk = self.repo.attempts_pk(self.policy.scope, id_number)
        for _ in range(5):
            now = time.time()
            expires_at = math.ceil(now) + self.policy.window
            number = self.repo.add_attempt(pk, now, expires_at)
            if number is None:
                record = self.repo.get_attempts(pk)
                locked_until = float((record or {}).get("locked_until", 0))
                if locked_until > now:
                    raise self.policy.error(math.ceil(locked_until - now))
                old = record.get("expires_at") if record else None
                if record and float(old or 0) > now:
                    continue  # changed under us: count again
                if not self.repo.restart_attempts(pk, old, expires_at):
                    continue
                number = 1
            if number > self.policy.threshold:
                # Attempts beyond the limit while others are in flight are refused unchecked,
                # and not counted: only checked attempts can fail.
                self.repo.undo_attempt(pk)
                raise self.policy.error(self._time_left(pk))
            return Reservation(pk=pk, number=number)
        raise ConcurrentUpdate(pk)

    def _time_left(self, pk: str) -> int:
        """Seconds until an attempt can be counted again, read after the refusal: an attempt in
        flight may have locked the record meanwhile (then what is left of the lock), else what is
        left of the record's window (its in-flight attempts can still lock it for that long)."""
        now = time.time()
        record = self.repo.get_attempts(pk) or {}
        until = max(float(record.get("locked_until", 0)), float(record.get("expires_at", 0)))
        return max(1, math.ceil(until - now))

    def failed(self, reservation: Reservation) -> None:
        """The attempt was wrong: lock if it was the last one allowed."""
        until = math.ceil(time.time()) + self.policy.window
        if reservation.number >= self.policy.threshold:
            self.repo.lock(reservation.pk, until)
            raise self.policy.error(self.policy.window)
        if self.policy.record_failures:
            self.repo.extend_attempts(reservation.pk, until)

    def clear(self, id_number: str) -> None:
        self.repo.clear(self.repo.attempts_pk(self.policy.scope, id_number))

    def clear_op(self, id_number: str) -> dict[str, Any]:
        """``clear`` as a transaction item, to be written with what a right answer stores."""
        return self.repo.clear_op(self.repo.attempts_pk(self.policy.scope, id_number))

    def give_back(self, reservation: Reservation) -> None:
        self.repo.undo_attempt(reservation.pk)

    def give_back_op(self, reservation: Reservation) -> dict[str, Any]:
        """``give_back`` as a transaction item, to be written with what a right answer stores."""
        return self.repo.undo_attempt_op(reservation.pk)
