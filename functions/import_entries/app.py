"""S3 ObjectCreated events for ``entries/*.csv``: validate the file, store its sessions and
entries (all or nothing; Secret Numbers only as hashes) and write ``reports/<key>.json``.

A bad file is a rejected report, never an error. Anything else (throttling, a session
released while the file was imported) raises, so that Lambda retries the event and finally
sends it to the failure queue.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from exam_results.observability import logger, metrics
from exam_results.s3_events import process_uploads
from exam_results.usecases.entries_import import import_entries
from exam_results.wiring import deps


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_uploads(deps(), event, import_entries)
