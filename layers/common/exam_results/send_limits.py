"""At most 3 emails of one kind per ID Number in any 60 minutes (SPEC §4), the one home of it.

The log of send instants is read, trimmed to the last hour and written back with a version
condition: two concurrent requests cannot both take the last slot. The mail worker takes a slot
before it sends and gives it back if SES refused the email, so a failed send (retried by SQS)
never uses up the candidate's hour; a duplicate delivery of one request takes a slot of its own
(and is bounded by the limit like any other).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from exam_results.repositories.auth import AuthRepository


@dataclass(frozen=True)
class SendPolicy:
    scope: str
    limit: int = 3
    period: int = 60 * 60


RESET_EMAILS = SendPolicy(scope="RESET")
CONFIRMATION_RESENDS = SendPolicy(scope="RESEND")
# Email-change links (POST /me/email): a logged-in account cannot mail links to any number of
# addresses that are not its own.
EMAIL_CHANGES = SendPolicy(scope="EMAIL_CHANGE")


def try_take_slot(repo: AuthRepository, policy: SendPolicy, id_number: str) -> float | None:
    """The instant recorded for an email that may be sent now; None over the limit."""
    pk = repo.sends_pk(policy.scope, id_number)
    for _ in range(5):
        now = time.time()
        sent, version = repo.get_sends(pk)
        recent = [t for t in sent if t > now - policy.period]
        if len(recent) >= policy.limit:
            return None
        if repo.put_sends(pk, [*recent, now], version, math.ceil(now) + policy.period):
            return now
    return None


def retry_after(repo: AuthRepository, policy: SendPolicy, id_number: str) -> int:
    """Whole seconds until the oldest send of the last period leaves it (a slot frees)."""
    now = time.time()
    sent, _ = repo.get_sends(repo.sends_pk(policy.scope, id_number))
    recent = [t for t in sent if t > now - policy.period]
    return max(1, math.ceil(min(recent) + policy.period - now)) if recent else 1


def give_back(repo: AuthRepository, policy: SendPolicy, id_number: str, taken: float) -> None:
    """Forget the send taken at ``taken`` (the email was not sent)."""
    pk = repo.sends_pk(policy.scope, id_number)
    for _ in range(5):
        sent, version = repo.get_sends(pk)
        if taken not in sent:
            return
        rest = [t for t in sent if t != taken]
        if repo.put_sends(pk, rest, version, math.ceil(max(rest or [taken])) + policy.period):
            return
