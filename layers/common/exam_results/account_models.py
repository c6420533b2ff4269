"""Bodies of the candidate account routes (registration, log-in, profile, password reset, password
and email changes): the Register, Login and Account functions import them. Shared field types and bases are
``exam_results.api_models`` (no ``from __future__ import annotations``, as there).
"""

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from exam_results.api_models import (
    ApiModel,
    ApiRequest,
    EmailAddress,
    IdNumber,
    Language,
    NewPassword,
    SecretNumber,
    Token,
    invalid,
    language_schema,
)


def _must_match(value: str, info: ValidationInfo) -> str:
    if "password" in info.data and value != info.data["password"]:
        raise invalid("confirm_password", "field.confirm_password")
    return value


class RegistrationRequest(ApiRequest):
    id_number: IdNumber
    secret_number: SecretNumber
    email: EmailAddress
    password: NewPassword
    confirm_password: StrictStr
    accept_terms: StrictBool
    newsletter_opt_in: StrictBool = False
    language: Language = "en"

    _confirm = field_validator("confirm_password")(_must_match)

    @field_validator("accept_terms")
    @classmethod
    def _terms(cls, value: bool) -> bool:
        if value is not True:
            raise invalid("accept_terms", "field.accept_terms")
        return value


class RegistrationResponse(ApiModel):
    id_number: str
    email: str
    email_confirmed: bool


class TokenRequest(ApiRequest):
    token: Token


class ConfirmationResponse(ApiModel):
    id_number: str
    email_confirmed: bool


class IdNumberRequest(ApiRequest):
    id_number: IdNumber


class AcceptedResponse(ApiModel):
    message: str


class LoginRequest(ApiRequest):
    id_number: IdNumber
    password: Annotated[StrictStr, Field(min_length=1, max_length=4096)]


class LoginResponse(ApiModel):
    token: str
    expires_at: datetime


class ProfileResponse(ApiModel):
    id_number: str
    candidate_name: str
    email: str
    newsletter_opt_in: bool
    language: str


def _at_least_one_field(schema: dict[str, Any]) -> None:
    """The document says what the validator does: one field or more, neither ever null."""
    schema["minProperties"] = 1
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


class ProfileUpdate(ApiRequest):
    """``newsletter_opt_in`` and/or ``language``: at least one."""

    model_config = ConfigDict(json_schema_extra=_at_least_one_field)

    # Absent is None; an explicit null is refused like any other non-boolean (documented as such).
    newsletter_opt_in: Annotated[StrictBool | None, WithJsonSchema({"type": "boolean"})] = None
    language: Annotated[Language | None, WithJsonSchema(language_schema())] = None

    @field_validator("newsletter_opt_in", "language", mode="before")
    @classmethod
    def _not_null(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            if info.field_name == "newsletter_opt_in":
                raise invalid("bool_type", "field.boolean")
            raise invalid("string_type", "field.text")
        return value

    @model_validator(mode="after")
    def _something(self) -> "ProfileUpdate":
        if self.newsletter_opt_in is None and self.language is None:
            raise invalid("profile_update", "field.profile_update")
        return self


class PasswordResetConfirmation(ApiRequest):
    token: Token
    password: NewPassword
    confirm_password: StrictStr

    _confirm = field_validator("confirm_password")(_must_match)


class MessageResponse(ApiModel):
    message: str


# The password the account has now: checked against its hash, never against the policy (an
# account may predate a rule).
CurrentPassword = Annotated[StrictStr, Field(min_length=1, max_length=4096)]


class PasswordChange(ApiRequest):
    current_password: CurrentPassword
    password: NewPassword
    confirm_password: StrictStr

    _confirm = field_validator("confirm_password")(_must_match)


class EmailChange(ApiRequest):
    email: EmailAddress
    password: CurrentPassword


class EmailChangeResponse(ApiModel):
    email: str
