"""The local event sources (S3, SQS, schedules) and the mailbox, on a tiny template, in moto."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from moto import mock_aws

from devtools.harness.sources import EventSources
from devtools.harness.stack import Stack
from devtools.local import mailbox


@pytest.fixture
def sources(fake_template: Path) -> Iterator[EventSources]:
    with mock_aws():
        stack = Stack(template_path=fake_template, parameters={"WebBaseUrl": "http://127.0.0.1:3999"})
        yield EventSources(stack.provision())


def calls(sources: EventSources) -> list[dict[str, Any]]:
    out = Path(sources.stack.function("Recorder").env["OUT"])
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_event_sources_are_read_from_the_template(sources: EventSources) -> None:
    s3 = {(t.function, t.prefix, t.suffix) for t in sources.s3_triggers}
    assert s3 == {("Recorder", "entries/", ".csv"), ("Other", "results/", "")}
    assert {t.bucket for t in sources.s3_triggers} == {"Uploads"}
    sqs = {q.function: q for q in sources.sqs_sources}
    assert sqs["Recorder"].batch_size == 5 and sqs["Recorder"].report_failures
    assert sqs["Other"].batch_size == 10 and not sqs["Other"].report_failures
    assert sqs["Recorder"].concurrency == sqs["Other"].concurrency == 5  # no ScalingConfig: Lambda's first 5
    assert sqs["Recorder"].queue_url == sources.stack.physical("Jobs")
    # The disabled schedule is not run.
    assert [(s.function, s.kind) for s in sources.schedules] == [("Recorder", "ScheduleV2"), ("Other", "Schedule")]


def test_an_upload_reaches_only_the_matching_function_with_a_real_s3_event(sources: EventSources) -> None:
    key = "entries/day 1+extra.csv"
    assert sources.bucket_for(key) == "Uploads"
    invocations = sources.put_object("Uploads", key, b"a,b\r\n1,2\r\n")
    assert [(i.function, i.ok) for i in invocations] == [("Recorder", True)]

    (call,) = calls(sources)
    assert call["fn"] == "recorder" and call["only_recorder"] == "yes" and call["service"] == "recorder"
    (record,) = call["event"]["Records"]
    assert record["eventSource"] == "aws:s3" and record["eventVersion"] == "2.1"
    assert record["eventName"] == "ObjectCreated:Put" and record["awsRegion"] == "eu-west-2"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["eventTime"])
    bucket = sources.stack.physical("Uploads")
    assert record["s3"]["bucket"] == {
        "name": bucket,
        "ownerIdentity": {"principalId": "123456789012"},
        "arn": f"arn:aws:s3:::{bucket}",
    }
    obj = record["s3"]["object"]
    assert obj["key"] == "entries/day+1%2Bextra.csv"  # form-encoded, as S3 sends it
    assert unquote_plus(obj["key"]) == key
    assert obj["size"] == 10
    head = sources.stack.client("s3").head_object(Bucket=bucket, Key=key)
    assert obj["eTag"] == head["ETag"].strip('"')
    assert obj["versionId"] == head["VersionId"]
    assert re.fullmatch(r"[0-9A-F]{16}", obj["sequencer"])


def test_keys_outside_the_filters_invoke_nothing_and_sequencers_increase(sources: EventSources) -> None:
    assert sources.put_object("Uploads", "entries/notes.txt", b"x") == []
    assert [i.function for i in sources.put_object("Uploads", "results/r.csv", b"x")] == ["Other"]
    assert [i.function for i in sources.put_object("Uploads", "results/r.csv", b"y")] == ["Other"]
    assert sources.bucket_for("elsewhere/x.csv") == "Uploads"  # the only bucket with S3 events
    out = Path(sources.stack.function("Other").env["OUT"])
    seqs = [
        json.loads(line)["event"]["Records"][0]["s3"]["object"]["sequencer"] for line in out.read_text().splitlines()
    ]
    assert int(seqs[1], 16) > int(seqs[0], 16)
    # The other function ran without the recorder's variables: no stale environment.
    assert all(json.loads(line)["only_recorder"] is None for line in out.read_text().splitlines())


def _queue(sources: EventSources, function: str) -> Any:
    return next(q for q in sources.sqs_sources if q.function == function)


def _count(sources: EventSources, logical: str) -> int:
    attrs = sources.stack.client("sqs").get_queue_attributes(
        QueueUrl=sources.stack.physical(logical),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attrs.values())


def test_sqs_partial_batch_failures_are_retried_then_dead_lettered(sources: EventSources) -> None:
    sqs = sources.stack.client("sqs")
    url = sources.stack.physical("Jobs")
    for body in ("ok-1", "fail", "ok-2"):
        sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageAttributes={"kind": {"DataType": "String", "StringValue": "t"}}
        )
    source = _queue(sources, "Recorder")

    first = sources.poll_once(source)
    assert first.received == 3 and len(first.deleted) == 2 and len(first.failed) == 1
    (call,) = calls(sources)
    records = call["event"]["Records"]
    assert [r["body"] for r in records] == ["ok-1", "fail", "ok-2"]
    record = records[1]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == source.queue_arn
    assert record["awsRegion"] == "eu-west-2" and record["receiptHandle"] and record["md5OfBody"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= record["attributes"].keys()
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "t",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }

    # The failed message comes back after the visibility timeout (1 s here) and fails again…
    assert sources.poll_once(source).received == 0
    time.sleep(1.1)
    second = sources.poll_once(source)
    assert second.received == 1 and second.failed == first.failed
    assert calls(sources)[-1]["event"]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    # …and after maxReceiveCount (2) receives the queue's redrive policy moves it to the DLQ.
    time.sleep(1.1)
    assert sources.poll_once(source).received == 0
    assert _count(sources, "Jobs") == 0 and _count(sources, "JobsDlq") == 1
    dead = sqs.receive_message(QueueUrl=sources.stack.physical("JobsDlq"))["Messages"]
    assert [m["Body"] for m in dead] == ["fail"]


def test_a_crash_or_an_invalid_partial_response_fails_the_whole_batch(sources: EventSources) -> None:
    sqs = sources.stack.client("sqs")
    url = sources.stack.physical("Jobs")
    sqs.send_message(QueueUrl=url, MessageBody="ok")
    sqs.send_message(QueueUrl=url, MessageBody="invalid")
    outcome = sources.poll_once(_queue(sources, "Recorder"))
    assert outcome.received == 2 and outcome.deleted == [] and len(outcome.failed) == 2
    assert "whole batch" in (outcome.error or "")

    plain = sources.stack.physical("Plain")
    sqs.send_message(QueueUrl=plain, MessageBody="fail")  # no ReportBatchItemFailures: return is ignored
    sqs.send_message(QueueUrl=plain, MessageBody="fine")
    assert len(sources.poll_once(_queue(sources, "Other")).deleted) == 2
    sqs.send_message(QueueUrl=plain, MessageBody="boom")
    crashed = sources.poll_once(_queue(sources, "Other"))
    assert crashed.deleted == [] and crashed.error == "RuntimeError: boom"
    assert _count(sources, "Plain") == 1


def test_batches_are_capped_at_the_batch_size(sources: EventSources) -> None:
    sqs = sources.stack.client("sqs")
    for i in range(7):
        sqs.send_message(QueueUrl=sources.stack.physical("Jobs"), MessageBody=f"m{i}")
    source = _queue(sources, "Recorder")
    assert sources.poll_once(source).received == 5
    assert sources.poll_once(source).received == 2


def test_schedules_get_scheduler_and_rule_payloads(sources: EventSources) -> None:
    invocations = sources.run_schedules()
    assert [(i.function, i.ok) for i in invocations] == [("Recorder", True), ("Other", True)]
    out = Path(sources.stack.function("Recorder").env["OUT"]).read_text().splitlines()
    scheduler, rule = (json.loads(line)["event"] for line in out)
    assert scheduler["source"] == "aws.scheduler" and scheduler["detail-type"] == "Scheduled Event"
    assert scheduler["detail"] == "{}" and scheduler["region"] == "eu-west-2"
    assert re.fullmatch(r"arn:aws:scheduler:eu-west-2:123456789012:schedule/default/.+-Tick", scheduler["resources"][0])
    assert rule == {"job": "daily"}  # a schedule's Input is passed as is


def test_the_mailbox_lists_plain_templated_and_bulk_emails(sources: EventSources) -> None:
    ses = sources.stack.client("ses")
    ses.send_email(
        Source="sender@example.com",
        Destination={"ToAddresses": ["a@example.com"]},
        Message={
            "Subject": {"Data": "Confirm"},
            "Body": {
                "Text": {"Data": "Open http://127.0.0.1:3999/confirm.html?token=abc"},
                "Html": {"Data": '<p>Open <a href="http://127.0.0.1:3999/confirm.html?token=abc&amp;x=1">it</a></p>'},
            },
        },
    )
    ses.send_templated_email(
        Source="sender@example.com",
        Destination={"ToAddresses": ["b@example.com"]},
        Template="local-results",
        TemplateData=json.dumps({"name": "Bea", "link": "http://127.0.0.1:3999/results.html"}),
    )
    ses.send_bulk_templated_email(
        Source="sender@example.com",
        Template="local-results",
        DefaultTemplateData=json.dumps({"name": "friend", "link": "http://127.0.0.1:3999/results.html"}),
        Destinations=[
            {"Destination": {"ToAddresses": ["c@example.com"]}, "ReplacementTemplateData": '{"name": "Cy"}'},
            {"Destination": {"ToAddresses": ["d@example.com"]}},
        ],
    )
    mails = mailbox.messages()
    assert [(m.to, m.subject) for m in mails] == [
        (["a@example.com"], "Confirm"),
        (["b@example.com"], "Results for Bea"),
        (["c@example.com"], "Results for Cy"),
        (["d@example.com"], "Results for friend"),
    ]
    assert mails[0].links == ["http://127.0.0.1:3999/confirm.html?token=abc&x=1"]
    assert mails[1].text == "Dear Bea, see http://127.0.0.1:3999/results.html"
    assert mails[2].links == ["http://127.0.0.1:3999/results.html"] and mails[2].template == "local-results"
    page = mailbox.page(mails)
    assert '<a href="http://127.0.0.1:3999/confirm.html?token=abc&amp;x=1">' in page
    assert page.index("<h2>Results for friend") < page.index("<h2>Confirm")  # newest first (subjects)
    # Each email with an HTML part links to it (served under its own CSP by the local server).
    assert page.count("/_local/mailbox/") == sum(1 for m in mails if m.html) and mails[0].html
