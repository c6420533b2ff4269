"""The schedule's handler (EventBridge Scheduler, every 5 minutes): release and fan out.

The event is the schedule's ``Input`` (its context attributes filled in by Scheduler); nothing
in it is needed: the clock and the table decide what is due. Work that does not fit before the
Lambda deadline is resumed by the next run (a cursor on the session).
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from exam_results.observability import logger, metrics
from exam_results.usecases import release
from exam_results.wiring import deps


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, dict):
        logger.append_keys(
            scheduled_time=event.get("scheduled_time") or event.get("time"),
            attempt=event.get("attempt"),
        )
    report = release.run(
        deps(),
        remaining_ms=context.get_remaining_time_in_millis,
        owner=context.aws_request_id,
    )
    logger.info(
        "release run",
        extra={
            "released": len(report.released),
            "fanouts": len(report.fanouts),
            "stopped_for_deadline": report.stopped_for_deadline,
        },
    )
    return report.as_dict()
