"""Bodies of the results routes (``GET /me/results``, ``POST /verifications``): only the Results
function imports them. Shared field types and bases are ``exam_results.api_models``.
"""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import SerializerFunctionWrapHandler, model_serializer

from exam_results.api_models import ApiModel, ApiRequest, IdNumber, SecretNumber


class ExamRef(ApiModel):
    code: str
    name: str


class Statement(ApiModel):
    overall_score: int
    grade: str
    cefr_level: str | None
    skills: dict[str, int]


class Certificate(ApiModel):
    expected_at_centre_by: date


class Centre(ApiModel):
    number: str
    name: str


class ResultItem(ApiModel):
    session_id: str
    # The entry the item is for, as on the Confirmation of Entry and the Statement of Results.
    id_number: str
    candidate_number: str
    exam: ExamRef
    exam_date: date
    format: str
    results_available_by: datetime
    status: Literal["pending", "released", "overdue"]
    statement: Statement | None = None
    certificate: Certificate | None = None
    centre: Centre

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Before release an item has no statement or certificate keys at all."""
        data: dict[str, Any] = handler(self)
        for key in ("statement", "certificate"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class ResultsResponse(ApiModel):
    results: list[ResultItem]


class VerificationRequest(ApiRequest):
    id_number: IdNumber
    secret_number: SecretNumber


class VerificationResponse(ApiModel):
    candidate_name: str
    exam: ExamRef
    exam_date: date
    overall_score: int
    grade: str
    cefr_level: str | None
    skills: dict[str, int]
    centre: Centre
