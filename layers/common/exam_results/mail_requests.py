"""The contract between the routes that answer 202 for any ID Number and the mail worker.

``POST /password-resets`` and ``POST /registrations/confirmations/resend`` only put a
``MailRequest`` on the mail request queue, the same single call for a registered, unknown,
confirmed or over-the-limit ID (SPEC §4, same work for every ID). The worker
(``usecases.mail_requests``, SQS-triggered) looks the ID up, applies the hourly limit and sends.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from exam_results.api_models import IdNumber

MailKind = Literal["reset", "confirmation"]


class MailRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    kind: MailKind
    id_number: IdNumber
