"""S3 ObjectCreated events for ``results/*.csv``: validate the file, store its results (all or
nothing), write ``reports/<key>.json`` and queue late results for notification.

A bad file is a rejected report, never an error. Anything else (throttling, a queue that is not
there) raises, so that Lambda retries the event and finally sends it to the failure queue.
"""

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.typing import LambdaContext

from exam_results.observability import logger, metrics
from exam_results.usecases import uploads
from exam_results.wiring import deps


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    processed = []
    for record in event.get("Records", []):
        if record.get("eventSource") != "aws:s3" or not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            logger.warning("not an S3 ObjectCreated record", extra={"event_name": record.get("eventName")})
            continue
        s3 = record["s3"]
        key = unquote_plus(s3["object"]["key"])
        report = uploads.publish_results(
            deps(),
            s3["bucket"]["name"],
            key,
            s3["object"].get("versionId"),
            s3["object"].get("eTag", ""),
        )
        processed.append(
            {"key": key, "status": report.status if report else "skipped", "stored": report.stored if report else 0}
        )
    return {"processed": processed}
