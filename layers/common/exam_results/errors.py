"""Typed domain errors. HTTP status codes are assigned in one place: ``exam_results.http``.

An error names its sentence by catalogue key (``error.<code>`` unless it is given another), never
by text: ``http`` says it in the language of the request (``Accept-Language``). ``message`` is
the English sentence, for logs and for code that has no request.
"""

from __future__ import annotations


class DomainError(Exception):
    """An expected outcome that the API answers with a 4xx and a machine code."""

    code = "error"

    def __init__(self, key: str | None = None) -> None:
        self.key = key or f"error.{self.code}"
        super().__init__(self.key)

    @property
    def message(self) -> str:
        from exam_results import i18n

        return i18n.text("en", self.key)


class FieldError(DomainError):
    """Input that fails a rule the schema cannot express: ``(field, catalogue key)`` pairs."""

    code = "validation_error"

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__()
        self.errors = errors


class CredentialsMismatch(DomainError):
    code = "credentials_mismatch"


class AlreadyRegistered(DomainError):
    code = "already_registered"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = max(1, int(retry_after))


class Locked(TooManyAttempts):
    code = "locked"


class InvalidToken(DomainError):
    code = "invalid_token"


class InvalidCredentials(DomainError):
    code = "invalid_credentials"


class EmailNotConfirmed(DomainError):
    code = "email_not_confirmed"


class Unauthorized(DomainError):
    code = "unauthorized"


class NotFound(DomainError):
    code = "not_found"


class ConcurrentUpdate(Exception):
    """A conditional write lost a race more times than it is worth retrying (a 5xx: retry)."""


class EmailNotSent(Exception):
    """SES refused or failed a send (its error code, never the address): the caller decides
    whether the request fails (a 5xx, or a queue message retried) or stands."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class ServiceUnavailable(Exception):
    """AWS kept failing past the SDK's retries and ours (a sustained throttle, an outage, items a
    batch call kept leaving unprocessed): not the caller's fault, so a 5xx, a ``failed`` report or
    a redelivery — the work is done again later. ``code`` is AWS's error code (or
    ``UnprocessedItems``/``UnprocessedKeys``)."""

    def __init__(self, operation: str, code: str) -> None:
        super().__init__(f"{operation}: {code}")
        self.operation = operation
        self.code = code
