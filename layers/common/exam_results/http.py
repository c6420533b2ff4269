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

from exam_results import errors
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

_FRIENDLY = {
    "missing": "This field is required.",
    "bool_type": "Must be true or false.",
    "string_type": "Must be text.",
    "json_invalid": "The request body must be valid JSON.",
    "model_attributes_type": "The request body must be a JSON object.",
    "dict_type": "The request body must be a JSON object.",
    "model_type": "The request body must be a JSON object.",
    "string_too_long": "This value is too long.",
    "string_too_short": "This field is required.",
}

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


def field_errors(raw: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Pydantic errors → the spec's ``[{field, message}]``, one per failing field."""
    seen: dict[str, str] = {}
    for err in raw:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        field = loc[0] if loc and not loc[0].isdigit() else "body"
        kind = str(err.get("type", ""))
        message = _FRIENDLY.get(kind) if kind in _FRIENDLY else str(err.get("msg", "Not valid."))
        if field == "body" and kind == "missing":
            message = "The request body must be a JSON object."
        seen.setdefault(field, message or "Not valid.")
    return [{"field": f, "message": m} for f, m in seen.items()]


def validation_response(errs: list[dict[str, str]]) -> Response[str]:
    return error_response(422, "validation_error", "Some fields are not valid: see errors.", {"errors": errs})


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

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response[str]:
        return error_response(
            415, "unsupported_media_type", "Send the request body as JSON (Content-Type: application/json)."
        )

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        return validation_response(field_errors(list(exc.errors())))

    @app.exception_handler(errors.DomainError)
    def _domain(exc: errors.DomainError) -> Response[str]:
        status = next(s for cls, s in STATUS.items() if isinstance(exc, cls))
        if isinstance(exc, errors.FieldError):
            return validation_response([{"field": f, "message": m} for f, m in exc.errors])
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, errors.TooManyAttempts) else {}
        return error_response(status, exc.code, exc.message, headers=headers)

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(exc: UnicodeDecodeError) -> Response[str]:
        # A body that is not UTF-8 reaches Lambda base64-encoded; Powertools decodes it as UTF-8.
        return validation_response([{"field": "body", "message": "The request body must be valid JSON."}])

    @app.exception_handler(errors.ConcurrentUpdate)
    def _busy(exc: errors.ConcurrentUpdate) -> Response[str]:
        return error_response(503, "busy", "The service is busy. Please try again.", headers={"Retry-After": "1"})

    @app.not_found
    def _not_found(exc: Exception) -> Response[str]:
        return error_response(404, "route_not_found", "There is no such route.")

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
        response = error_response(500, "internal_error", "Something went wrong. Please try again.")
        return {
            "statusCode": 500,
            "headers": response.headers,
            "body": response.body,
            "isBase64Encoded": False,
        }
