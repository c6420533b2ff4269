"""Registration: POST /registrations, /registrations/confirmations, /registrations/confirmations/resend."""

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from exam_results import api_docs as docs
from exam_results.account_models import (
    AcceptedResponse,
    ConfirmationResponse,
    IdNumberRequest,
    RegistrationRequest,
    RegistrationResponse,
    TokenRequest,
)
from exam_results.http import handle, json_response, make_resolver, request_language, say
from exam_results.lazy import lazy
from exam_results.observability import logger, metrics
from exam_results.snapstart import register as register_snapstart_hooks
from exam_results.wiring import deps

if TYPE_CHECKING:
    from exam_results.usecases import accounts
else:  # each imported by the first request that needs it (docs/performance.md, "Cold start")
    accounts = lazy("exam_results.usecases.accounts")

app = make_resolver()


@app.post(
    "/registrations",
    summary="Register with the Confirmation of Entry",
    tags=["Registration"],
    responses={
        201: docs.ok(RegistrationResponse, "Account created; a confirmation email is sent"),
        403: docs.error("Unknown ID Number or wrong Secret Number (same answer)", "credentials_mismatch"),
        409: docs.error("An account exists for this ID Number (only after a right secret)", "already_registered"),
        422: docs.INVALID,
        429: docs.error("Too many wrong Secret Numbers for this ID Number", "too_many_attempts", retry_after=True),
        503: docs.BUSY,
    },
)
def register(body: Annotated[RegistrationRequest, Body()]) -> Response[str]:
    return json_response(201, accounts.register(deps(), body))


@app.post(
    "/registrations/confirmations",
    summary="Confirm the email address",
    tags=["Registration"],
    responses={
        200: docs.ok(ConfirmationResponse, "Email confirmed"),
        400: docs.INVALID_TOKEN,
        422: docs.INVALID,
    },
)
def confirm(body: Annotated[TokenRequest, Body()]) -> Response[str]:
    return json_response(200, accounts.confirm_email(deps(), body.token))


@app.post(
    "/registrations/confirmations/resend",
    summary="Send the confirmation email again",
    tags=["Registration"],
    responses={
        202: docs.ok(AcceptedResponse, "Always the same answer; sent only to an unconfirmed account"),
        422: docs.INVALID,
    },
)
def resend(body: Annotated[IdNumberRequest, Body()]) -> Response[str]:
    accounts.resend_confirmation(deps(), body.id_number)
    return json_response(202, AcceptedResponse(message=say(request_language(app), "message.resend_accepted")))


register_snapstart_hooks(app)  # with SnapStart on: every route warmed before the snapshot


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(app, event, context)
