"""The candidate's own account: GET, PATCH and DELETE /me, password and email changes."""

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from exam_results import api_docs as docs
from exam_results.account_models import (
    AcceptedResponse,
    EmailChange,
    EmailChangeResponse,
    PasswordChange,
    ProfileResponse,
    ProfileUpdate,
    TokenRequest,
)
from exam_results.http import handle, json_response, make_resolver, no_content, parse_body
from exam_results.lazy import lazy
from exam_results.observability import logger, metrics
from exam_results.snapstart import register as register_snapstart_hooks
from exam_results.wiring import deps

if TYPE_CHECKING:
    from exam_results.usecases import accounts, identity
else:  # each imported by the first request that needs it (docs/performance.md, "Cold start")
    accounts = lazy("exam_results.usecases.accounts")
    identity = lazy("exam_results.usecases.identity")

app = make_resolver()


def _principal() -> "identity.Principal":
    return identity.authenticate(deps(), app.current_event.headers.get("Authorization"))


@app.get(
    "/me",
    summary="The candidate's profile",
    tags=["Account"],
    responses={200: docs.ok(ProfileResponse, "The profile"), 401: docs.UNAUTHORIZED},
)
def get_me() -> Response[str]:
    return json_response(200, accounts.get_profile(deps(), _principal()))


@app.patch(
    "/me",
    summary="Change the newsletter choice and/or the language",
    tags=["Account"],
    responses={200: docs.ok(ProfileResponse, "The updated profile"), 401: docs.UNAUTHORIZED, 422: docs.INVALID},
    # The body is parsed inside the route (401 before 422): devtools/openapi.py documents it.
    openapi_extensions={"x-request-body-model": "ProfileUpdate"},
)
def patch_me() -> Response[str]:
    principal = _principal()  # an unauthenticated request is 401 whatever its body
    body = parse_body(app, ProfileUpdate)
    return json_response(200, accounts.update_profile(deps(), principal, body))


@app.delete(
    "/me",
    summary="Erase the account",
    tags=["Account"],
    responses={204: {"description": "Account erased"}, 401: docs.UNAUTHORIZED},
)
def delete_me() -> Response[str]:
    accounts.erase_account(deps(), _principal())
    return no_content()


WRONG_PASSWORD = docs.error(
    "Missing, malformed, expired or revoked session token; or a wrong password (counted like a wrong login)",
    "unauthorized",
    "invalid_credentials",
)
LOCKED = docs.error("Locked after too many wrong passwords", "locked", retry_after=True)
EMAIL_CHANGE_ACCEPTED = "We have sent a link to the new address. Your email address changes when you use it."


@app.post(
    "/me/password",
    summary="Change the password (every other session ends)",
    tags=["Account"],
    responses={
        204: {"description": "Changed; this session stays"},
        401: WRONG_PASSWORD,
        422: docs.INVALID,
        429: LOCKED,
    },
    openapi_extensions={"x-request-body-model": "PasswordChange"},
)
def change_password() -> Response[str]:
    principal = _principal()
    body = parse_body(app, PasswordChange)
    accounts.change_password(deps(), principal, body)
    return no_content()


@app.post(
    "/me/email",
    summary="Ask to change the email address (a link goes to the new one)",
    tags=["Account"],
    responses={
        202: docs.ok(AcceptedResponse, "Link sent to the new address, notice to the old; nothing changed yet"),
        401: WRONG_PASSWORD,
        422: docs.INVALID,
        429: docs.error(
            "Locked after too many wrong passwords, or over 3 requests an hour",
            "locked",
            "too_many_attempts",
            retry_after=True,
        ),
    },
    openapi_extensions={"x-request-body-model": "EmailChange"},
)
def change_email() -> Response[str]:
    principal = _principal()
    body = parse_body(app, EmailChange)
    accounts.request_email_change(deps(), principal, body)
    return json_response(202, AcceptedResponse(message=EMAIL_CHANGE_ACCEPTED))


@app.post(
    "/me/email/confirmations",
    summary="Use the link sent to the new address: it becomes the account's (every session ends)",
    tags=["Account"],
    responses={
        200: docs.ok(EmailChangeResponse, "The account's email now"),
        400: docs.INVALID_TOKEN,
        422: docs.INVALID,
    },
)
def confirm_email_change(body: Annotated[TokenRequest, Body()]) -> Response[str]:
    return json_response(200, accounts.confirm_email_change(deps(), body.token))


register_snapstart_hooks(app)  # with SnapStart on: every route warmed before the snapshot


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(app, event, context)
