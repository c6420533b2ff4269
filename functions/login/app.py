"""Sessions and password resets: POST/DELETE /sessions, POST /password-resets[/confirmations]."""

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from exam_results import api_docs as docs
from exam_results.account_models import (
    AcceptedResponse,
    IdNumberRequest,
    LoginRequest,
    LoginResponse,
    MessageResponse,
    PasswordResetConfirmation,
)
from exam_results.http import handle, json_response, make_resolver, no_content, request_language, say
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


@app.post(
    "/sessions",
    summary="Log in",
    tags=["Sessions"],
    responses={
        200: docs.ok(LoginResponse, "Logged in: a session token for 60 minutes"),
        401: docs.error("Unknown ID Number or wrong password (same answer)", "invalid_credentials"),
        403: docs.error("Right password, email not confirmed yet", "email_not_confirmed"),
        422: docs.INVALID,
        429: docs.error("Locked after too many wrong passwords", "locked", retry_after=True),
        503: docs.BUSY,
    },
)
def log_in(body: Annotated[LoginRequest, Body()]) -> Response[str]:
    return json_response(200, accounts.login(deps(), body))


@app.delete(
    "/sessions/current",
    summary="Log out",
    tags=["Sessions"],
    responses={204: {"description": "Logged out"}, 401: docs.UNAUTHORIZED},
)
def log_out() -> Response[str]:
    principal = identity.authenticate(deps(), app.current_event.headers.get("Authorization"))
    accounts.logout(deps(), principal)
    return no_content()


@app.post(
    "/password-resets",
    summary="Ask for a password reset email",
    tags=["Password reset"],
    responses={
        202: docs.ok(AcceptedResponse, "Always the same answer; sent only to a registered account"),
        422: docs.INVALID,
    },
)
def request_reset(body: Annotated[IdNumberRequest, Body()]) -> Response[str]:
    accounts.request_password_reset(deps(), body.id_number)
    return json_response(202, AcceptedResponse(message=say(request_language(app), "message.reset_accepted")))


@app.post(
    "/password-resets/confirmations",
    summary="Set a new password with a reset token",
    tags=["Password reset"],
    responses={
        200: docs.ok(MessageResponse, "Password changed; every session ended"),
        400: docs.INVALID_TOKEN,
        422: docs.INVALID,
    },
)
def confirm_reset(body: Annotated[PasswordResetConfirmation, Body()]) -> Response[str]:
    accounts.confirm_password_reset(deps(), body)
    return json_response(200, MessageResponse(message=say(request_language(app), "message.password_reset")))


register_snapstart_hooks(app)  # with SnapStart on: every route warmed before the snapshot


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(app, event, context)
