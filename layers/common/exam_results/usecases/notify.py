"""The "results available" email (SPEC §6–§7): one ``NotificationBatch`` → one bulk send.

For each message (one session, at most 50 ID Numbers):

1. read the entry, account, result and marker of every ID (2 BatchGetItem calls);
2. keep the candidates with a result for the session, a confirmed email and no marker;
3. **claim** them with conditional puts of ``NOTIFIED#<session>`` *before* sending, all in one
   ``TransactWriteItems`` (candidates whose condition fails are dropped and the rest claimed
   again) — a redelivered message, a retry or a second message for the same candidate finds
   the marker and skips the candidate;
4. send one ``SendBulkTemplatedEmail`` call (≤ 50 destinations); throttling and transient
   errors are retried with full-jitter exponential back-off while the invocation has time;
5. turn the claims of the destinations SES accepted into ``sent`` markers; delete the claims of
   those it did not accept and raise, so that SQS delivers the message again (after the
   visibility timeout) and, after ``maxReceiveCount`` receives, keeps it in the DLQ for an
   operator to replay. On the retry only the candidates still without a marker are sent to.

A claim whose holder died between claim and ``sent`` expires after ``claim_lease_seconds``
(longer than the sender can run, shorter than the queue's visibility timeout), so the message's
next delivery claims it again: nobody is dropped.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

from exam_results import i18n
from exam_results.catalogue import get_exam
from exam_results.config import Settings
from exam_results.models import ExamSession
from exam_results.notifications import NotificationBatch
from exam_results.observability import count, logger
from exam_results.repositories.bulk_mailer import BulkDestination, DestinationStatus, SendRefused
from exam_results.repositories.recipients import Claim, Recipient
from exam_results.wiring import Deps

RESULTS_PAGE = "results.html"


@dataclass(frozen=True)
class SendPolicy:
    attempts: int = 4
    """SES calls for one message before giving it back to SQS (1 = no retry in the invocation)."""
    base_delay: float = 0.2
    max_delay: float = 5.0
    claim_lease_seconds: float = 300.0
    """> the sender's Timeout (60 s), < the queue's VisibilityTimeout (360 s)."""
    min_remaining_ms: int = 5_000
    """No back-off sleep that would end closer than this to the Lambda deadline."""


POLICY = SendPolicy()


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


class SendFailed(Exception):
    """Some candidates of the message were not emailed; their claims were given back."""


@dataclass
class DeliveryReport:
    session_id: str
    requested: int = 0
    sent: int = 0
    already_notified: int = 0
    no_result: int = 0
    no_account: int = 0
    unconfirmed: int = 0
    failed: int = 0
    ses_calls: int = 0
    ses_retries: int = 0
    ddb_batch_calls: int = 0
    not_released: bool = False
    failures: dict[str, int] = field(default_factory=dict)


_SESSIONS: dict[tuple[str, str], tuple[float, ExamSession]] = {}
SESSION_CACHE_SECONDS = 300.0


def _released_session(d: Deps, session_id: str) -> ExamSession | None:
    """The session, read once per container and 5 minutes (a release is never undone)."""
    key = (d.exams.table, session_id)
    cached = _SESSIONS.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    session = d.exams.get_session(session_id)
    if session is not None and session.status == "released":
        if len(_SESSIONS) > 100:
            _SESSIONS.clear()
        _SESSIONS[key] = (time.monotonic() + SESSION_CACHE_SECONDS, session)
    return session


def template_data(settings: Settings, session: ExamSession, candidate_name: str | None, lang: str) -> dict[str, str]:
    """The replacement data of the ``ResultsEmailTemplate`` for one candidate, in ``lang``.

    The template (``template.yaml``) is only the email's shape; every sentence comes from the
    catalogue of the candidate's language with the values already in it, so one template and one
    bulk call serve candidates of every language, and a new language is a new catalogue file.
    Every sentence twice: as it is, for the subject and text part, and HTML-escaped as
    ``<name>_html`` for the HTML part, because SES inserts values verbatim (a name holding
    ``<a href=...>`` would otherwise arrive as a live link).
    """
    lang = i18n.supported(lang)
    exam = get_exam(session.exam_code)
    name = candidate_name or i18n.text(lang, "email.candidate")
    service = i18n.text(lang, "service.name")
    plain = {
        "lang": lang,
        "subject": i18n.text(lang, "email.results.subject", service=service),
        "title": i18n.text(lang, "email.results.title"),
        "greeting": i18n.text(lang, "email.greeting", name=name),
        "intro": i18n.text(
            lang,
            "email.results.intro",
            exam_name=exam.name if exam else session.exam_code,
            exam_date=i18n.format_date(session.exam_date, lang),
        ),
        "button": i18n.text(lang, "email.results.button"),
        "results_link": settings.link(RESULTS_PAGE),
        "certificate": i18n.text(lang, "email.results.certificate"),
        "signature": service,
    }
    return {**plain, **{f"{k}_html": escape(v, quote=True) for k, v in plain.items()}}


def _classify(recipient: Recipient, now: float, report: DeliveryReport) -> bool:
    """True if the candidate should get the email (counts the reason otherwise)."""
    if recipient.marker_status == "sent" or (
        recipient.marker_status == "claimed" and (recipient.claim_expires_at or 0) >= now
    ):
        report.already_notified += 1
    elif not recipient.has_result:
        report.no_result += 1
    elif recipient.email is None:
        report.no_account += 1  # never registered, or erased
    elif not recipient.email_confirmed:
        report.unconfirmed += 1
    else:
        return True
    return False


def deliver(
    d: Deps,
    batch: NotificationBatch,
    remaining_ms: Callable[[], int],
    policy: SendPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    jitter: Callable[[], float] = random.random,
) -> DeliveryReport:
    """Email the batch's candidates who should get it and have not had it. Raises SendFailed."""
    policy = policy or POLICY
    sleep = sleep or _sleep
    report = DeliveryReport(session_id=batch.session_id, requested=len(batch.id_numbers))
    session = _released_session(d, batch.session_id)
    if session is None or session.status != "released":
        # Never tell anyone before the release. Not retried: the schedule enqueues again at release.
        report.not_released = True
        logger.warning("notification for a session not released", extra={"session_id": batch.session_id})
        count("NotificationsForUnreleasedSession")
        return report

    recipients, report.ddb_batch_calls = d.recipients.load(batch.session_id, batch.id_numbers, batch.version_of())
    now = time.time()
    eligible = [r for r in recipients.values() if _classify(r, now, report)]

    token = uuid.uuid4().hex
    claimed: dict[str, tuple[Claim, BulkDestination]] = {}
    if eligible:
        try:
            held, calls = d.recipients.claim(
                batch.session_id, [r.id_number for r in eligible], token, now, policy.claim_lease_seconds
            )
        except BaseException:
            # The outcome of the transaction is unknown (a timeout may follow a commit): give back
            # whatever this token may hold. Anything left expires with the lease.
            _release(d, [Claim(r.id_number, batch.session_id, token) for r in eligible])
            raise
        report.ddb_batch_calls += calls
        for r in eligible:
            if r.id_number not in held:
                report.already_notified += 1  # another delivery got there first
                continue
            assert r.email is not None
            claimed[r.id_number] = (
                Claim(r.id_number, batch.session_id, token),
                BulkDestination(to=r.email, data=template_data(d.settings, session, r.name, r.language)),
            )
    try:
        unsent = _send(d, session, claimed, report, policy, remaining_ms, sleep, jitter)
    except BaseException:
        # Nothing was confirmed sent for the claims still held: give them back for the retry.
        _release(d, [c for c, _ in claimed.values()])
        raise
    if unsent:
        _release(d, [claimed[i][0] for i in unsent])
        report.failed = len(unsent)
        count("ResultsEmailsFailed", len(unsent))
        raise SendFailed(
            f"{len(unsent)} of {len(claimed)} destinations not sent: "
            + ", ".join(f"{k}={v}" for k, v in sorted(report.failures.items()))
        )
    return report


def _send(
    d: Deps,
    session: ExamSession,
    claimed: dict[str, tuple[Claim, BulkDestination]],
    report: DeliveryReport,
    policy: SendPolicy,
    remaining_ms: Callable[[], int],
    sleep: Callable[[float], None],
    jitter: Callable[[], float],
) -> list[str]:
    """Send to every claimed candidate; returns the IDs SES did not accept.

    Accepted destinations are marked ``sent`` (and removed from ``claimed``) as soon as SES
    answers, so that nothing later can hand their claims back.
    """
    pending = list(claimed)
    default = template_data(d.settings, session, None, i18n.DEFAULT)
    attempt = 0
    while pending:
        attempt += 1
        destinations = [claimed[i][1] for i in pending]
        try:
            report.ses_calls += 1
            statuses = d.bulk_mailer.send(destinations, default)
        except SendRefused as exc:
            code = exc.code
            report.failures[code] = report.failures.get(code, 0) + 1
            if exc.transient:
                count("SesThrottled" if "Throttl" in code else "SesTransientError")
            if not exc.transient or not _back_off(attempt, policy, remaining_ms, sleep, jitter):
                raise
            report.ses_retries += 1
            continue
        accepted = _record(d, pending, statuses, claimed, report)
        pending = [i for i in pending if i not in accepted]
        retry = [i for i, s in zip(pending, _failed(statuses), strict=True) if s.transient]
        if not pending:
            break
        if len(retry) < len(pending) or not _back_off(attempt, policy, remaining_ms, sleep, jitter):
            return pending  # a permanent status, or out of attempts: SQS and the DLQ take over
        report.ses_retries += 1
    return []


def _failed(statuses: list[DestinationStatus]) -> list[DestinationStatus]:
    return [s for s in statuses if not s.ok]


def _record(
    d: Deps,
    pending: list[str],
    statuses: list[DestinationStatus],
    claimed: dict[str, tuple[Claim, BulkDestination]],
    report: DeliveryReport,
) -> set[str]:
    accepted: list[tuple[Claim, str]] = []
    for id_number, status in zip(pending, statuses, strict=True):
        if status.ok:
            accepted.append((claimed[id_number][0], status.message_id or ""))
        else:
            report.failures[status.status] = report.failures.get(status.status, 0) + 1
    for claim, _ in accepted:
        claimed.pop(claim.id_number)
    report.sent += len(accepted)
    if accepted:
        count("ResultsEmailsSent", len(accepted))
        try:
            report.ddb_batch_calls += d.recipients.mark_sent(accepted, time.time())
        except Exception:
            # The emails are out: never hand these claims back. They stay "claimed" until the
            # lease ends; nothing re-sends them unless the same candidate is enqueued again.
            logger.exception("could not mark sent", extra={"session_id": report.session_id})
            count("NotifiedMarkerWriteFailed", len(accepted))
    return {c.id_number for c, _ in accepted}


def _back_off(
    attempt: int,
    policy: SendPolicy,
    remaining_ms: Callable[[], int],
    sleep: Callable[[float], None],
    jitter: Callable[[], float],
) -> bool:
    """Sleep before the next attempt (full jitter); False if out of attempts or time."""
    if attempt >= policy.attempts:
        return False
    delay = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1)) * jitter()
    if remaining_ms() - delay * 1000 < policy.min_remaining_ms:
        return False
    sleep(delay)
    return True


def _release(d: Deps, claims: list[Claim]) -> None:
    for claim in claims:
        try:
            d.recipients.unclaim(claim)
        except Exception:
            # The claim then expires by itself after the lease; the retry picks the candidate up.
            logger.exception("could not release a claim", extra={"session_id": claim.session_id})
