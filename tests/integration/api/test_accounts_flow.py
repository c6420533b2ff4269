"""The whole candidate journey through real API Gateway events, against the template's stack."""

from __future__ import annotations

from tests.conftest import registration


def test_whole_flow_register_confirm_login_profile_logout(api, seed, mailbox):
    c = seed()
    r = api.call("POST", "/registrations", registration(c, newsletter_opt_in=True))
    assert r.status == 201
    assert r.json() == {"id_number": c.id_number, "email": c.email, "email_confirmed": False}

    mail = mailbox.last_to(c.email)
    assert mail.link().startswith("https://results.test/confirm.html?token=")
    assert "Jane Candidate" in mail.body

    # Not confirmed yet: the right password answers 403.
    r = api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password})
    assert (r.status, r.json()["code"]) == (403, "email_not_confirmed")

    r = api.call("POST", "/registrations/confirmations", {"token": mail.token()})
    assert r.status == 200
    assert r.json() == {"id_number": c.id_number, "email_confirmed": True}

    # ID Numbers are compared case-insensitively.
    r = api.call("POST", "/sessions", {"id_number": c.id_number.lower(), "password": c.password})
    assert r.status == 200
    token = r.json()["token"]
    assert len(token) >= 43
    from datetime import datetime, timedelta

    expires = datetime.fromisoformat(r.json()["expires_at"])
    assert expires.utcoffset() == timedelta(0)

    r = api.call("GET", "/me", token=token)
    assert r.status == 200
    assert r.json() == {
        "id_number": c.id_number,
        "candidate_name": "Jane Candidate",
        "email": c.email,
        "newsletter_opt_in": True,
        "language": "en",
    }
    r = api.call("PATCH", "/me", {"newsletter_opt_in": False}, token=token)
    assert r.status == 200 and r.json()["newsletter_opt_in"] is False
    assert api.call("GET", "/me", token=token).json()["newsletter_opt_in"] is False

    assert api.call("DELETE", "/sessions/current", token=token).status == 204
    r = api.call("GET", "/me", token=token)
    assert (r.status, r.json()["code"]) == (401, "unauthorized")
    assert api.call("DELETE", "/sessions/current", token=token).status == 401


def test_confirmation_token_is_single_use(api, seed, mailbox):
    c = seed()
    api.call("POST", "/registrations", registration(c))
    token = mailbox.last_to(c.email).token()
    assert api.call("POST", "/registrations/confirmations", {"token": token}).status == 200
    r = api.call("POST", "/registrations/confirmations", {"token": token})
    assert (r.status, r.json()["code"]) == (400, "invalid_token")


def test_email_is_stored_as_given(api, seed, mailbox):
    c = seed()
    r = api.call("POST", "/registrations", registration(c, email="Jane.Candidate@Example.COM"))
    assert r.json()["email"] == "Jane.Candidate@Example.COM"
    assert mailbox.to("Jane.Candidate@Example.COM")


def test_erase_account_removes_account_sessions_and_tokens(api, registered, seed, stack):
    c, token = registered()
    second = api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password}).json()["token"]
    assert api.call("DELETE", "/me", token=token).status == 204
    assert api.call("GET", "/me", token=token).status == 401
    assert api.call("GET", "/me", token=second).status == 401
    # No token of that candidate is left in the auth table, and the entry stays.
    from exam_results.wiring import deps

    d = deps()
    assert d.auth.owner_token_keys(c.id_number) == []
    assert d.candidates.get_account(c.id_number) is None
    assert d.candidates.get_entry(c.id_number) is not None
    # The candidate can register again with the same Confirmation of Entry.
    from tests.conftest import registration as body

    assert api.call("POST", "/registrations", body(c)).status == 201


def test_resend_sends_only_for_registered_unconfirmed_and_at_most_three_an_hour(api, seed, mailbox, mail_worker):
    c = seed()
    unknown = api.call("POST", "/registrations/confirmations/resend", {"id_number": "ZZZ999999"})
    assert mail_worker.drain() == 1 and mailbox.messages() == []
    api.call("POST", "/registrations", registration(c))
    assert len(mailbox.to(c.email)) == 1
    answers = [api.call("POST", "/registrations/confirmations/resend", {"id_number": c.id_number}) for _ in range(5)]
    assert {(a.status, a.body) for a in answers} == {(unknown.status, unknown.body)}
    assert unknown.status == 202
    assert mail_worker.drain() == 5
    # 1 registration email + 3 resends (the registration email does not count).
    assert len(mailbox.to(c.email)) == 4
    # Every resent link works.
    token = mailbox.last_to(c.email).token()
    assert api.call("POST", "/registrations/confirmations", {"token": token}).status == 200
    # Confirmed: no more resends.
    api.call("POST", "/registrations/confirmations/resend", {"id_number": c.id_number})
    assert mail_worker.drain() == 1
    assert len(mailbox.to(c.email)) == 4


def test_resend_limit_is_a_sliding_hour(api, seed, mailbox, mail_worker):
    import time_machine

    c = seed()
    with time_machine.travel("2026-06-01T10:00:00Z", tick=False) as t:
        api.call("POST", "/registrations", registration(c))
        for _ in range(3):
            api.call("POST", "/registrations/confirmations/resend", {"id_number": c.id_number})
            mail_worker.drain()  # the worker's clock counts: each send a minute apart
            t.shift(60)
        api.call("POST", "/registrations/confirmations/resend", {"id_number": c.id_number})
        mail_worker.drain()
        assert len(mailbox.to(c.email)) == 4
        t.shift(60 * 60 - 170)  # the first resend is now more than an hour old
        api.call("POST", "/registrations/confirmations/resend", {"id_number": c.id_number})
        mail_worker.drain()
        assert len(mailbox.to(c.email)) == 5


def test_expired_confirmation_token_is_refused_even_before_ttl_deletes_it(api, seed, mailbox):
    import time_machine

    c = seed()
    with time_machine.travel("2026-06-01T10:00:00Z", tick=False) as t:
        api.call("POST", "/registrations", registration(c))
        token = mailbox.last_to(c.email).token()
        t.shift(24 * 60 * 60 + 1)
        r = api.call("POST", "/registrations/confirmations", {"token": token})
        assert (r.status, r.json()["code"]) == (400, "invalid_token")


def test_session_expires_after_sixty_minutes(api, registered):
    import time_machine

    with time_machine.travel("2026-06-01T10:00:00Z", tick=False) as t:
        _c, token = registered()
        t.shift(59 * 60)
        assert api.call("GET", "/me", token=token).status == 200
        t.shift(61)
        assert api.call("GET", "/me", token=token).status == 401
