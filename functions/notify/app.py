"""The notification queue's handler: one "results available" bulk send per SQS message.

Partial batch responses (``ReportBatchItemFailures``): a message whose candidates were not all
emailed is reported failed and comes back after the visibility timeout; the others are deleted.
After ``maxReceiveCount`` receives SQS moves a failing message to the DLQ (see
``docs/notifications.md`` to replay it).
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from exam_results.notifications import NotificationBatch
from exam_results.observability import logger, metrics
from exam_results.usecases import notify
from exam_results.wiring import deps

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> dict[str, Any]:
    batch = NotificationBatch.model_validate_json(record.body)
    receives = record.attributes.approximate_receive_count
    report = notify.deliver(
        deps(),
        batch,
        remaining_ms=lambda_context.get_remaining_time_in_millis,
    )
    logger.info(
        "notification batch",
        extra={
            "message_id": record.message_id,
            "receive_count": receives,
            "session_id": report.session_id,
            "requested": report.requested,
            "sent": report.sent,
            "already_notified": report.already_notified,
            "no_result": report.no_result,
            "no_account": report.no_account,
            "unconfirmed": report.unconfirmed,
            "ses_calls": report.ses_calls,
        },
    )
    return {"sent": report.sent}


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
