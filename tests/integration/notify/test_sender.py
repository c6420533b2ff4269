"""The sender: who gets the email, exactly once, through redeliveries, failures and replays."""

from __future__ import annotations

import email
import email.policy
import json
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.harness.stack import Stack
from scripts.replay_dlq import replay
from tests.helpers.notify import (
    SenderPoller,
    SesCalls,
    bulk_candidates,
    log_in,
    queue_depth,
    register,
    results_emails,
    results_recipients,
    schedule_event,
    seed_results,
    seed_session,
)

SESSION = "C1A-RECENT-PB"


def _due_session(session_id: str = SESSION, exam_code: str = "C1A") -> Any:
    """A session whose window ended an hour ago (by the real clock: no time travel needed)."""
    now = datetime.now(UTC)
    return seed_session(
        session_id,
        (now - timedelta(days=40)).date(),
        "PB",
        exam_code=exam_code,
        results_available_by=now - timedelta(hours=1),
    )


def _released_session(session_id: str = SESSION) -> Any:
    from exam_results.models import ExamSession
    from exam_results.wiring import deps

    now = datetime.now(UTC)
    session = ExamSession(
        session_id=session_id,
        exam_code="C1A",
        exam_date=date(2026, 6, 20),
        format="PB",
        results_available_by=now - timedelta(hours=1),
        status="released",
        released_at=now - timedelta(minutes=30),
    )
    exams = deps().exams
    exams.write_items([exams.session_item(session)])
    return session


def _enqueue(stack: Stack, session_id: str, ids: list[str]) -> int:
    from exam_results import notifications
    from exam_results.repositories.queue import NotifyQueue

    return notifications.enqueue(NotifyQueue(stack.physical("NotifyQueue")), session_id, ids)


def _marker(id_number: str, session_id: str = SESSION) -> dict[str, Any] | None:
    from exam_results.repositories.recipients import marker_sk
    from exam_results.wiring import deps

    for record in deps().exams.candidate_records(id_number):
        if record["sk"] == marker_sk(session_id):
            return record
    return None


def test_who_is_emailed_passes_fails_unconfirmed_erased_and_unregistered(
    stack: Stack, api: Any, seed: Any, mailbox: Any
) -> None:
    session = _due_session()
    sid = session.session_id
    passed = register(api, seed, mailbox, "PASS00001", "pass@example.com", session_id=sid, name="Ana Pass")
    failed = register(api, seed, mailbox, "FAIL00001", "fail@example.com", session_id=sid, name="Bo Fail")
    unconfirmed = register(api, seed, mailbox, "UNCF00001", "unconfirmed@example.com", confirm=False, session_id=sid)
    erased = register(api, seed, mailbox, "ERAS00001", "erased@example.com", session_id=sid)
    assert api.call("DELETE", "/me", token=log_in(api, erased)).status == 204
    seed(id_number="NOAC00001", session_id=sid)  # entry and result, never registered
    no_result = register(api, seed, mailbox, "NORS00001", "noresult@example.com", session_id=sid)
    with_results = [passed.id_number, failed.id_number, unconfirmed.id_number, erased.id_number, "NOAC00001"]
    seed_results(sid, with_results, passed=lambda i: not i.startswith("FAIL"))

    report = stack.invoke("ReleaseFunction", schedule_event(stack))
    assert report["released"] == [sid]
    assert report["fanouts"][0]["enqueued"] == len(with_results)  # only candidates with a result

    # The uploads engineer's late path may enqueue anyone again: nobody new gets an email.
    _enqueue(stack, sid, [*with_results, no_result.id_number])
    SenderPoller(stack).drain()

    emails = results_emails()
    assert sorted(to for e in emails for to in e.to) == ["fail@example.com", "pass@example.com"]
    ana = next(e for e in emails if e.to == ["pass@example.com"])
    assert ana.text.startswith("Dear Ana Pass,")
    assert "Your results for C1 Advanced (exam date " in ana.text
    assert "https://results.test/results.html" in ana.links
    assert _marker(passed.id_number)["status"] == "sent"  # type: ignore[index]
    assert _marker(unconfirmed.id_number) is None and _marker(erased.id_number) is None


def test_the_same_message_delivered_twice_sends_one_email(stack: Stack) -> None:
    _released_session()
    ids = bulk_candidates(SESSION, 50, prefix="DUP")
    _enqueue(stack, SESSION, ids)
    poller = SenderPoller(stack)
    messages = poller.receive()
    assert len(messages) == 1

    assert poller.deliver(messages) == set()  # first delivery: 50 emails
    assert poller.deliver(messages) == set()  # the same message again (at-least-once delivery)
    poller.settle(messages, set())
    # ... and the same IDs in another message (a second fan-out, a late result): still nothing.
    _enqueue(stack, SESSION, ids)
    poller.drain()

    sent = Counter(results_recipients())
    assert len(sent) == 50 and set(sent.values()) == {1}


def test_two_senders_on_the_same_candidates_at_once_send_one_email(stack: Stack) -> None:
    """Two Lambda containers with the same batch at the same moment (the use case, in two threads)."""
    import threading

    from exam_results.notifications import NotificationBatch
    from exam_results.usecases import notify
    from exam_results.wiring import deps

    stack._apply_env(stack.function("SenderFunction"))  # the sender's environment (its template)
    _released_session()
    ids = bulk_candidates(SESSION, 50, prefix="PAR")
    batch = NotificationBatch(session_id=SESSION, id_numbers=ids)
    d = deps()
    barrier = threading.Barrier(2)
    reports: list[notify.DeliveryReport] = []

    def run() -> None:
        barrier.wait()
        reports.append(notify.deliver(d, batch, remaining_ms=lambda: 60_000))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.sent for r in reports)[-1] + sorted(r.sent for r in reports)[0] == 50
    assert sum(r.already_notified for r in reports) == 50
    sent = Counter(results_recipients())
    assert len(sent) == 50 and set(sent.values()) == {1}


def _replay_until_empty(stack: Stack, poller: SenderPoller) -> int:
    """What the operator does: replay the DLQ (``make replay-dlq``) until it stays empty."""
    sqs = stack.client("sqs")
    replays = 0
    while queue_depth(stack, "NotifyDeadLetterQueue"):
        replays += 1
        moved = replay(sqs, stack.physical("NotifyDeadLetterQueue"), stack.physical("NotifyQueue"), empty_polls=1)
        assert moved.moved > 0 and moved.failed == 0
        poller.drain()
        assert replays < 10
    return replays


def test_ses_failing_20_percent_of_calls_everyone_emailed_once_nothing_lost(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exam_results.usecases import notify

    # One SES call per delivery: every failure goes back to SQS (the harshest setting).
    monkeypatch.setattr(notify, "POLICY", notify.SendPolicy(attempts=1))
    ses = SesCalls(failure_rate=0.2, seed=20260725).install(monkeypatch)
    session = _due_session()
    ids = bulk_candidates(session.session_id, 1_000, prefix="FLK")
    stack.invoke("ReleaseFunction", schedule_event(stack))

    poller = SenderPoller(stack)
    poller.drain()
    _replay_until_empty(stack, poller)  # whatever reached maxReceiveCount (none with this seed)

    sent = Counter(results_recipients())
    assert len(sent) == len(ids) and set(sent.values()) == {1}
    assert ses.failures > 0 and poller.stats.failed_records == ses.failures
    assert ses.calls == 20 + ses.failures  # ⌈1000/50⌉ sends, and one more per failure
    assert queue_depth(stack, "NotifyQueue") == 0


def test_ses_down_for_a_while_messages_wait_in_the_dlq_and_a_replay_sends_each_email_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, fast_backoff: None
) -> None:
    ses = SesCalls(failure_rate=1.0, code="ServiceUnavailable").install(monkeypatch)
    session = _due_session()
    ids = bulk_candidates(session.session_id, 250, prefix="OUT")
    stack.invoke("ReleaseFunction", schedule_event(stack))

    poller = SenderPoller(stack)
    poller.drain()  # five receives each, then SQS moves them to the DLQ
    assert results_emails() == []
    assert queue_depth(stack, "NotifyDeadLetterQueue") == 5 and queue_depth(stack, "NotifyQueue") == 0
    assert poller.stats.receive_counts == Counter({n: 5 for n in range(1, 6)})
    assert ses.calls == 5 * 5 * notify_attempts()

    from exam_results.usecases import notify

    assert all(_marker(i) is None for i in ids[:5])  # every claim given back
    ses.failure_rate = 0.2  # SES recovers (mostly)
    assert _replay_until_empty(stack, poller) >= 1
    sent = Counter(results_recipients())
    assert len(sent) == len(ids) and set(sent.values()) == {1}
    assert notify.POLICY.attempts > 1


def notify_attempts() -> int:
    from exam_results.usecases import notify

    return notify.POLICY.attempts


def test_throttling_is_retried_with_back_off_inside_the_invocation(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exam_results.usecases import notify

    sleeps: list[float] = []
    monkeypatch.setattr(notify, "_sleep", sleeps.append)
    ses = SesCalls(failure_rate=0.2, seed=7).install(monkeypatch)
    _released_session()
    ids = bulk_candidates(SESSION, 1_000, prefix="THR")
    _enqueue(stack, SESSION, ids)
    stats = SenderPoller(stack).drain()

    sent = Counter(results_recipients())
    assert len(sent) == len(ids) and set(sent.values()) == {1}
    assert ses.failures > 0 and len(sleeps) >= ses.failures - stats.failed_records
    assert all(0 <= s <= notify.POLICY.max_delay for s in sleeps)
    assert queue_depth(stack, "NotifyDeadLetterQueue") == 0


def test_per_destination_failures_are_retried_and_never_duplicated(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, fast_backoff: None
) -> None:
    from exam_results.repositories.aws import client

    ses_client = client("ses")
    original = ses_client.send_bulk_templated_email
    rng = random.Random(11)

    def partly(**kwargs: Any) -> Any:
        keep, statuses = [], []
        for d in kwargs["Destinations"]:
            if rng.random() < 0.15:
                statuses.append({"Status": rng.choice(["AccountThrottled", "MessageRejected"]), "Error": "no"})
            else:
                keep.append(d)
                statuses.append(None)
        ids = iter(original(**{**kwargs, "Destinations": keep})["Status"] if keep else [])
        return {"Status": [s or {"Status": "Success", "MessageId": next(ids)["MessageId"]} for s in statuses]}

    monkeypatch.setattr(ses_client, "send_bulk_templated_email", partly)
    _released_session()
    ids = bulk_candidates(SESSION, 500, prefix="PDF")
    _enqueue(stack, SESSION, ids)
    sqs = stack.client("sqs")
    poller = SenderPoller(stack)
    for _ in range(5):
        poller.drain()
        if not queue_depth(stack, "NotifyDeadLetterQueue"):
            break
        replay(sqs, stack.physical("NotifyDeadLetterQueue"), stack.physical("NotifyQueue"), empty_polls=1)
    sent = Counter(results_recipients())
    assert len(sent) == len(ids) and set(sent.values()) == {1}


def test_a_claim_left_by_a_crashed_sender_is_taken_over_after_its_lease(stack: Stack) -> None:
    import time

    from exam_results.repositories.recipients import RecipientRepository
    from exam_results.wiring import deps

    _released_session()
    ids = bulk_candidates(SESSION, 3, prefix="CLM")
    repo = RecipientRepository(deps().settings.data_table)
    now = time.time()
    assert repo.claim(SESSION, [ids[0]], "crashed", now - 600, 300) == ({ids[0]}, 1)  # lease ended 5 min ago
    assert repo.claim(SESSION, [ids[1]], "working", now, 300) == ({ids[1]}, 1)  # another sender is on it now
    assert repo.claim(SESSION, [ids[1]], "me", now, 300) == (set(), 1)
    _enqueue(stack, SESSION, ids)
    SenderPoller(stack).drain()
    sent = sorted(results_recipients())
    assert sent == sorted(f"{i.lower()}@example.com" for i in (ids[0], ids[2]))


def test_a_message_for_a_session_not_yet_released_sends_nothing(stack: Stack) -> None:
    now = datetime.now(UTC)
    seed_session("C1A-FUTURE-PB", now.date(), "PB", results_available_by=now + timedelta(days=3))
    ids = bulk_candidates("C1A-FUTURE-PB", 5, prefix="FUT")
    _enqueue(stack, "C1A-FUTURE-PB", ids)
    stats = SenderPoller(stack).drain()
    assert results_emails() == [] and stats.failed_records == 0


def test_a_malformed_message_is_reported_failed_alone(stack: Stack) -> None:
    _released_session()
    ids = bulk_candidates(SESSION, 2, prefix="BAD")
    sqs = stack.client("sqs")
    sqs.send_message(QueueUrl=stack.physical("NotifyQueue"), MessageBody=json.dumps({"session_id": SESSION}))
    _enqueue(stack, SESSION, ids)
    poller = SenderPoller(stack)
    messages = poller.receive()
    assert len(messages) == 2
    failed = poller.deliver(messages)
    assert len(failed) == 1
    assert json.loads(next(m for m in messages if m["MessageId"] in failed)["Body"]) == {"session_id": SESSION}
    assert len(results_emails()) == 2


def test_late_result_after_release_is_notified_once_and_a_correction_sends_nothing(stack: Stack) -> None:
    _released_session()
    ids = bulk_candidates(SESSION, 1, prefix="LATE")
    _enqueue(stack, SESSION, ids)  # what the publication step does for a released session
    SenderPoller(stack).drain()
    seed_results(SESSION, ids, passed=lambda _: False)  # a corrected result
    _enqueue(stack, SESSION, ids)
    SenderPoller(stack).drain()
    assert results_recipients() == [f"{ids[0].lower()}@example.com"]


RENDERED = {
    "en": {
        "subject": "Exam Results Service: your results are available",
        "title": "Your results are available",
        "date": "20 June 2026",
        "greeting": "Dear Zoë O'Brien,",
        "button": "See my results",
    },
    "it": {
        "subject": "Exam Results Service: i tuoi risultati sono disponibili",
        "title": "I tuoi risultati sono disponibili",
        "date": "20 giugno 2026",
        "greeting": "Ciao Zoë O'Brien,",
        "button": "Vedi i miei risultati",
    },
}


@pytest.mark.parametrize("lang", sorted(RENDERED))
def test_results_email_template_renders_text_and_html(stack: Stack, lang: str) -> None:
    from exam_results.config import get_settings
    from exam_results.models import ExamSession
    from exam_results.usecases.notify import template_data

    spec = stack.function("SenderFunction")
    template = spec.env["RESULTS_EMAIL_TEMPLATE"]
    session = ExamSession(
        session_id="C2P-2026-06-20-PB",
        exam_code="C2P",
        exam_date=date(2026, 6, 20),
        format="PB",
        results_available_by=datetime(2026, 7, 25, 8, tzinfo=UTC),
    )
    data = template_data(get_settings(), session, "Zoë O'Brien", lang)
    rendered = stack.client("ses").test_render_template(TemplateName=template, TemplateData=json.dumps(data))[
        "RenderedTemplate"
    ]
    message = email.message_from_string(rendered, policy=email.policy.default)
    want = RENDERED[lang]
    assert message["Subject"] == want["subject"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for part in (text, html):
        assert "C2 Proficiency" in part and want["date"] in part
        assert "https://results.test/results.html" in part
    assert text.startswith(want["greeting"])
    assert want["title"] in text and want["button"] not in text
    assert 'href="https://results.test/results.html"' in html and f">{want['button']}</a>" in html
    assert f"<h1>{want['title']}</h1>" in html and f'<html lang="{lang}">' in html
    assert "{{" not in text + html  # every placeholder of the template has its value


def test_claims_are_one_transaction_and_a_cancelled_one_is_retried_without_the_taken(stack: Stack) -> None:
    import time

    from exam_results.repositories.recipients import RecipientRepository
    from exam_results.wiring import deps

    _released_session()
    ids = bulk_candidates(SESSION, 6, prefix="TXN")
    repo = RecipientRepository(deps().settings.data_table)
    now = time.time()
    assert repo.claim(SESSION, [ids[1], ids[4]], "other", now, 300) == ({ids[1], ids[4]}, 1)
    assert repo.claim(SESSION, [ids[0], ids[0], *ids[1:]], "me", now, 300) == ({ids[0], ids[2], ids[3], ids[5]}, 2)
    assert repo.claim(SESSION, ids, "late", now, 300) == (set(), 1)  # all taken: nothing left to retry
    with pytest.raises(ValueError):
        repo.claim(SESSION, [f"X{n}" for n in range(101)], "me", now, 300)
    _enqueue(stack, SESSION, ids)
    stats = SenderPoller(stack).drain()
    assert results_emails() == [] and stats.failed_records == 0  # live claims: nobody emailed twice


def test_a_transaction_conflict_is_retried_and_a_persistent_one_gives_the_message_back(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exam_results.repositories import dynamo, recipients

    monkeypatch.setattr(recipients, "_backoff", lambda attempt: None)
    ddb = dynamo.ddb()
    original = ddb.transact_write_items
    conflicts = {"left": 2}

    def conflicting(**kwargs: Any) -> Any:
        if conflicts["left"] > 0:
            conflicts["left"] -= 1
            n = len(kwargs["TransactItems"])
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                    "CancellationReasons": [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (n - 1),
                },
                "TransactWriteItems",
            )
        return original(**kwargs)

    monkeypatch.setattr(ddb, "transact_write_items", conflicting)
    _released_session()
    ids = bulk_candidates(SESSION, 4, prefix="CNF")
    _enqueue(stack, SESSION, ids)
    assert SenderPoller(stack).drain().failed_records == 0
    assert sorted(results_recipients()) == sorted(f"{i.lower()}@example.com" for i in ids)

    more = bulk_candidates(SESSION, 3, prefix="CNG")
    conflicts["left"] = 10**6  # conflicts that never end: the message fails, nothing is claimed
    _enqueue(stack, SESSION, more)
    poller = SenderPoller(stack)
    messages = poller.receive()
    failed = poller.deliver(messages)
    assert failed == {m["MessageId"] for m in messages} and len(results_emails()) == len(ids)
    poller.settle(messages, failed)  # visible again, as after the visibility timeout
    conflicts["left"] = 0
    poller.drain()
    assert len(results_emails()) == len(ids) + len(more)
