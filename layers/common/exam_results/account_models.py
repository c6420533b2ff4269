"""Bodies of the candidate account routes (registration, log-in, profile, password reset): the
Register, Login and Account functions import them. Shared field types and bases are
``exam_results.api_models`` (no ``from __future__ import annotations``, as there).
"""

from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictBool, StrictStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from exam_results.api_models import ApiModel, ApiRequest, EmailAddress, IdNumber, NewPassword, SecretNumber, Token


def _must_match(value: str, info: ValidationInfo) -> str:
    if "password" in info.data and value != info.data["password"]:
        raise PydanticCustomError("confirm_password", "The two passwords do not match.")
    return value


class RegistrationRequest(ApiRequest):
    id_number: IdNumber
    secret_number: SecretNumber
    email: EmailAddress
    password: NewPassword
    confirm_password: StrictStr
    accept_terms: StrictBool
    newsletter_opt_in: StrictBool = False

    _confirm = field_validator("confirm_password")(_must_match)

    @field_validator("accept_terms")
    @classmethod
    def _terms(cls, value: bool) -> bool:
        if value is not True:
            raise PydanticCustomError("accept_terms", "You must accept the terms to register.")
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


class ProfileUpdate(ApiRequest):
    newsletter_opt_in: StrictBool


class PasswordResetConfirmation(ApiRequest):
    token: Token
    password: NewPassword
    confirm_password: StrictStr

    _confirm = field_validator("confirm_password")(_must_match)


class MessageResponse(ApiModel):
    message: str
