"""Event payloads as AWS delivers them to Lambda: S3 notifications, SQS batches, schedules.

Only the shapes live here (pure functions, no AWS calls), so they are easy to read against the
AWS documentation and to test.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from devtools.harness.stack import ACCOUNT

_SEQUENCER = itertools.count(int(time.time() * 1000) << 16)
_SEQ_LOCK = threading.Lock()


def _iso_millis(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def encode_s3_key(key: str) -> str:
    """S3 notifications carry the key form-encoded (a space is ``+``, ``/`` is kept)."""
    return quote_plus(key, safe="/")


def next_sequencer() -> str:
    """Upper-case hex, increasing for successive events (how S3 orders events for one key)."""
    with _SEQ_LOCK:
        return f"{next(_SEQUENCER):016X}"


def s3_object_created(
    *,
    bucket: str,
    key: str,
    size: int,
    etag: str,
    region: str,
    version_id: str | None = None,
    event_name: str = "ObjectCreated:Put",
    configuration_id: str = "local",
    source_ip: str = "127.0.0.1",
    now: datetime | None = None,
) -> dict[str, Any]:
    """One S3 event notification (``s3SchemaVersion`` 1.0, ``eventVersion`` 2.1) for one object."""
    obj: dict[str, Any] = {
        "key": encode_s3_key(key),
        "size": size,
        "eTag": etag.strip('"'),
        "sequencer": next_sequencer(),
    }
    if version_id and version_id != "null":
        obj["versionId"] = version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": _iso_millis(now or datetime.now(UTC)),
                "eventName": event_name,
                "userIdentity": {"principalId": f"AWS:{ACCOUNT}"},
                "requestParameters": {"sourceIPAddress": source_ip},
                "responseElements": {
                    "x-amz-request-id": secrets.token_hex(8).upper(),
                    "x-amz-id-2": secrets.token_urlsafe(48),
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": configuration_id,
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": ACCOUNT},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": obj,
                },
            }
        ]
    }


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS API attribute (``StringValue``) → Lambda event attribute (``stringValue``)."""
    out: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        import base64

        raw = value["BinaryValue"]
        out["binaryValue"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
    return out


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A message from ``ReceiveMessage`` as one record of a Lambda SQS event."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [sqs_record(m, queue_arn, region) for m in messages]}


def _scheduler_context(text: str, schedule_arn: str, when: datetime, attempt: int = 1) -> str:
    """EventBridge Scheduler's context attributes in a schedule's ``Input``."""
    return (
        text.replace("<aws.scheduler.schedule-arn>", schedule_arn)
        .replace("<aws.scheduler.scheduled-time>", when.strftime("%Y-%m-%dT%H:%M:%SZ"))
        .replace("<aws.scheduler.execution-id>", secrets.token_hex(8))
        .replace("<aws.scheduler.attempt-number>", str(attempt))
    )


def scheduler_event(
    *,
    schedule_name: str,
    region: str,
    input_text: str | None = None,
    group: str = "default",
    now: datetime | None = None,
) -> Any:
    """What EventBridge Scheduler (SAM ``ScheduleV2``) passes to a Lambda target.

    With ``Input`` set the target receives that JSON (context attributes filled in); without it,
    Scheduler's default notification.
    """
    when = (now or datetime.now(UTC)).replace(microsecond=0)
    arn = f"arn:aws:scheduler:{region}:{ACCOUNT}:schedule/{group}/{schedule_name}"
    if input_text:
        return json.loads(_scheduler_context(input_text, arn, when))
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": ACCOUNT,
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [arn],
        "detail": "{}",
    }


def events_rule_event(
    *, rule_name: str, region: str, input_text: str | None = None, now: datetime | None = None
) -> Any:
    """What an EventBridge scheduled rule (SAM ``Schedule``) passes to a Lambda target."""
    if input_text:
        return json.loads(input_text)
    when = (now or datetime.now(UTC)).replace(microsecond=0)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }
