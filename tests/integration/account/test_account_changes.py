"""Account self-service (SPEC §3, §4, §7): change the password, change the email address."""

from __future__ import annotations

import time

import time_machine

from tests.conftest import Candidate

NEW = "Brand-new-pass-77"
NEW_EMAIL = "jane.new@example.org"


def change_password(api, token, current, new=NEW, confirm=None):  # type: ignore[no-untyped-def]
    body = {"current_password": current, "password": new, "confirm_password": confirm or new}
    return api.call("POST", "/me/password", body, token=token)


def change_email(api, token, email, password):  # type: ignore[no-untyped-def]
    return api.call("POST", "/me/email", {"email": email, "password": password}, token=token)


def confirm_change(api, token):  # type: ignore[no-untyped-def]
    return api.call("POST", "/me/email/confirmations", {"token": token})


def login(api, c: Candidate, password: str | None = None):  # type: ignore[no-untyped-def]
    return api.call("POST", "/sessions", {"id_number": c.id_number, "password": password or c.password})


def reset_link(c: Candidate, mailbox) -> str:  # type: ignore[no-untyped-def]
    from exam_results.mail_requests import MailRequest
    from exam_results.usecases import mail_requests
    from exam_results.wiring import deps

    assert mail_requests.deliver(deps(), MailRequest(kind="reset", id_number=c.id_number)) == "sent"
    return mailbox.last_to(c.email).token()


# ------------------------------------------------------------------------ password


def test_changing_the_password_keeps_this_session_and_ends_every_other_session_and_reset_link(api, registered, mailbox):
    c, this = registered()
    other = login(api, c).json()["token"]
    pending_reset = reset_link(c, mailbox)

    r = change_password(api, this, c.password)
    assert r.status == 204, r.body

    assert api.call("GET", "/me", token=this).status == 200  # carried over
    assert api.call("GET", "/me", token=other).status == 401
    r = api.call(
        "POST",
        "/password-resets/confirmations",
        {"token": pending_reset, "password": "Third-pass-99", "confirm_password": "Third-pass-99"},
    )
    assert (r.status, r.json()["code"]) == (400, "invalid_token")
    assert login(api, c).status == 401  # the old password no longer works
    assert login(api, c, NEW).status == 200
    assert api.call("PATCH", "/me", {"newsletter_opt_in": True}, token=this).status == 200  # still usable


def test_the_password_changed_notice_is_in_the_account_language_with_values_escaped(api, registered, mailbox):
    c, token = registered(name="<b>Giulia</b> & Co")
    assert api.call("PATCH", "/me", {"language": "it"}, token=token).status == 200
    with time_machine.travel("2026-10-05T08:30:00Z", tick=False):
        token = login(api, c).json()["token"]
        assert change_password(api, token, c.password).status == 204
    mail = mailbox.last_to(c.email)
    assert mail.subject == "Exam Results Service: la tua password è stata cambiata"
    assert "&lt;b&gt;Giulia&lt;/b&gt; &amp; Co" in mail.body and "<b>Giulia" not in mail.body
    assert "5 ottobre 2026 08:30 UTC" in mail.body
    assert mail.link() == "https://results.test/forgot.html"


def test_a_wrong_current_password_is_counted_like_a_wrong_login_and_the_fourth_locks(api, registered):
    c, token = registered()
    assert login(api, c, "Wrong-pass-11").status == 401  # one wrong login
    for _ in range(2):
        r = change_password(api, token, "Wrong-pass-11")
        assert (r.status, r.json()["code"]) == (401, "invalid_credentials")
    r = change_password(api, token, "Wrong-pass-11")  # the 4th failure, counting the login
    assert (r.status, r.json()["code"]) == (429, "locked")
    assert 1700 < int(r.headers["Retry-After"]) <= 1800
    r = change_password(api, token, c.password)  # locked: even the right password is refused
    assert (r.status, r.json()["code"]) == (429, "locked")
    assert login(api, c).status == 429  # the same lock as the login's
    assert login(api, c, NEW).status == 429
    assert api.call("GET", "/me", token=token).status == 200  # the session itself stays


def test_a_right_current_password_clears_the_failures_like_a_login(api, registered):
    c, token = registered()
    for _ in range(3):
        assert login(api, c, "Wrong-pass-11").status == 401
    assert change_password(api, token, c.password).status == 204
    assert login(api, c, "Wrong-pass-11").status == 401  # counting from one again, not locked
    assert login(api, c, NEW).status == 200


def test_password_change_refusals(api, registered):
    c, token = registered()
    cases = [
        ({"current_password": c.password, "password": "short1", "confirm_password": "short1"}, "password"),
        ({"current_password": c.password, "password": "password12", "confirm_password": "password12"}, "password"),
        ({"current_password": c.password, "password": NEW, "confirm_password": NEW + "x"}, "confirm_password"),
        ({"password": NEW, "confirm_password": NEW}, "current_password"),
        ({"current_password": "", "password": NEW, "confirm_password": NEW}, "current_password"),
        ({"current_password": 12345678, "password": NEW, "confirm_password": NEW}, "current_password"),
    ]
    for body, field in cases:
        r = api.call("POST", "/me/password", body, token=token)
        assert r.status == 422, (body, r.body)
        assert r.json()["code"] == "validation_error" and field in [e["field"] for e in r.json()["errors"]]
    assert api.call("POST", "/me/password", {"current_password": c.password}, token="x" * 43).status == 401
    assert api.call("POST", "/me/password", None, token=None).status == 401
    assert login(api, c).status == 200  # nothing changed, and no refusal counted


# -------------------------------------------------------------------------- email


def test_email_change_end_to_end(api, registered, mailbox):
    c, token = registered()
    other = login(api, c).json()["token"]
    r = change_email(api, token, NEW_EMAIL, c.password)
    assert r.status == 202, r.body

    notice = mailbox.last_to(c.email)
    assert "change of email address" in notice.subject and NEW_EMAIL in notice.body
    assert "token=" not in notice.body  # the link goes only to the new address
    link = mailbox.last_to(NEW_EMAIL)
    assert link.link().startswith("https://results.test/confirm-email.html?token=")

    # Nothing changes until the link is used.
    assert api.call("GET", "/me", token=token).json()["email"] == c.email
    pending_reset = reset_link(c, mailbox)

    r = confirm_change(api, link.token())
    assert (r.status, r.json()) == (200, {"email": NEW_EMAIL})
    r = confirm_change(api, link.token())
    assert (r.status, r.json()["code"]) == (400, "invalid_token")  # single use

    # The reset link mailed to the old address is dead, and so is every session.
    body = {"token": pending_reset, "password": NEW, "confirm_password": NEW}
    r = api.call("POST", "/password-resets/confirmations", body)
    assert (r.status, r.json()["code"]) == (400, "invalid_token")
    assert api.call("GET", "/me", token=token).status == 401
    assert api.call("GET", "/me", token=other).status == 401
    session = login(api, c).json()["token"]  # the password is unchanged
    assert api.call("GET", "/me", token=session).json()["email"] == NEW_EMAIL
    fresh = reset_link(Candidate(c.id_number, "", "", "", email=NEW_EMAIL), mailbox)
    assert api.call("POST", "/password-resets/confirmations", {**body, "token": fresh}).status == 200


def test_email_change_mails_are_in_the_account_language_with_values_escaped(api, registered, mailbox):
    c, token = registered(name="Luca <i>Rossi</i>")
    assert api.call("PATCH", "/me", {"language": "it"}, token=token).status == 200
    hostile = "o'brien&co@example.org"  # SES refuses an address with markup characters in it
    assert change_email(api, token, hostile, c.password).status == 202
    notice = mailbox.last_to(c.email)
    assert notice.subject == "Exam Results Service: è stato chiesto di cambiare il tuo indirizzo email"
    assert "o&#x27;brien&amp;co@example.org" in notice.body and "Luca &lt;i&gt;Rossi&lt;/i&gt;" in notice.body
    assert "<i>" not in notice.body
    link = mailbox.last_to(hostile)
    assert link.subject == "Exam Results Service: conferma il tuo nuovo indirizzo email"
    assert "Luca &lt;i&gt;Rossi&lt;/i&gt;" in link.body


def test_email_change_link_expires_after_24_hours(api, registered, mailbox):
    with time_machine.travel("2026-06-01T10:00:00Z", tick=False) as t:
        c, token = registered()
        assert change_email(api, token, NEW_EMAIL, c.password).status == 202
        link = mailbox.last_to(NEW_EMAIL).token()
        t.shift(24 * 60 * 60 + 1)
        r = confirm_change(api, link)
        assert (r.status, r.json()["code"]) == (400, "invalid_token")
    session = login(api, c).json()["token"]
    assert api.call("GET", "/me", token=session).json()["email"] == c.email


def test_only_email_change_links_confirm_an_email_change(api, registered, mailbox):
    c, token = registered()
    for bad in [token, reset_link(c, mailbox), "A" * 43, "short"]:
        r = confirm_change(api, bad)
        assert r.status in (400, 422) and r.json()["code"] in ("invalid_token", "validation_error"), r.body
    assert api.call("GET", "/me", token=token).json()["email"] == c.email  # the session was not consumed


def test_a_later_password_change_voids_a_pending_email_change(api, registered, mailbox):
    c, token = registered()
    assert change_email(api, token, NEW_EMAIL, c.password).status == 202
    assert change_password(api, token, c.password).status == 204
    r = confirm_change(api, mailbox.last_to(NEW_EMAIL).token())
    assert (r.status, r.json()["code"]) == (400, "invalid_token")


def test_email_change_refusals_and_wrong_password(api, registered, mailbox):
    c, token = registered()
    sent = len(mailbox.messages())
    for body, field in [
        ({"email": "not-an-email", "password": c.password}, "email"),
        ({"password": c.password}, "email"),
        ({"email": NEW_EMAIL}, "password"),
        ({"email": c.email.upper(), "password": c.password}, "email"),  # already the account's
    ]:
        r = api.call("POST", "/me/email", body, token=token)
        assert r.status == 422, (body, r.body)
        assert field in [e["field"] for e in r.json()["errors"]]
    for _ in range(3):
        r = change_email(api, token, NEW_EMAIL, "Wrong-pass-11")
        assert (r.status, r.json()["code"]) == (401, "invalid_credentials")
    r = change_email(api, token, NEW_EMAIL, "Wrong-pass-11")
    assert (r.status, r.json()["code"]) == (429, "locked") and int(r.headers["Retry-After"]) > 0
    assert login(api, c).status == 429
    assert len(mailbox.messages()) == sent  # nothing was mailed
    assert change_email(api, "", NEW_EMAIL, c.password).status == 401


def test_wrong_password_answers_exactly_like_a_wrong_login(api, registered):
    c, token = registered()
    wrong_login = login(api, c, "Wrong-pass-11")
    wrong_change = change_password(api, token, "Wrong-pass-11")
    wrong_email = change_email(api, token, NEW_EMAIL, "Wrong-pass-11")
    assert wrong_login.status == wrong_change.status == wrong_email.status == 401
    assert wrong_login.json() == wrong_change.json() == wrong_email.json()


def test_tokens_are_stored_only_as_hashes_with_the_new_address(api, registered, mailbox):
    from exam_results import tokens
    from exam_results.wiring import deps

    c, token = registered()
    assert change_email(api, token, NEW_EMAIL, c.password).status == 202
    link = mailbox.last_to(NEW_EMAIL).token()
    record = deps().auth.get_token(tokens.token_hash(link))
    assert record is not None and record.kind == "email_change" and record.email == NEW_EMAIL
    assert record.expires_at - time.time() > 24 * 3600 - 60


# ------------------------------------------------------------------ faults, privacy


class RefusedSends:
    """SES refuses every SendEmail (a botocore hook, past the SDK's retries)."""

    def __enter__(self) -> RefusedSends:
        from exam_results.repositories.aws import client

        client("ses").meta.events.register("before-call.ses.SendEmail", self._refuse)
        return self

    def __exit__(self, *_: object) -> None:
        from exam_results.repositories.aws import client

        client("ses").meta.events.unregister("before-call.ses.SendEmail", self._refuse)

    @staticmethod
    def _refuse(**_: object) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "MessageRejected", "Message": "refused"}}, "SendEmail")


def test_an_email_change_whose_notice_to_the_old_address_fails_stores_and_mails_no_link(api, registered, mailbox):
    from exam_results.wiring import deps

    c, token = registered()
    with RefusedSends():
        r = change_email(api, token, NEW_EMAIL, c.password)
    assert r.status == 500 and r.json()["code"] == "internal_error", r.body  # the candidate asks again
    assert mailbox.to(NEW_EMAIL) == []
    d = deps()
    kinds = [d.auth.get_token(pk.removeprefix("TOKEN#")) for pk in d.auth.owner_token_keys(c.id_number)]
    assert "email_change" not in [k.kind for k in kinds if k is not None]
    assert change_email(api, token, NEW_EMAIL, c.password).status == 202  # asking again works


def test_a_password_change_stands_when_its_notice_cannot_be_sent(api, registered, mailbox):
    c, token = registered()
    with RefusedSends():
        assert change_password(api, token, c.password).status == 204
    assert login(api, c, NEW).status == 200


def test_password_and_email_changes_log_no_password_token_or_full_address(api, registered, mailbox, capsys, caplog):
    import json
    import logging

    caplog.set_level(logging.INFO)
    c, token = registered()
    change_password(api, token, "Wrong-pass-11")
    change_password(api, token, c.password)
    change_email(api, token, NEW_EMAIL, NEW)
    link = mailbox.last_to(NEW_EMAIL).token()
    confirm_change(api, link)
    out = capsys.readouterr()
    logged = out.out + out.err + "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert "email change requested" in logged
    for secret in [c.password, NEW, "Wrong-pass-11", token, link, NEW_EMAIL, c.email]:
        assert secret not in logged, f"{secret!r} appears in the logs"


def test_at_most_three_email_change_links_an_hour(api, registered, mailbox):
    with time_machine.travel("2026-06-01T10:00:00Z", tick=False) as t:
        c, token = registered()
        for i in range(3):
            assert change_email(api, token, f"new{i}@example.org", c.password).status == 202
        t.shift(20 * 60)
        r = change_email(api, token, "new3@example.org", c.password)
        assert (r.status, r.json()["code"]) == (429, "too_many_attempts")
        assert r.headers["Retry-After"] == str(40 * 60)
        assert mailbox.to("new3@example.org") == []
        assert login(api, c).status == 200  # a mail limit, not the password lock
        t.shift(40 * 60 + 1)
        token = login(api, c).json()["token"]  # the session has expired meanwhile
        assert change_email(api, token, "new3@example.org", c.password).status == 202


def test_a_failed_email_change_send_gives_its_slot_back(api, registered, mailbox):
    c, token = registered()
    with RefusedSends():
        for _ in range(3):
            assert change_email(api, token, NEW_EMAIL, c.password).status == 500
    assert change_email(api, token, NEW_EMAIL, c.password).status == 202


def test_password_and_email_changes_make_the_designed_aws_calls(api, registered, mailbox):
    """docs/performance.md: counted with devtools.harness.aws_calls, warm containers."""
    from devtools.harness import aws_calls

    c, token = registered()
    login(api, c)  # another session, for the change to tidy away

    def measured(method, path, body):  # type: ignore[no-untyped-def]
        with aws_calls.capture() as captured:
            r = api.call(method, path, body, token=token)
        return r.status, captured.count_by_operation()

    body = {"current_password": c.password, "password": NEW, "confirm_password": NEW}
    # session, account; reserve and clear the attempt; one transaction; the other tokens
    # (index query, batch delete); the entry (name) and the notice.
    assert measured("POST", "/me/password", body) == (
        204,
        {
            "dynamodb:GetItem": 3,
            "dynamodb:UpdateItem": 1,
            "dynamodb:DeleteItem": 1,
            "dynamodb:TransactWriteItems": 1,
            "dynamodb:Query": 1,
            "dynamodb:BatchWriteItem": 1,
            "ses:SendEmail": 1,
        },
    )
    # session, account; reserve and clear; the send log (read, conditional put); the entry;
    # the notice, the token, the link.
    assert measured("POST", "/me/email", {"email": NEW_EMAIL, "password": NEW}) == (
        202,
        {
            "dynamodb:GetItem": 4,
            "dynamodb:UpdateItem": 1,
            "dynamodb:DeleteItem": 1,
            "dynamodb:PutItem": 2,
            "ses:SendEmail": 2,
        },
    )
    link = mailbox.last_to(NEW_EMAIL).token()
    # the token; one transaction; the tokens left (index query, batch delete).
    assert measured("POST", "/me/email/confirmations", {"token": link}) == (
        200,
        {"dynamodb:GetItem": 1, "dynamodb:TransactWriteItems": 1, "dynamodb:Query": 1, "dynamodb:BatchWriteItem": 1},
    )
