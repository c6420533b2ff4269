"""At most 3 emails of one kind per ID Number in any 60 minutes (SPEC §4), the one home of it.

The log of send instants is read, trimmed to the last hour and written back with a version
condition: two concurrent requests cannot both take the last slot.
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


def try_take_slot(repo: AuthRepository, policy: SendPolicy, id_number: str) -> bool:
    """True if an email may be sent now (and the send is recorded); False over the limit."""
    pk = repo.sends_pk(policy.scope, id_number)
    for _ in range(5):
        now = time.time()
        sent, version = repo.get_sends(pk)
        recent = [t for t in sent if t > now - policy.period]
        if len(recent) >= policy.limit:
            return False
        if repo.put_sends(pk, [*recent, now], version, math.ceil(now) + policy.period):
            return True
    return False
