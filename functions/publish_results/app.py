"""S3 ObjectCreated events for ``results/*.csv``: validate the file, store its results (all or
nothing), write ``reports/<key>.json`` and queue late results for notification.

A bad file is a rejected report, never an error. Anything else (throttling, a queue that is not
there) raises, so that Lambda retries the event and finally sends it to the failure queue.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from exam_results.observability import logger, metrics
from exam_results.s3_events import process_uploads
from exam_results.usecases.results_publication import publish_results
from exam_results.wiring import deps


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_uploads(deps(), event, publish_results)
