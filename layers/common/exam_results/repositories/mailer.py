"""Email through SES (v1 API: moto implements it, and it has bulk templated sends)."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from exam_results.errors import EmailNotSent
from exam_results.repositories.aws import client, error_code


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str


class Mailer:
    def __init__(self, sender: str, configuration_set: str = "") -> None:
        self.sender = sender
        self.configuration_set = configuration_set

    def send(self, email: Email) -> str:
        """The message id; a refusal or failure (after the SDK's retries) → EmailNotSent."""
        kwargs = {}
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        try:
            response = client("ses").send_email(
                Source=self.sender,
                Destination={"ToAddresses": [email.to]},
                Message={
                    "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": email.text, "Charset": "UTF-8"},
                        "Html": {"Data": email.html, "Charset": "UTF-8"},
                    },
                },
                **kwargs,
            )
        except ClientError as exc:
            raise EmailNotSent(error_code(exc)) from exc
        return str(response["MessageId"])
