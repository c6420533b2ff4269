"""S3 ObjectCreated events for ``releases/*.csv``: check the file and set the release time of
its sessions (all or nothing), then write ``reports/<key>.json`` (SPEC §6, "Faster results").

A bad file is a rejected report, never an error. Anything else (throttling, a session released
while the file was applied) raises, so that Lambda retries the event and finally sends it to
the failure queue.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from exam_results.observability import logger, metrics
from exam_results.s3_events import process_uploads
from exam_results.usecases.release_requests import set_release_times
from exam_results.wiring import deps


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_uploads(deps(), event, set_release_times)
