"""GET /me/results and POST /verifications: before and after release, overdue, lockout."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine

C1A_SKILLS = {"reading": 190, "use_of_english": 185, "writing": 176, "listening": 201, "speaking": 193}
SESSION = "C1A-2026-06-20-PB"
AVAILABLE = datetime(2026, 7, 25, 8, 0, tzinfo=UTC)  # 09:00 UK summer time


def test_pending_shows_the_date_and_nothing_of_the_result(api, registered, exams):
    exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE)
    exams.result("ABC123456", SESSION, 189, "C", "C1", C1A_SKILLS)
    with time_machine.travel("2026-07-25T07:59:00Z", tick=False):
        _c, token = registered(session_id=SESSION)
        r = api.call("GET", "/me/results", token=token)
    assert r.status == 200
    assert r.json() == {
        "results": [
            {
                "session_id": SESSION,
                "id_number": "ABC123456",
                "candidate_number": "0042",
                "exam": {"code": "C1A", "name": "C1 Advanced"},
                "exam_date": "2026-06-20",
                "format": "PB",
                "results_available_by": "2026-07-25T08:00:00Z",
                "status": "pending",
                "centre": {"number": "GB123", "name": "Oxford Language Centre"},
            }
        ]
    }
    assert "189" not in r.body and "statement" not in r.body


def test_released_shows_statement_and_certificate_date(api, registered, exams):
    exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE)
    exams.result("ABC123456", SESSION, 189, "C", "C1", C1A_SKILLS)
    _c, token = registered(session_id=SESSION)
    released = datetime(2026, 7, 25, 8, 3, 12, tzinfo=UTC)
    assert exams.release(SESSION, released) is not None
    item = api.call("GET", "/me/results", token=token).json()["results"][0]
    assert item["status"] == "released"
    assert item["statement"] == {"overall_score": 189, "grade": "C", "cefr_level": "C1", "skills": C1A_SKILLS}
    assert item["certificate"] == {"expected_at_centre_by": "2026-08-22"}


def test_released_without_a_result_is_overdue_and_names_the_centre(api, registered, exams):
    exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE, released_at=AVAILABLE)
    _c, token = registered(session_id=SESSION)
    item = api.call("GET", "/me/results", token=token).json()["results"][0]
    assert item["status"] == "overdue"
    assert item["centre"] == {"number": "GB123", "name": "Oxford Language Centre"}
    assert "statement" not in item and "certificate" not in item


def test_fail_has_null_cefr(api, registered, exams):
    skills = {"reading": 110, "writing": 112, "listening": 108, "speaking": 111}
    exams.session("B1P-2026-06-01-CB", "B1P", date(2026, 6, 1), "CB", AVAILABLE, released_at=AVAILABLE)
    exams.result("ABC123456", "B1P-2026-06-01-CB", 110, "Fail", None, skills)
    _c, token = registered(session_id="B1P-2026-06-01-CB")
    item = api.call("GET", "/me/results", token=token).json()["results"][0]
    assert item["statement"] == {"overall_score": 110, "grade": "Fail", "cefr_level": None, "skills": skills}


def test_results_need_a_session_token(api):
    assert api.call("GET", "/me/results").status == 401


# -- verification --


def verify(api, id_number, secret):
    return api.call("POST", "/verifications", {"id_number": id_number, "secret_number": secret})


def test_verification_returns_the_released_statement(api, seed, exams):
    exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE, released_at=AVAILABLE)
    exams.result("ABC123456", SESSION, 189, "C", "C1", C1A_SKILLS)
    c = seed(session_id=SESSION)
    r = verify(api, c.id_number.lower(), c.secret_number)
    assert r.status == 200
    assert r.json() == {
        "candidate_name": "Jane Candidate",
        "exam": {"code": "C1A", "name": "C1 Advanced"},
        "exam_date": "2026-06-20",
        "overall_score": 189,
        "grade": "C",
        "cefr_level": "C1",
        "skills": C1A_SKILLS,
        "centre": {"number": "GB123", "name": "Oxford Language Centre"},
    }


def test_every_mismatch_and_unreleased_result_is_the_same_404(api, seed, exams):
    exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE)
    exams.result("ABC123456", SESSION, 189, "C", "C1", C1A_SKILLS)
    c = seed(session_id=SESSION)
    seed(id_number="NORESULT1", secret_number="1111", session_id="B2F-2026-05-01-CB")
    exams.session("B2F-2026-05-01-CB", "B2F", date(2026, 5, 1), "CB", AVAILABLE, released_at=AVAILABLE)
    answers = [
        verify(api, c.id_number, c.secret_number),  # right, but not released
        verify(api, c.id_number, "9999"),  # wrong secret
        verify(api, "UNKNOWN99", "1234"),  # unknown ID
        verify(api, "NORESULT1", "1111"),  # released, no result
    ]
    assert {a.status for a in answers} == {404}
    assert len({a.body for a in answers}) == 1
    assert answers[0].json()["code"] == "not_found"


def test_wrong_secrets_share_the_lock_with_registration(api, seed, exams):
    from tests.conftest import registration

    exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE, released_at=AVAILABLE)
    exams.result("ABC123456", SESSION, 189, "C", "C1", C1A_SKILLS)
    with time_machine.travel("2026-08-01T10:00:00Z", tick=False) as t:
        c = seed(session_id=SESSION)
        for _ in range(2):
            assert verify(api, c.id_number, "9999").status == 404
        for _ in range(2):
            assert api.call("POST", "/registrations", registration(c, secret_number="9999")).status == 403
        r = verify(api, c.id_number, "9999")  # the 5th wrong secret
        assert (r.status, r.json()["code"]) == (429, "too_many_attempts")
        assert r.header("Retry-After") == "1800"
        # Both routes are locked, even with the right secret.
        assert verify(api, c.id_number, c.secret_number).status == 429
        assert api.call("POST", "/registrations", registration(c)).status == 429
        t.shift(30 * 60)
        assert verify(api, c.id_number, c.secret_number).status == 200


def test_verification_field_errors(api):
    r = api.call("POST", "/verifications", {"id_number": "ABC123456"})
    assert r.status == 422 and r.json()["errors"] == [{"field": "secret_number", "message": "This field is required."}]


def test_a_read_throttled_past_every_retry_is_a_503_to_try_again(api, registered, exams, faults):
    """DynamoDB throttles the results view's BatchGetItem past the SDK's retries: the batch helper
    raises ServiceUnavailable, which the API answers as busy (retry), not as a server fault."""
    exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE)
    exams.result("ABC123456", SESSION, 189, "C", "C1", C1A_SKILLS)
    _c, token = registered(session_id=SESSION)
    faults.fail("BatchGetItem", "every")
    r = api.call("GET", "/me/results", token=token)
    assert (r.status, r.json()["code"]) == (503, "busy") and r.headers["Retry-After"] == "1"
    assert faults.raised  # the fault was met, not avoided
