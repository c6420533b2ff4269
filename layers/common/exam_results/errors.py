"""Typed domain errors. HTTP status codes are assigned in one place: ``exam_results.http``."""

from __future__ import annotations


class DomainError(Exception):
    """An expected outcome that the API answers with a 4xx and a machine code."""

    code = "error"
    message = "The request could not be completed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message


class FieldError(DomainError):
    """Input that fails a rule the schema cannot express (for example the password policy)."""

    code = "validation_error"
    message = "Some fields are not valid."

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__()
        self.errors = errors


class CredentialsMismatch(DomainError):
    code = "credentials_mismatch"
    message = "The ID Number and Secret Number do not match our records."


class AlreadyRegistered(DomainError):
    code = "already_registered"
    message = "An account already exists for this ID Number. Log in or reset your password."


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    message = "Too many attempts. Please try again later."

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = max(1, int(retry_after))


class Locked(TooManyAttempts):
    code = "locked"
    message = "You entered the wrong password too many times. You will not be able to log on for 30 minutes."


class InvalidToken(DomainError):
    code = "invalid_token"
    message = "This link is not valid: it may have been used already or have expired."


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    message = "The ID Number or password is not correct."


class EmailNotConfirmed(DomainError):
    code = "email_not_confirmed"
    message = "Please confirm your email address first: follow the link in the email we sent."


class Unauthorized(DomainError):
    code = "unauthorized"
    message = "Please log in."


class NotFound(DomainError):
    code = "not_found"
    message = "No released result matches these details."


class ConcurrentUpdate(Exception):
    """A conditional write lost a race more times than it is worth retrying (a 5xx: retry)."""
