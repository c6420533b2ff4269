"""OpenAPI metadata of the routes' answers (``responses=`` of the route decorators).

Only documentation: every status code a route really answers, with its body model. The error
bodies are ``ErrorBody`` (``code``, ``message``, ``errors`` on 422); 429 and 503 carry
``Retry-After``. ``devtools/openapi.py`` builds ``docs/openapi.json`` from these.
"""

from __future__ import annotations

from typing import Any

from exam_results.api_models import ErrorBody

JSON = "application/json"

_RETRY_AFTER = {
    "Retry-After": {"description": "Whole seconds to wait before trying again.", "schema": {"type": "integer"}}
}


def ok(model: Any, description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"model": model}}}


def error(description: str, *codes: str, retry_after: bool = False) -> dict[str, Any]:
    text = description + (f" (`code`: {', '.join(f'`{c}`' for c in codes)})" if codes else "")
    response: dict[str, Any] = {"description": text, "content": {JSON: {"model": ErrorBody}}}
    if retry_after:
        response["headers"] = dict(_RETRY_AFTER)
    return response


def pdf(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        "headers": {
            "Content-Disposition": {
                "description": '`attachment; filename="statement-of-results-<session_id>.pdf"`',
                "schema": {"type": "string"},
            }
        },
    }


INVALID = error("A field is missing or not valid; `errors` has one item per field", "validation_error")
UNAUTHORIZED = error("Missing, malformed, expired or revoked session token", "unauthorized")
BUSY = error("Too many concurrent attempts for this ID Number: try again", "busy", retry_after=True)
INVALID_TOKEN = error("Unknown, used or expired token", "invalid_token")
UNSUPPORTED_MEDIA_TYPE = error("The body is not sent as JSON", "unsupported_media_type")
