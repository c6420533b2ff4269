"""AWS calls per operation (docs/performance.md): each happy path makes exactly the calls the
design allows, counted by service and operation with devtools.harness.aws_calls.

Counts are for a warm container; the first request of a container also reads the pepper
(``secretsmanager:GetSecretValue``) where it checks a Secret Number.
"""

from __future__ import annotations

from devtools.harness import aws_calls
from tests.conftest import registration

PEPPER = {"secretsmanager:GetSecretValue": 1}


def measured(call):  # type: ignore[no-untyped-def]
    with aws_calls.capture() as captured:
        response = call()
    return response, captured.count_by_operation()


def test_registration_login_results_and_verification_make_the_designed_calls(api, released, mailbox):
    c = released

    r, ops = measured(lambda: api.call("POST", "/registrations", registration(c)))
    assert r.status == 201
    # reserve a secret attempt, read the entry with the account (one query of the partition),
    # which entries files of the entry are published (one batch, made for every ID alike:
    # entries are staged, issue 18), check the secret; one transaction (account + confirmation
    # token + the attempt given back); one email. Four DynamoDB calls, the goal (issue 16).
    assert ops == {
        **PEPPER,  # first request of the register container
        "dynamodb:UpdateItem": 1,
        "dynamodb:Query": 1,
        "dynamodb:BatchGetItem": 1,
        "dynamodb:TransactWriteItems": 1,
        "ses:SendEmail": 1,
    }

    token = mailbox.last_to(c.email).token()
    r, ops = measured(lambda: api.call("POST", "/registrations/confirmations", {"token": token}))
    assert r.status == 200
    assert ops == {"dynamodb:GetItem": 1, "dynamodb:TransactWriteItems": 1}

    login = {"id_number": c.id_number, "password": c.password}
    r, ops = measured(lambda: api.call("POST", "/sessions", login))
    assert r.status == 200
    # reserve a login attempt, read the account; clear the attempts and store the session in one
    # transaction.
    assert ops == {"dynamodb:UpdateItem": 1, "dynamodb:GetItem": 1, "dynamodb:TransactWriteItems": 1}
    session = r.json()["token"]

    r, ops = measured(lambda: api.call("GET", "/me/results", token=session))
    assert r.status == 200
    # session token; the account (its generation checked against the token's) with its entries
    # and results (one query of the partition); their sessions and the results files'
    # publication items (one batch: staging costs no call, issue 18).
    assert ops == {"dynamodb:GetItem": 1, "dynamodb:Query": 1, "dynamodb:BatchGetItem": 1}
    results_ops = ops

    # The Statement of Results PDF reads no more than the results page does.
    path = f"/me/results/{c.session_id}/statement"
    r, ops = measured(lambda: api.call("GET", path, token=session, accept="application/pdf"))
    assert r.status == 200
    assert ops == results_ops
    r, ops = measured(lambda: api.call("GET", "/me/results/NO-SUCH/statement", token=session))
    assert r.status == 404
    assert ops == {"dynamodb:GetItem": 1, "dynamodb:Query": 1}  # no entry for it: no session read

    verification = {"id_number": c.id_number, "secret_number": c.secret_number}
    r, ops = measured(lambda: api.call("POST", "/verifications", verification))
    assert r.status == 200
    # reserve and give back a secret attempt; the entry with its versions and the versions of
    # its result (one query of the partition: entries and results are staged, issue 18); the
    # session with the entries and results files' publication (one batch, before the secret is
    # checked). Four calls (issue 16).
    assert ops == {**PEPPER, "dynamodb:UpdateItem": 2, "dynamodb:Query": 1, "dynamodb:BatchGetItem": 1}
    r, ops = measured(lambda: api.call("POST", "/verifications", verification))  # warm container
    assert ops == {"dynamodb:UpdateItem": 2, "dynamodb:Query": 1, "dynamodb:BatchGetItem": 1}


def test_refusals_are_cheap(api, released):
    """A wrong password costs two calls; an attempt while locked costs one (no password check)."""
    c = released
    wrong = {"id_number": c.id_number, "password": "Wrong-pass-99"}
    r, ops = measured(lambda: api.call("POST", "/sessions", wrong))
    assert r.status == 401
    assert ops == {"dynamodb:UpdateItem": 1, "dynamodb:GetItem": 1}
    for _ in range(3):
        api.call("POST", "/sessions", wrong)
    r, ops = measured(lambda: api.call("POST", "/sessions", wrong))
    assert r.status == 429
    assert sum(ops.values()) <= 2, ops


def test_reset_and_resend_requests_only_queue_and_the_worker_sends(api, registered, seed, mail_worker):
    """The request: one SendMessage, for any ID (tests/security/test_equal_work.py). The worker:
    the calls the request used to make (entry and account, send log, token, email)."""
    c, _ = registered()
    unconfirmed = seed(id_number="UNCF00001")
    unconfirmed.email = "unconfirmed@example.com"
    assert api.call("POST", "/registrations", registration(unconfirmed)).status == 201
    for route, id_number in (
        ("/password-resets", c.id_number),
        ("/registrations/confirmations/resend", unconfirmed.id_number),
    ):
        r, ops = measured(lambda: api.call("POST", route, {"id_number": id_number}))
        assert r.status == 202
        assert ops == {"sqs:SendMessage": 1}
        with aws_calls.capture() as captured:
            assert mail_worker.drain() == 1
        # entry and account (one query), send log read and conditional put, token, email.
        assert captured.count_by_operation("MailRequestsFunction") == {
            "dynamodb:Query": 1,
            "dynamodb:GetItem": 1,
            "dynamodb:PutItem": 2,
            "ses:SendEmail": 1,
        }


def test_staged_results_cost_readers_no_extra_call(api, stack, registered):  # type: ignore[no-untyped-def]
    """Results published through files (staged versions, a correction, a file that failed before
    publishing) are read with exactly the calls of a result stored directly (issue 18)."""
    from datetime import date

    import pytest

    from exam_results.models import ExamSession
    from exam_results.wiring import deps
    from tests.helpers.uploads import RESULT_HEADER, Board, Faults
    from tests.security.conftest import AVAILABLE, SESSION

    d = deps()
    session = ExamSession(
        session_id=SESSION,
        exam_code="C1A",
        exam_date=date(2026, 6, 20),
        format="PB",
        results_available_by=AVAILABLE,
        status="released",
        released_at=AVAILABLE,
    )
    d.exams.write_items([d.exams.session_item(session)])
    c, token = registered(session_id=SESSION)
    board = Board(stack)
    row = f"{SESSION},{c.id_number},189,C,C1,190,185,176,201,193"
    corrected = f"{SESSION},{c.id_number},190,C,C1,190,185,176,201,198"
    board.results("results/first.csv", f"{RESULT_HEADER}\n{row}\n")
    board.results("results/correction.csv", f"{RESULT_HEADER}\n{corrected}\n")
    faults = Faults()
    faults.fail("UpdateItem", {2})  # a third file is staged, never published
    with pytest.raises(Exception, match="ProvisionedThroughput"):
        board.results("results/failed.csv", f"{RESULT_HEADER}\n{row}\n")
    faults.close()

    r, ops = measured(lambda: api.call("GET", "/me/results", token=token))
    assert r.json()["results"][0]["statement"]["overall_score"] == 190  # the published correction
    assert ops == {"dynamodb:GetItem": 1, "dynamodb:Query": 1, "dynamodb:BatchGetItem": 1}
    verification = {"id_number": c.id_number, "secret_number": c.secret_number}
    r, ops = measured(lambda: api.call("POST", "/verifications", verification))
    assert r.json()["overall_score"] == 190
    assert ops == {**PEPPER, "dynamodb:UpdateItem": 2, "dynamodb:Query": 1, "dynamodb:BatchGetItem": 1}


def test_staged_entries_cost_readers_no_extra_call(api, stack, exams, mailbox):  # type: ignore[no-untyped-def]
    """An entry from entries files (one published, a correction published, one that failed before
    publishing) is read with the calls of an entry stored directly, registration's one batch
    included (issue 18): registration 4, results page 3, verification 4."""
    from datetime import date

    import pytest

    from tests.conftest import Candidate
    from tests.helpers.uploads import ENTRY_HEADER, Board, Faults
    from tests.security.conftest import AVAILABLE, SESSION

    exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE, released_at=AVAILABLE)
    board = Board(stack)

    def entries(name: str) -> str:
        row = f'{SESSION},C1A,2026-06-20,PB,STG000001,4821,0042,"{name}",2004-05-17,GB123,Oxford Language Centre'
        return f"{ENTRY_HEADER}\n{row}\n"

    board.entries("entries/first.csv", entries("First Name"))
    board.entries("entries/correction.csv", entries("Second Name"))
    faults = Faults()
    faults.fail("TransactWriteItems", {2})  # a third file is staged, never published
    with pytest.raises(Exception, match="ProvisionedThroughput"):
        board.entries("entries/failed.csv", entries("Third Name"))
    faults.close()
    exams.result("STG000001", SESSION, 189, "C", "C1", {"reading": 190})

    c = Candidate("STG000001", "4821", "Second Name", SESSION, email="stg@example.com")
    r, ops = measured(lambda: api.call("POST", "/registrations", registration(c)))
    assert r.status == 201
    assert ops == {
        **PEPPER,
        "dynamodb:UpdateItem": 1,
        "dynamodb:Query": 1,
        "dynamodb:BatchGetItem": 1,
        "dynamodb:TransactWriteItems": 1,
        "ses:SendEmail": 1,
    }
    token = mailbox.last_to(c.email).token()
    assert api.call("POST", "/registrations/confirmations", {"token": token}).status == 200
    session = api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password}).json()["token"]
    r, ops = measured(lambda: api.call("GET", "/me/results", token=session))
    assert r.json()["results"][0]["statement"]["overall_score"] == 189
    assert ops == {"dynamodb:GetItem": 1, "dynamodb:Query": 1, "dynamodb:BatchGetItem": 1}
    verification = {"id_number": c.id_number, "secret_number": c.secret_number}
    r, ops = measured(lambda: api.call("POST", "/verifications", verification))
    assert r.json()["candidate_name"] == "Second Name"  # the published correction, not the failed file
    assert ops == {**PEPPER, "dynamodb:UpdateItem": 2, "dynamodb:Query": 1, "dynamodb:BatchGetItem": 1}
