"""The mail worker: emails asked for by ID Number (password reset, confirmation resend).

The routes only queue a ``MailRequest`` (the same work for every ID); here, off the request
path, the ID is looked up, the hourly limit applied (``send_limits``, its one home), a token
issued and the email sent. Nothing for an unknown ID, an ID without an account, a confirmed
account (resend) or an ID over its limit: those requests end here, quietly.

Failures: a refused SES send gives its slot back and raises, so SQS delivers the request again
(and after ``maxReceiveCount`` parks it in the DLQ); the token issued for it was never mailed and
expires unused. A request delivered twice (SQS is at-least-once) sends twice, each send taking
a slot: the limit bounds duplicates like any other request.
"""

from __future__ import annotations

from typing import Literal

from exam_results import emails, send_limits, tokens
from exam_results.errors import EmailNotSent
from exam_results.mail_requests import MailRequest
from exam_results.models import Account, TokenKind
from exam_results.observability import count, logger, mask_email
from exam_results.usecases.identity import issue_token
from exam_results.wiring import Deps

Outcome = Literal["sent", "no_account", "already_confirmed", "over_limit"]


def _token(deps: Deps, kind: TokenKind, account: Account, ttl: int) -> str:
    """A new token for the account, stored (as its hash) before it is mailed."""
    token, record = issue_token(kind, account, ttl)
    deps.auth.put_token(record)
    return token


def deliver(deps: Deps, request: MailRequest) -> Outcome:
    entry, account = deps.candidates.entry_and_account(request.id_number)
    if entry is None or account is None:
        return "no_account"
    if request.kind == "confirmation":
        if account.email_confirmed:
            return "already_confirmed"
        policy, what = send_limits.CONFIRMATION_RESENDS, "Confirmation"
    else:
        policy, what = send_limits.RESET_EMAILS, "Reset"
    taken = send_limits.try_take_slot(deps.auth, policy, request.id_number)
    if taken is None:
        count(f"{what}EmailsOverLimit")
        return "over_limit"
    if request.kind == "confirmation":
        link = deps.settings.link("confirm.html", token=_token(deps, "confirm", account, tokens.CONFIRMATION_TTL))
        email = emails.confirmation_email(account.email, entry.candidate_name, link, account.language)
    else:
        link = deps.settings.link("reset.html", token=_token(deps, "reset", account, tokens.RESET_TTL))
        email = emails.reset_email(account.email, entry.candidate_name, link, account.language)
    try:
        deps.mailer.send(email)
    except EmailNotSent as exc:
        count(f"{what}EmailsFailed")
        logger.error("email not sent", extra={"email_kind": what, "to": mask_email(email.to), "error": exc.code})
        send_limits.give_back(deps.auth, policy, request.id_number, taken)
        raise
    count(f"{what}EmailsSent")
    return "sent"
