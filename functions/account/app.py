"""The candidate's own account: GET, PATCH and DELETE /me."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from exam_results import api_docs as docs
from exam_results.account_models import ProfileResponse, ProfileUpdate
from exam_results.http import handle, json_response, make_resolver, no_content, parse_body
from exam_results.observability import logger, metrics
from exam_results.usecases import accounts, identity
from exam_results.wiring import deps

app = make_resolver()


def _principal() -> identity.Principal:
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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(app, event, context)
