"""Password resets (SPEC §3–§4)."""

from __future__ import annotations

import time_machine

from tests.conftest import registration

NEW = "Brand-new-pass-77"


def confirm(api, token, password=NEW, confirm_password=None):
    return api.call(
        "POST",
        "/password-resets/confirmations",
        {"token": token, "password": password, "confirm_password": confirm_password or password},
    )


def test_reset_answers_alike_for_registered_and_unknown_ids(api, registered, seed, mailbox, mail_worker):
    c, _ = registered()
    unregistered = seed(id_number="XYZ987654")
    known = api.call("POST", "/password-resets", {"id_number": c.id_number})
    unknown = api.call("POST", "/password-resets", {"id_number": "ZZZ999999"})
    not_registered = api.call("POST", "/password-resets", {"id_number": unregistered.id_number})
    assert known.status == unknown.status == not_registered.status == 202
    assert known.body == unknown.body == not_registered.body
    sent_before = len(mailbox.messages())
    assert mail_worker.drain() == 3  # the requests only queued: the worker sends
    assert len([m for m in mailbox.to(c.email) if "reset" in m.subject.lower()]) == 1
    assert len(mailbox.messages()) == sent_before + 1  # nothing for the unknown or unregistered ID


def test_at_most_three_reset_emails_an_hour(api, registered, mailbox, mail_worker):
    with time_machine.travel("2026-06-01T10:00:00Z", tick=False) as t:
        c, _ = registered()
        answers = [api.call("POST", "/password-resets", {"id_number": c.id_number}) for _ in range(5)]
        assert {a.status for a in answers} == {202}
        assert mail_worker.drain() == 5
        resets = lambda: [m for m in mailbox.to(c.email) if "reset" in m.subject.lower()]  # noqa: E731
        assert len(resets()) == 3
        t.shift(60 * 60 + 1)
        api.call("POST", "/password-resets", {"id_number": c.id_number})
        mail_worker.drain()
        assert len(resets()) == 4


def test_reset_token_is_single_use_and_expires_after_sixty_minutes(api, registered, mailbox, mail_worker):
    with time_machine.travel("2026-06-01T10:00:00Z", tick=False) as t:
        c, _ = registered()
        api.call("POST", "/password-resets", {"id_number": c.id_number})
        mail_worker.drain()
        first = mailbox.last_to(c.email).token()
        assert confirm(api, first).status == 200
        r = confirm(api, first, "Another-pass-88")
        assert (r.status, r.json()["code"]) == (400, "invalid_token")

        api.call("POST", "/password-resets", {"id_number": c.id_number})
        mail_worker.drain()
        late = mailbox.last_to(c.email).token()
        t.shift(60 * 60 + 1)
        assert confirm(api, late).json()["code"] == "invalid_token"


def test_refused_422_does_not_use_up_the_token(api, registered, mailbox, mail_worker):
    c, _ = registered()
    api.call("POST", "/password-resets", {"id_number": c.id_number})
    mail_worker.drain()
    token = mailbox.last_to(c.email).token()
    r = confirm(api, token, "password12")
    assert r.status == 422 and r.json()["errors"][0]["field"] == "password"
    r = confirm(api, token, NEW, "Mismatch-pass-11")
    assert r.status == 422 and r.json()["errors"][0]["field"] == "confirm_password"
    assert confirm(api, token).status == 200
    login = api.call("POST", "/sessions", {"id_number": c.id_number, "password": NEW})
    assert login.status == 200
    assert api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password}).status == 401


def test_reset_ends_every_session_and_confirms_the_email(api, seed, mailbox, mail_worker):
    c = seed()
    api.call("POST", "/registrations", registration(c))  # never confirmed
    api.call("POST", "/password-resets", {"id_number": c.id_number})
    mail_worker.drain()
    reset = [m for m in mailbox.to(c.email) if "reset" in m.subject.lower()][-1]
    assert confirm(api, reset.token()).status == 200
    r = api.call("POST", "/sessions", {"id_number": c.id_number, "password": NEW})
    assert r.status == 200  # completing a reset confirmed the email


def test_confirmation_token_cannot_reset_a_password(api, seed, mailbox):
    c = seed()
    api.call("POST", "/registrations", registration(c))
    token = mailbox.last_to(c.email).token()
    assert confirm(api, token).json()["code"] == "invalid_token"
    # ...and a session token is not a confirmation token.
    assert api.call("POST", "/registrations/confirmations", {"token": token}).status == 200
