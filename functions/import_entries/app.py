"""S3 ObjectCreated events for ``entries/*.csv``: validate the file, store its sessions and
entries (all or nothing; Secret Numbers only as hashes) and write ``reports/<key>.json``.

A bad file is a rejected report, never an error. Anything else (throttling, a session
released while the file was imported) raises, so that Lambda retries the event and finally
sends it to the failure queue.
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
        report = uploads.import_entries(
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
