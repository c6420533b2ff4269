"""Results: GET /me/results and the Statement of Results PDF (candidates), POST /verifications
(organisations)."""

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from exam_results import api_docs as docs
from exam_results.http import binary_response, handle, json_response, make_resolver
from exam_results.lazy import lazy
from exam_results.observability import logger, metrics
from exam_results.result_models import ResultsResponse, VerificationRequest, VerificationResponse
from exam_results.snapstart import register as register_snapstart_hooks
from exam_results.wiring import deps

if TYPE_CHECKING:
    from exam_results.usecases import identity, results
else:  # each imported by the first request that needs it (docs/performance.md, "Cold start")
    identity = lazy("exam_results.usecases.identity")
    results = lazy("exam_results.usecases.results")

app = make_resolver()


@app.get(
    "/me/results",
    summary="The candidate's results",
    tags=["Results"],
    responses={
        200: docs.ok(ResultsResponse, "One item per entry of the account"),
        401: docs.UNAUTHORIZED,
        503: docs.BUSY,
    },
)
def my_results() -> Response[str]:
    session = identity.session_token(deps(), app.current_event.headers.get("Authorization"))
    return json_response(200, results.my_results(deps(), session))


@app.get(
    "/me/results/<session_id>/statement",
    summary="The candidate's Statement of Results for a released session (PDF)",
    description=(
        "One A4 page in the account's language, as an attachment. Send `Accept: application/pdf` "
        "first in the Accept header: API Gateway returns the bytes only for the binary media types "
        "of the API (template.yaml `BinaryMediaTypes`), and otherwise the body base64-encoded."
    ),
    tags=["Results"],
    responses={
        200: docs.pdf("The Statement of Results (`Content-Disposition: attachment`)"),
        401: docs.UNAUTHORIZED,
        404: docs.error("No such session for this candidate, not released, or no result", "not_found"),
        503: docs.BUSY,
    },
)
def my_statement(session_id: str):  # type: ignore[no-untyped-def]
    # No return annotation on purpose: Powertools validates an annotated return and serialises it
    # as JSON text, which would decode the PDF's bytes; unannotated, a non-JSON Response passes.
    session = identity.session_token(deps(), app.current_event.headers.get("Authorization"))
    document = results.my_statement(deps(), session, session_id)
    return binary_response(document.content, "application/pdf", document.filename)


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


register_snapstart_hooks(app)  # with SnapStart on: every route warmed before the snapshot


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(app, event, context)
