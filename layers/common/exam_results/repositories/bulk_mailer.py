"""Templated bulk email through SES v1 ``SendBulkTemplatedEmail`` (50 destinations a call).

The template lives in SES (declared in ``template.yaml`` as ``AWS::SES::Template``); each
destination carries its own replacement data. SES answers one status per destination, in the
order they were given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from botocore.exceptions import ClientError

from exam_results.errors import EmailNotSent
from exam_results.repositories.aws import client, error_code

MAX_DESTINATIONS = 50

TRANSIENT_ERRORS = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
    }
)
"""Whole-call SES errors worth retrying at once (the email was not sent)."""

TRANSIENT_STATUSES = frozenset({"AccountThrottled", "TransientFailure", "Failed"})
"""Per-destination statuses worth retrying at once; any other is left to SQS and the DLQ."""


class SendRefused(EmailNotSent):
    """SES refused the whole bulk call: no email of it was sent. ``code`` is SES's error code."""

    @property
    def transient(self) -> bool:
        """Throttling or a passing fault: worth sending again at once (else SQS and the DLQ)."""
        return self.code in TRANSIENT_ERRORS


class BulkDestination(NamedTuple):
    to: str
    data: Mapping[str, str]


class DestinationStatus(NamedTuple):
    to: str
    status: str  # "Success" or an SES error code (MessageRejected, AccountThrottled, ...)
    message_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "Success"

    @property
    def transient(self) -> bool:
        return self.status in TRANSIENT_STATUSES


class BulkMailer:
    def __init__(self, sender: str, template: str, configuration_set: str = "") -> None:
        self.sender = sender
        self.template = template
        self.configuration_set = configuration_set

    def send(self, destinations: Sequence[BulkDestination], default_data: Mapping[str, str]) -> list[DestinationStatus]:
        """One ``SendBulkTemplatedEmail`` call; raises ``SendRefused`` if SES refuses it whole."""
        if not destinations:
            return []
        if len(destinations) > MAX_DESTINATIONS:
            raise ValueError(f"at most {MAX_DESTINATIONS} destinations a call")
        kwargs: dict[str, str] = {}
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        try:
            response = client("ses").send_bulk_templated_email(
                Source=self.sender,
                Template=self.template,
                DefaultTemplateData=json.dumps(dict(default_data)),
                Destinations=[
                    {
                        "Destination": {"ToAddresses": [d.to]},
                        "ReplacementTemplateData": json.dumps(dict(d.data)),
                    }
                    for d in destinations
                ],
                **kwargs,
            )
        except ClientError as exc:
            raise SendRefused(error_code(exc) or "ClientError") from exc
        statuses = response.get("Status", [])
        out: list[DestinationStatus] = []
        for index, destination in enumerate(destinations):
            status = statuses[index] if index < len(statuses) else {"Status": "Failed", "Error": "no status"}
            out.append(
                DestinationStatus(
                    to=destination.to,
                    # SES always answers a Status; an emulator may answer only the MessageId.
                    status=str(status.get("Status") or ("Success" if status.get("MessageId") else "Failed")),
                    message_id=status.get("MessageId"),
                    error=status.get("Error"),
                )
            )
        return out
