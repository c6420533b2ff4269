"""The HTTP edge shared by every API function: the resolver, and errors → HTTP in one place."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel, ValidationError

from exam_results import errors, i18n
from exam_results.observability import logger

STATUS: dict[type[errors.DomainError], int] = {
    errors.FieldError: 422,
    errors.InvalidToken: 400,
    errors.InvalidCredentials: 401,
    errors.Unauthorized: 401,
    errors.CredentialsMismatch: 403,
    errors.EmailNotConfirmed: 403,
    errors.NotFound: 404,
    errors.AlreadyRegistered: 409,
    errors.TooManyAttempts: 429,
}

# Pydantic's own error types -> catalogue keys. The service's own rules (PydanticCustomError from
# ``api_models.invalid``) carry their key in the error's context; any other pydantic type is
# "not valid" in every language (pydantic's sentences are written for developers, in English).
_PYDANTIC_KEYS = {
    "missing": "field.required",
    "bool_type": "field.boolean",
    "bool_parsing": "field.boolean",
    "string_type": "field.text",
    "json_invalid": "field.json_invalid",
    "json_type": "field.json_invalid",
    "model_attributes_type": "field.json_object",
    "dict_type": "field.json_object",
    "model_type": "field.json_object",
    "string_too_long": "field.too_long",
    "string_too_short": "field.required",
}
INVALID = "field.invalid"

JSON = content_types.APPLICATION_JSON

_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def error_response(
    status: int,
    code: str,
    message: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    body: dict[str, Any] = {"code": code, "message": message, **(extra or {})}
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers={**_SECURITY_HEADERS, **(headers or {})},
    )


def request_language(app: APIGatewayRestResolver) -> str:
    """The language of the request being resolved: its ``Accept-Language``, else English."""
    try:
        event = app.current_event
    except AttributeError:  # no request being resolved
        return i18n.DEFAULT
    return i18n.negotiate(event.headers.get("accept-language"))


def say(lang: str, key: str, **values: Any) -> str:
    """The catalogue's sentence for ``key`` in ``lang``; a key no catalogue has (a bug the key
    test catches) is answered with the generic sentence rather than a 500."""
    if key not in i18n.catalogue(i18n.DEFAULT):
        logger.warning("message key missing from the catalogue", extra={"key": key})
        key = "error.error"
    return i18n.text(lang, key, **values)


def _field_message(lang: str, err: dict[str, Any], field: str) -> str:
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if field == "body" and kind == "missing":
        return say(lang, "field.json_object")
    keys = ctx.get("message_keys") if isinstance(ctx, dict) else None
    if isinstance(keys, list) and keys:
        values = {k: v for k, v in ctx.items() if k != "message_keys"}
        return " ".join(say(lang, str(key), **values) for key in keys)
    return say(lang, _PYDANTIC_KEYS.get(kind, INVALID))


def field_errors(raw: list[dict[str, Any]], lang: str = i18n.DEFAULT) -> list[dict[str, str]]:
    """Pydantic errors → the spec's ``[{field, message}]``, one per failing field, in ``lang``."""
    seen: dict[str, str] = {}
    for err in raw:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        field = loc[0] if loc and not loc[0].isdigit() else "body"
        if field not in seen:
            seen[field] = _field_message(lang, err, field)
    return [{"field": f, "message": m} for f, m in seen.items()]


def validation_response(errs: list[dict[str, str]], lang: str = i18n.DEFAULT) -> Response[str]:
    return error_response(422, "validation_error", say(lang, "error.validation_error"), {"errors": errs})


def _json_body(text: str) -> Any:
    """``json.loads`` whose every failure is a JSONDecodeError, which Powertools answers 422.

    Plain ``json.loads`` raises RecursionError on a body nested thousands of levels deep and
    ValueError on a number of more than 4,300 digits: bad input, never a 500.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as exc:
        raise json.JSONDecodeError(f"unacceptable JSON ({type(exc).__name__})", "", 0) from exc


def make_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=_json_body)

    def lang() -> str:
        return request_language(app)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response[str]:
        return error_response(415, "unsupported_media_type", say(lang(), "error.unsupported_media_type"))

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        language = lang()
        return validation_response(field_errors(list(exc.errors()), language), language)

    @app.exception_handler(errors.DomainError)
    def _domain(exc: errors.DomainError) -> Response[str]:
        language = lang()
        status = next(s for cls, s in STATUS.items() if isinstance(exc, cls))
        if isinstance(exc, errors.FieldError):
            return validation_response([{"field": f, "message": say(language, k)} for f, k in exc.errors], language)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, errors.TooManyAttempts) else {}
        return error_response(status, exc.code, say(language, exc.key), headers=headers)

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(exc: UnicodeDecodeError) -> Response[str]:
        # A body that is not UTF-8 reaches Lambda base64-encoded; Powertools decodes it as UTF-8.
        language = lang()
        return validation_response([{"field": "body", "message": say(language, "field.json_invalid")}], language)

    # A race lost too often, or AWS throttling past every retry: not the caller's fault, try again.
    @app.exception_handler([errors.ConcurrentUpdate, errors.ServiceUnavailable])
    def _busy(exc: errors.ConcurrentUpdate | errors.ServiceUnavailable) -> Response[str]:
        return error_response(503, "busy", say(lang(), "error.busy"), headers={"Retry-After": "1"})

    @app.not_found
    def _not_found(exc: Exception) -> Response[str]:
        return error_response(404, "route_not_found", say(lang(), "error.route_not_found"))

    return app


def parse_body[M: BaseModel](app: APIGatewayRestResolver, model: type[M]) -> M:
    """Validate the JSON body inside a route (for routes that must authenticate first)."""
    try:
        return model.model_validate_json(app.current_event.body or "")
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


def no_content() -> Response[str]:
    return Response(status_code=204, body="", headers=dict(_SECURITY_HEADERS))


def json_response(status: int, model: Any) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=model.model_dump_json(),
        headers=dict(_SECURITY_HEADERS),
    )


def binary_response(content: bytes, content_type: str, filename: str) -> Response[bytes]:
    """A file to save (``Content-Disposition: attachment``); Powertools base64-encodes the bytes
    and sets ``isBase64Encoded``, which API Gateway decodes for its binary media types."""
    return Response(
        status_code=200,
        content_type=content_type,
        body=content,
        headers={**_SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _json_only(event: dict[str, Any]) -> dict[str, Any]:
    """The API reads JSON bodies only: any other Content-Type is made one Powertools refuses (415).

    Left alone, Powertools parses form and multipart bodies, and raises ValueError (a 500) on a
    multipart Content-Type without a boundary.
    """
    headers = event.get("headers") or {}
    for key, value in headers.items():
        if key.lower() == "content-type" and value and not str(value).strip().lower().startswith(JSON):
            return {**event, "headers": {**headers, key: f"unsupported/{value}"}}
    return event


def handle(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve a request; an unexpected failure is logged and answered 500 in the spec's shape."""
    try:
        return app.resolve(_json_only(event), context)
    except Exception:
        logger.exception("unhandled error")
        headers = (event.get("headers") or {}) if isinstance(event, dict) else {}
        accept = next((str(v) for k, v in headers.items() if str(k).lower() == "accept-language"), None)
        message = say(i18n.negotiate(accept), "error.internal_error")
        response = error_response(500, "internal_error", message)
        return {
            "statusCode": 500,
            "headers": response.headers,
            "body": response.body,
            "isBase64Encoded": False,
        }
