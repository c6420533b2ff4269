"""The mail worker (MailRequestsFunction): reset and confirmation resend emails, off the request
path. Run from its queue by the local stack's SQS poller (``mail_worker`` fixture), SES faults
injected past the SDK's retries with a botocore ``before-call`` hook.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import time_machine

from devtools.harness.stack import Stack

START = "2026-06-01T10:00:00Z"


class SesRefusals:
    """The layer's SES client refuses the first ``times`` SendEmail calls (MessageRejected)."""

    def __init__(self, times: int) -> None:
        from exam_results.repositories.aws import client

        self.left = times
        self.refused = 0
        self.lock = threading.Lock()
        client("ses").meta.events.register("before-call.ses.SendEmail", self._call)

    def _call(self, **_: Any) -> Any:
        with self.lock:
            if self.left <= 0:
                return None  # the real call
            self.left -= 1
            self.refused += 1
        error = {"Error": {"Code": "MessageRejected", "Message": "Email address is not verified."}}
        return SimpleNamespace(status_code=400, headers={}), {
            **error,
            "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}, "RetryAttempts": 0},
        }


def resets_to(mailbox: Any, address: str) -> list[Any]:
    return [m for m in mailbox.to(address) if "reset" in m.subject.lower()]


def sends_logged(id_number: str) -> list[float]:
    from exam_results.wiring import deps

    auth = deps().auth
    return auth.get_sends(auth.sends_pk("RESET", id_number))[0]


def queued(stack: Stack, logical: str) -> int:
    attrs = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical(logical),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_a_refused_email_is_retried_and_does_not_use_up_the_hourly_limit(api, registered, mailbox, mail_worker):
    with time_machine.travel(START, tick=False) as t:
        c, _ = registered()
        ses = SesRefusals(times=2)
        assert api.call("POST", "/password-resets", {"id_number": c.id_number}).status == 202
        for _ in range(2):
            mail_worker.drain(failures_allowed=True)
            assert resets_to(mailbox, c.email) == [] and sends_logged(c.id_number) == []
            t.shift(91)  # the queue's visibility timeout: SQS delivers the request again
        assert mail_worker.drain() == 1
        assert ses.refused == 2 and len(resets_to(mailbox, c.email)) == 1
        # The two refusals gave their slots back: two more emails this hour, then the limit.
        for _ in range(3):
            api.call("POST", "/password-resets", {"id_number": c.id_number})
        mail_worker.drain()
        assert len(resets_to(mailbox, c.email)) == 3
        assert mail_worker.drain() == 0


def test_a_request_refused_five_times_is_parked_in_the_dead_letter_queue(api, registered, mailbox, mail_worker, stack):
    with time_machine.travel(START, tick=False) as t:
        c, _ = registered()
        SesRefusals(times=100)
        api.call("POST", "/password-resets", {"id_number": c.id_number})
        for _ in range(6):
            mail_worker.drain(failures_allowed=True)
            t.shift(91)
        assert queued(stack, "MailRequestsQueue") == 0
        dead = stack.client("sqs").receive_message(QueueUrl=stack.physical("MailRequestsDeadLetterQueue"))
        (message,) = dead["Messages"]
        assert json.loads(message["Body"]) == {"kind": "reset", "id_number": c.id_number}
        assert resets_to(mailbox, c.email) == [] and sends_logged(c.id_number) == []


def test_duplicate_deliveries_run_in_parallel_never_exceed_the_limit(api, registered, mailbox, mail_worker, stack):
    """SQS delivers at least once: ten copies of a request, taken by five workers at once, send
    three emails (the send limit's conditional write), and every link sent works."""
    c, _ = registered()
    sqs = stack.client("sqs")
    body = json.dumps({"kind": "reset", "id_number": c.id_number})
    for _ in range(10):
        sqs.send_message(QueueUrl=stack.physical("MailRequestsQueue"), MessageBody=body)
    source = replace(mail_worker.source, batch_size=2)
    barrier = threading.Barrier(5)

    def worker(_: int) -> int:
        barrier.wait()
        return mail_worker.sources.poll_once(source).received

    with ThreadPoolExecutor(5) as pool:
        assert sum(pool.map(worker, range(5))) == 10
    assert mail_worker.drain() == 0
    sent = resets_to(mailbox, c.email)
    assert len(sent) == 3
    new = "Brand-new-pass-77"
    body_ok = {"token": sent[0].token(), "password": new, "confirm_password": new}
    assert api.call("POST", "/password-resets/confirmations", body_ok).status == 200


def test_a_malformed_request_fails_alone_and_the_rest_of_the_batch_is_sent(api, registered, mailbox, stack):
    from devtools.harness.sources import EventSources

    c, _ = registered()
    sqs = stack.client("sqs")
    url = stack.physical("MailRequestsQueue")
    sqs.send_message(QueueUrl=url, MessageBody='{"kind": "newsletter", "id_number": "x"}')
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "reset", "id_number": c.id_number}))
    sources = EventSources(stack)
    source = next(s for s in sources.sqs_sources if s.function == "MailRequestsFunction")
    outcome = sources.poll_once(source)
    assert outcome.received == 2 and len(outcome.failed) == 1 and len(outcome.deleted) == 1
    assert len(resets_to(mailbox, c.email)) == 1
