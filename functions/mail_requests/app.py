"""The mail request queue's handler: one email asked for by ID Number per SQS message.

Partial batch responses (``ReportBatchItemFailures``): a message whose email SES refused is
reported failed and comes back after the visibility timeout; after ``maxReceiveCount`` receives
SQS moves it to the DLQ (``docs/notifications.md``, "Mail requests", to replay it). The ID is
logged with the outcome, never the address (the use case masks it).
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from exam_results.mail_requests import MailRequest
from exam_results.observability import logger, metrics
from exam_results.usecases import mail_requests
from exam_results.wiring import deps

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    request = MailRequest.model_validate_json(record.body)
    outcome = mail_requests.deliver(deps(), request)
    logger.info(
        "mail request",
        extra={
            "message_id": record.message_id,
            "receive_count": record.attributes.approximate_receive_count,
            "kind": request.kind,
            "outcome": outcome,
        },
    )
    return outcome


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
