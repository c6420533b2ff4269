"""The S3 edge shared by the upload functions: ObjectCreated records → one use-case call each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from exam_results.csvfiles import Report
from exam_results.observability import logger
from exam_results.wiring import Deps

UploadUseCase = Callable[[Deps, str, str, str | None, str], Report | None]


def process_uploads(deps: Deps, event: dict[str, Any], use_case: UploadUseCase) -> dict[str, Any]:
    """Run ``use_case`` for every object an S3 event names (keys arrive URL-encoded).

    A bad file is a rejected report, never an exception; anything else raises, so that Lambda
    retries the event and finally parks it in the failure queue.
    """
    processed = []
    for record in event.get("Records", []):
        if record.get("eventSource") != "aws:s3" or not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            logger.warning("not an S3 ObjectCreated record", extra={"event_name": record.get("eventName")})
            continue
        s3 = record["s3"]
        key = unquote_plus(s3["object"]["key"])
        report = use_case(deps, s3["bucket"]["name"], key, s3["object"].get("versionId"), s3["object"].get("eTag", ""))
        processed.append(
            {"key": key, "status": report.status if report else "skipped", "stored": report.stored if report else 0}
        )
    return {"processed": processed}
