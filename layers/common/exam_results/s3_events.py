"""The S3 edge shared by the upload functions: ObjectCreated records → one use-case call each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes.s3_event import S3Event

from exam_results.files.report import Report
from exam_results.observability import logger
from exam_results.wiring import Deps

UploadUseCase = Callable[[Deps, str, str, str | None, str], Report | None]


def process_uploads(deps: Deps, event: dict[str, Any], use_case: UploadUseCase) -> dict[str, Any]:
    """Run ``use_case`` for every object an S3 event names (keys arrive URL-encoded).

    A bad file is a rejected report, never an exception; anything else raises, so that Lambda
    retries the event and finally parks it in the failure queue.
    """
    s3_event = S3Event(event)
    processed = []
    # S3's own s3:TestEvent (sent when a notification is configured) has no Records.
    for record in s3_event.records if "Records" in s3_event else ():
        if record.event_source != "aws:s3" or not record.event_name.startswith("ObjectCreated:"):
            logger.warning("not an S3 ObjectCreated record", extra={"event_name": record.get("eventName")})
            continue
        obj = record.s3.get_object
        key = unquote_plus(obj.key)
        report = use_case(deps, record.s3.bucket.name, key, obj.version_id, obj.etag)
        processed.append(
            {"key": key, "status": report.status if report else "skipped", "stored": report.stored if report else 0}
        )
    return {"processed": processed}
