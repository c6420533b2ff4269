"""Request and response bodies of the HTTP API (pydantic), with the input rules they enforce:
the field types and bases every body shares, and the error body. The bodies of the account
routes are ``exam_results.account_models``, those of the results routes
``exam_results.result_models``: a function imports only its own.

A model is built (its validator and serializer made) on first use, not at import
(``defer_build``): a function imports a few models and a request uses two or three. No
``from __future__ import annotations`` here: pydantic would evaluate every annotation string
again at import.
"""

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from exam_results.credentials import ID_NUMBER_RE, SECRET_NUMBER_RE, normalise_id


def invalid(kind: str, *keys: str, **values: Any) -> PydanticCustomError:
    """A validation error worded by the catalogue: ``keys`` (sentences joined by a space) are
    said in the request's language by ``http.field_errors``; the error's own ``msg`` is the
    English sentence, for anything that reads pydantic's errors directly."""
    from exam_results import i18n

    english = " ".join(i18n.text("en", key, **values) for key in keys)
    return PydanticCustomError(kind, english, {"message_keys": list(keys), **values})


_EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f.]{2,}$")


def _id_number(value: str) -> str:
    value = value.strip()
    if not ID_NUMBER_RE.match(value):
        raise invalid("id_number", "field.id_number")
    return normalise_id(value)


def _secret_number(value: str) -> str:
    value = value.strip()
    if not SECRET_NUMBER_RE.match(value):
        raise invalid("secret_number", "field.secret_number")
    return value


def _email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL_RE.match(value):
        raise invalid("email", "field.email")
    return value


def _new_password(value: str) -> str:
    from exam_results import passwords  # argon2 with it: only the routes that set a password

    problems = passwords.policy_problems(value)
    if problems:
        raise invalid("password_policy", *problems, min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH)
    return value


def _language(value: str) -> str:
    from exam_results import i18n

    if value not in i18n.languages():
        raise invalid("language", "field.language", offered=", ".join(i18n.languages()))
    return value


def language_schema() -> dict[str, Any]:
    from exam_results import i18n

    return {"type": "string", "enum": list(i18n.languages()), "description": "A language with a catalogue."}


def _token(value: str) -> str:
    if not value or len(value) > 512:
        raise invalid("token", "field.token")
    return value


IdNumber = Annotated[StrictStr, Field(max_length=64), AfterValidator(_id_number)]
SecretNumber = Annotated[StrictStr, Field(max_length=64), AfterValidator(_secret_number)]
EmailAddress = Annotated[StrictStr, Field(max_length=320), AfterValidator(_email)]
NewPassword = Annotated[StrictStr, Field(max_length=4096), AfterValidator(_new_password)]
Token = Annotated[StrictStr, AfterValidator(_token)]
# One of the languages with a catalogue (``exam_results.i18n``): a new file, a new language.
Language = Annotated[StrictStr, Field(max_length=16), AfterValidator(_language), WithJsonSchema(language_schema())]


class ApiModel(BaseModel):
    model_config = ConfigDict(defer_build=True)


class ApiRequest(ApiModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class ErrorBody(ApiModel):
    code: str
    message: str
    errors: list[dict[str, Any]] | None = None
