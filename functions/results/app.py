"""Results: GET /me/results (candidates) and POST /verifications (organisations)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from exam_results import api_docs as docs
from exam_results.http import handle, json_response, make_resolver
from exam_results.observability import logger, metrics
from exam_results.result_models import ResultsResponse, VerificationRequest, VerificationResponse
from exam_results.usecases import identity, results
from exam_results.wiring import deps

app = make_resolver()


@app.get(
    "/me/results",
    summary="The candidate's results",
    tags=["Results"],
    responses={200: docs.ok(ResultsResponse, "One item per entry of the account"), 401: docs.UNAUTHORIZED},
)
def my_results() -> Response[str]:
    principal = identity.authenticate(deps(), app.current_event.headers.get("Authorization"))
    return json_response(200, results.my_results(deps(), principal))


@app.post(
    "/verifications",
    summary="Verify a candidate's released result (organisations)",
    tags=["Verification"],
    responses={
        200: docs.ok(VerificationResponse, "The released result"),
        404: docs.error("Unknown ID Number, wrong Secret Number or not released (same answer)", "not_found"),
        422: docs.INVALID,
        429: docs.error("Too many wrong Secret Numbers for this ID Number", "too_many_attempts", retry_after=True),
        503: docs.BUSY,
    },
)
def verify(body: Annotated[VerificationRequest, Body()]) -> Response[str]:
    return json_response(200, results.verify(deps(), body))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(app, event, context)
