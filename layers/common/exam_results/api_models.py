"""Request and response bodies of the HTTP API (pydantic), with the input rules they enforce."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_serializer,
)
from pydantic_core import PydanticCustomError

from exam_results import passwords
from exam_results.credentials import ID_NUMBER_RE, SECRET_NUMBER_RE, normalise_id

_EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f.]{2,}$")


def _id_number(value: str) -> str:
    value = value.strip()
    if not ID_NUMBER_RE.match(value):
        raise PydanticCustomError(
            "id_number", "Enter the ID Number from your Confirmation of Entry (6 to 12 letters or digits)."
        )
    return normalise_id(value)


def _secret_number(value: str) -> str:
    value = value.strip()
    if not SECRET_NUMBER_RE.match(value):
        raise PydanticCustomError(
            "secret_number", "Enter the Secret Number from your Confirmation of Entry (4 to 8 digits)."
        )
    return value


def _email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL_RE.match(value):
        raise PydanticCustomError("email", "Enter a valid email address, like name@example.com.")
    return value


def _new_password(value: str) -> str:
    problems = passwords.policy_problems(value)
    if problems:
        raise PydanticCustomError("password_policy", " ".join(problems))
    return value


def _token(value: str) -> str:
    if not value or len(value) > 512:
        raise PydanticCustomError("token", "Enter the token from the link in your email.")
    return value


IdNumber = Annotated[StrictStr, Field(max_length=64), AfterValidator(_id_number)]
SecretNumber = Annotated[StrictStr, Field(max_length=64), AfterValidator(_secret_number)]
EmailAddress = Annotated[StrictStr, Field(max_length=320), AfterValidator(_email)]
NewPassword = Annotated[StrictStr, Field(max_length=4096), AfterValidator(_new_password)]
Token = Annotated[StrictStr, AfterValidator(_token)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


def _must_match(value: str, info: ValidationInfo) -> str:
    if "password" in info.data and value != info.data["password"]:
        raise PydanticCustomError("confirm_password", "The two passwords do not match.")
    return value


class RegistrationRequest(_Request):
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


class RegistrationResponse(BaseModel):
    id_number: str
    email: str
    email_confirmed: bool


class TokenRequest(_Request):
    token: Token


class ConfirmationResponse(BaseModel):
    id_number: str
    email_confirmed: bool


class IdNumberRequest(_Request):
    id_number: IdNumber


class AcceptedResponse(BaseModel):
    message: str


class LoginRequest(_Request):
    id_number: IdNumber
    password: Annotated[StrictStr, Field(min_length=1, max_length=4096)]


class LoginResponse(BaseModel):
    token: str
    expires_at: datetime


class ProfileResponse(BaseModel):
    id_number: str
    candidate_name: str
    email: str
    newsletter_opt_in: bool


class ProfileUpdate(_Request):
    newsletter_opt_in: StrictBool


class PasswordResetConfirmation(_Request):
    token: Token
    password: NewPassword
    confirm_password: StrictStr

    _confirm = field_validator("confirm_password")(_must_match)


class MessageResponse(BaseModel):
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    errors: list[dict[str, Any]] | None = None


# -- results and verification --


class ExamRef(BaseModel):
    code: str
    name: str


class Statement(BaseModel):
    overall_score: int
    grade: str
    cefr_level: str | None
    skills: dict[str, int]


class Certificate(BaseModel):
    expected_at_centre_by: date


class Centre(BaseModel):
    number: str
    name: str


class ResultItem(BaseModel):
    session_id: str
    exam: ExamRef
    exam_date: date
    format: str
    results_available_by: datetime
    status: Literal["pending", "released", "overdue"]
    statement: Statement | None = None
    certificate: Certificate | None = None
    centre: Centre

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Before release an item has no statement or certificate keys at all."""
        data: dict[str, Any] = handler(self)
        for key in ("statement", "certificate"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class ResultsResponse(BaseModel):
    results: list[ResultItem]


class VerificationRequest(_Request):
    id_number: IdNumber
    secret_number: SecretNumber


class VerificationResponse(BaseModel):
    candidate_name: str
    exam: ExamRef
    exam_date: date
    overall_score: int
    grade: str
    cefr_level: str | None
    skills: dict[str, int]
