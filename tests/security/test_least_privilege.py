"""Least privilege of the API functions, proven by the calls they make (devtools.harness.iam_check).

The whole suite is also checked, for every function, by the ``tests.plugins.aws_calls`` plugin
(``test-artifacts/aws-calls.json``); this test runs every API route itself, success and
failure paths, and the mail worker that sends what the reset and resend routes queue, so that
it proves those functions' policies even when run alone.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import time_machine
import yaml

from devtools.harness import aws_calls, iam_check
from devtools.harness.template import TEMPLATE, load
from tests.conftest import registration

API_FUNCTIONS = ("RegisterFunction", "LoginFunction", "AccountFunction", "ResultsFunction")
# The worker that sends the emails the reset and resend routes only queue.
FUNCTIONS = (*API_FUNCTIONS, "MailRequestsFunction")


def recorded_for(calls: aws_calls.Calls, functions: tuple[str, ...]) -> dict[str, Any]:
    """The calls captured in a test, in the form of the suite's artifact."""
    everything = aws_calls.RECORDER.to_json()["functions"]
    out: dict[str, Any] = {}
    for fn in functions:
        needs: Counter[aws_calls.Need] = Counter()
        for call in calls.of(fn):
            needs.update(call.needs)
        out[fn] = {
            "calls": calls.count_by_operation(fn),
            "needs": [{**n.as_json(), "count": c} for n, c in needs.items()],
            "policies": everything[fn]["policies"],
            "events": everything[fn]["events"],
        }
    return {"functions": out}


def every_api_path(api, released, mailbox, mail_worker) -> None:  # type: ignore[no-untyped-def]
    c = released
    # Registration: wrong secret, unknown ID, success, already registered, resend, confirm.
    assert api.call("POST", "/registrations", registration(c, secret_number="9999")).status == 403
    assert api.call("POST", "/registrations", registration(c, id_number="UNKNOWN01")).status == 403
    assert api.call("POST", "/registrations", registration(c)).status == 201
    assert api.call("POST", "/registrations", registration(c)).status == 409
    assert api.call("POST", "/registrations/confirmations/resend", {"id_number": c.id_number}).status == 202
    assert api.call("POST", "/registrations/confirmations/resend", {"id_number": "UNKNOWN01"}).status == 202
    assert mail_worker.drain() == 2
    assert api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password}).status == 403
    token = mailbox.last_to(c.email).token()
    assert api.call("POST", "/registrations/confirmations", {"token": token}).status == 200
    assert api.call("POST", "/registrations/confirmations", {"token": token}).status == 400
    # Sessions: wrong password, success, log out.
    assert api.call("POST", "/sessions", {"id_number": c.id_number, "password": "Wrong-pass-99"}).status == 401
    session = api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password}).json()["token"]
    assert api.call("GET", "/me", token=session).status == 200
    assert api.call("PATCH", "/me", {"newsletter_opt_in": True}, token=session).status == 200
    assert api.call("GET", "/me/results", token=session).status == 200
    assert api.call("PATCH", "/me", {"language": "it"}, token=session).status == 200
    assert api.call("GET", f"/me/results/{c.session_id}/statement", token=session).status == 200
    assert api.call("GET", "/me/results/NO-SUCH/statement", token=session).status == 404
    # Password and email changes: wrong password (counted), success, link used, link used again.
    other = api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password}).json()["token"]
    changed = "Changed-Horse-55"
    body = {"current_password": "Wrong-pass-99", "password": changed, "confirm_password": changed}
    assert api.call("POST", "/me/password", body, token=session).status == 401
    assert api.call("POST", "/me/password", {**body, "current_password": c.password}, token=session).status == 204
    assert api.call("GET", "/me", token=other).status == 401
    body = {"email": "jane.new@example.org", "password": "Wrong-pass-99"}
    assert api.call("POST", "/me/email", body, token=session).status == 401
    assert api.call("POST", "/me/email", {**body, "password": changed}, token=session).status == 202
    link = mailbox.last_to("jane.new@example.org").token()
    assert api.call("POST", "/me/email/confirmations", {"token": link}).status == 200
    assert api.call("POST", "/me/email/confirmations", {"token": link}).status == 400
    assert api.call("GET", "/me", token=session).status == 401  # a confirmed email change ends sessions
    c.password, c.email = changed, "jane.new@example.org"
    # A session left open: the reset below ends it and tidies it away.
    assert api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password}).status == 200
    session = api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password}).json()["token"]
    assert api.call("DELETE", "/sessions/current", token=session).status == 204
    assert api.call("GET", "/me", token=session).status == 401
    # Lockout: four wrong passwords lock the ID.
    for _ in range(4):
        api.call("POST", "/sessions", {"id_number": c.id_number, "password": "Wrong-pass-99"})
    assert api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password}).status == 429
    # Password reset: request, unknown ID, confirm (clears the lock, ends sessions).
    assert api.call("POST", "/password-resets", {"id_number": c.id_number}).status == 202
    assert api.call("POST", "/password-resets", {"id_number": "UNKNOWN01"}).status == 202
    assert mail_worker.drain() == 2
    reset = mailbox.last_to(c.email).token()
    new = "Another-Horse-77"
    body = {"token": reset, "password": new, "confirm_password": new}
    assert api.call("POST", "/password-resets/confirmations", body).status == 200
    session = api.call("POST", "/sessions", {"id_number": c.id_number, "password": new}).json()["token"]
    # Verification: released result, wrong secret, until the lock.
    assert (
        api.call("POST", "/verifications", {"id_number": c.id_number, "secret_number": c.secret_number}).status == 200
    )
    for _ in range(4):
        api.call("POST", "/verifications", {"id_number": c.id_number, "secret_number": "0000"})
    assert api.call("POST", "/verifications", {"id_number": c.id_number, "secret_number": "0000"}).status == 429
    # Erase.
    assert api.call("DELETE", "/me", token=session).status == 204
    assert api.call("GET", "/me", token=session).status == 401
    # 31 minutes later the expired attempt records start again (a conditional put).
    with time_machine.travel(time.time() + 31 * 60, tick=False):
        assert api.call("POST", "/verifications", {"id_number": c.id_number, "secret_number": "0000"}).status == 404
        assert api.call("POST", "/registrations", registration(c, secret_number="0000")).status == 403


def test_every_api_call_is_allowed_by_the_functions_own_policy_and_every_grant_is_used(
    api, released_from_file, mailbox, mail_worker, calls
):
    # The entry comes from an entries file, as in service: the readers of an entry resolve its
    # versions (the profile and the mail worker read the file's publication item).
    every_api_path(api, released_from_file, mailbox, mail_worker)
    report = iam_check.check(recorded_for(calls, FUNCTIONS))
    print("\n".join(report.lines()))
    assert not report.violations, "\n".join(report.lines())
    assert not report.unused, "\n".join(report.lines())


def test_no_policy_in_the_template_has_a_wildcard_action():
    assert iam_check.wildcard_actions(load(TEMPLATE)) == []


def test_the_checker_refuses_a_call_outside_the_policy_and_reports_unused_grants():
    """The checker itself: a table call against an index-only grant, an unused grant, a wildcard."""
    table = "arn:aws:dynamodb:eu-west-2:123456789012:table/{T}"
    policies = [
        {
            "Statement": [
                {"Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": f"{table}/index/I"},
                {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": table},
                {
                    "Effect": "Allow",
                    "Action": ["ses:SendEmail"],
                    "Resource": "arn:aws:ses:eu-west-2:123456789012:identity/*",
                    "Condition": {"StringEquals": {"ses:FromAddress": "a@example.com"}},
                },
            ]
        }
    ]
    needs = [
        {"action": "dynamodb:Query", "resource": table, "context": {}},  # the table, not the index
        {"action": "dynamodb:GetItem", "resource": table, "context": {}},
        {
            "action": "ses:SendEmail",
            "resource": "arn:aws:ses:eu-west-2:123456789012:identity/b@example.com",
            "context": {"ses:FromAddress": "b@example.com"},
        },
    ]
    template = yaml.safe_load(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n"
        "        - Statement: [{Effect: Allow, Action: ['s3:Get*'], Resource: '*'}]\n"
    )
    report = iam_check.check({"functions": {"F": {"needs": needs, "policies": policies, "events": []}}}, template)
    text = "\n".join(report.lines())
    assert "dynamodb:Query on arn:aws:dynamodb:eu-west-2:123456789012:table/{T} (1 call(s)) is not allowed" in text
    assert "ses:SendEmail" in text and "ses:FromAddress='b@example.com'" in text
    assert any("dynamodb:PutItem" in u for u in report.unused)
    assert any("Query on " + table + "/index/I" in u for u in report.unused)
    assert any("wildcard action" in v and "s3:Get*" in v for v in report.violations)
