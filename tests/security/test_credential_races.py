"""Credential changes win every race (SPEC §4): a password reset and an erasure end every session
and token issued before them, including those that requests still in flight write afterwards,
and an account registered again for an erased ID Number inherits nothing.

Real threads against the handlers on moto, with no lock around them. The race windows are made
reliable from outside the code under test: a slowed password-hash function (test 1) and a
botocore hook that holds token writes of requests in flight (tests 2 and 3).
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import Candidate, registration

NEW = "Brand-new-pass-77"
OTHER = Candidate("", "", "", "", email="someone.else@example.com", password="Other-person-58")


# The email use cases, called the way their route calls them. (If the reset request and the
# resend move into a queue worker, these two helpers are the only place to change.)
def request_reset(id_number: str) -> None:
    from exam_results.usecases import accounts
    from exam_results.wiring import deps

    accounts.request_password_reset(deps(), id_number)


def resend_confirmation(id_number: str) -> None:
    from exam_results.usecases import accounts
    from exam_results.wiring import deps

    accounts.resend_confirmation(deps(), id_number)


def login(api, c: Candidate, password: str | None = None):  # type: ignore[no-untyped-def]
    return api.call("POST", "/sessions", {"id_number": c.id_number, "password": password or c.password})


def confirm_reset(api, token: str, password: str = NEW):  # type: ignore[no-untyped-def]
    body = {"token": token, "password": password, "confirm_password": password}
    return api.call("POST", "/password-resets/confirmations", body)


class HeldTokenWrites:
    """Token writes of the given kinds wait, as a request still in flight would, until released.

    A botocore ``before-call`` hook on the layer's DynamoDB client: the request has read what it
    read and decided what to write; only the write itself is held back.
    """

    def __init__(self, *kinds: str) -> None:
        self.kinds = set(kinds)
        self.arrived = threading.Semaphore(0)
        self.go = threading.Event()

    def __enter__(self) -> HeldTokenWrites:
        from exam_results.repositories.aws import client

        client("dynamodb").meta.events.register("before-call.dynamodb.PutItem", self._hold)
        return self

    def __exit__(self, *_: object) -> None:
        from exam_results.repositories.aws import client

        self.go.set()
        client("dynamodb").meta.events.unregister("before-call.dynamodb.PutItem", self._hold)

    def _hold(self, params: dict[str, Any], **_: Any) -> None:
        item = json.loads(params["body"]).get("Item", {})
        if item.get("pk", {}).get("S", "").startswith("TOKEN#") and item.get("kind", {}).get("S") in self.kinds:
            self.arrived.release()
            assert self.go.wait(30), "never released"

    def wait_for(self, n: int) -> None:
        for _ in range(n):
            assert self.arrived.acquire(timeout=30), "the request never reached its token write"


def register_and_confirm(api, mailbox, c: Candidate) -> None:  # type: ignore[no-untyped-def]
    assert api.call("POST", "/registrations", registration(c)).status == 201
    token = mailbox.last_to(c.email).token()
    assert api.call("POST", "/registrations/confirmations", {"token": token}).status == 200


# ---------------------------------------------------------------- 1. reset vs in-flight logins


def test_no_session_from_before_or_during_a_password_reset_survives_it(api, registered, mailbox, monkeypatch):
    """30 logins with the old password race a reset confirmation, 3 rounds: every login that
    checked the old password before the reset committed writes its session after it."""
    from exam_results import passwords

    real_verify, real_hash = passwords.verify_password, passwords.hash_password
    for round_ in range(3):
        c, before = registered(id_number=f"RACE{round_:05d}")
        request_reset(c.id_number)
        reset_token = mailbox.last_to(c.email).token()
        checked_old = threading.Event()
        reset_done = threading.Event()

        def slow_verify(stored: str | None, password: str) -> bool:
            ok = real_verify(stored, password)
            if ok:  # the old password checked: the session is written only after the reset
                checked_old.set()
                reset_done.wait(10)
            return ok

        def slow_hash(password: str) -> str:
            checked_old.wait(10)  # the reset commits while such logins are in flight
            return real_hash(password)

        barrier = threading.Barrier(31)

        def attempt(_: int):  # type: ignore[no-untyped-def]
            barrier.wait()
            return login(api, c)

        def reset():  # type: ignore[no-untyped-def]
            barrier.wait()
            try:
                return confirm_reset(api, reset_token)
            finally:
                reset_done.set()

        with monkeypatch.context() as m, ThreadPoolExecutor(31) as pool:
            m.setattr(passwords, "verify_password", slow_verify)
            m.setattr(passwords, "hash_password", slow_hash)
            logins = [pool.submit(attempt, i) for i in range(30)]
            confirmed = pool.submit(reset)
            answers = [f.result() for f in logins]
            assert confirmed.result().status == 200
        statuses = [a.status for a in answers]
        assert set(statuses) <= {200, 401, 429}, statuses
        during = [a.json()["token"] for a in answers if a.status == 200]
        assert during, f"no login raced the reset: {statuses}"
        survivors = [t for t in [before, *during] if api.call("GET", "/me", token=t).status != 401]
        assert survivors == [], f"round {round_}: {len(survivors)} of {len(during) + 1} sessions survived the reset"
        assert login(api, c, NEW).status == 200


# ------------------------------------------------- 2. erasure vs in-flight logins and resets


def test_logins_and_reset_requests_in_flight_during_erasure_reach_nothing_of_the_next_account(api, registered, mailbox):
    c, session = registered()
    with ThreadPoolExecutor(7) as pool, HeldTokenWrites("session", "reset") as held:
        # Each login checks the password (one at a time: the lockout allows 4 in flight), then
        # waits at its session write; the reset request has read the account and waits too.
        logins = []
        for _ in range(6):
            logins.append(pool.submit(login, api, c))
            held.wait_for(1)
        reset = pool.submit(request_reset, c.id_number)
        held.wait_for(1)
        assert api.call("DELETE", "/me", token=session).status == 204
        held.go.set()  # the in-flight requests write after the erasure
        answers = [f.result() for f in logins]
        reset.result()
    assert [a.status for a in answers] == [200] * 6
    old_reset_link = mailbox.last_to(c.email).token()

    # Another person registers the same ID Number (they hold its Secret Number now).
    other = Candidate(c.id_number, c.secret_number, c.name, c.session_id, OTHER.email, OTHER.password)
    register_and_confirm(api, mailbox, other)

    for token in [session, *(a.json()["token"] for a in answers)]:
        r = api.call("GET", "/me", token=token)
        assert r.status == 401, r.body  # 200 would show the other person's account
    r = confirm_reset(api, old_reset_link)
    assert r.status == 400, r.body  # 200: the old link set the other person's password
    assert r.json()["code"] == "invalid_token"
    assert login(api, other).status == 200  # their password is untouched
    assert login(api, other, NEW).status == 401


# ---------------------------------------- 3. confirmation link of an erased account


def test_a_confirmation_link_issued_before_erasure_cannot_confirm_the_next_account(api, seed, mailbox):
    c = seed()
    assert api.call("POST", "/registrations", registration(c)).status == 201
    first_link = mailbox.last_to(c.email).token()
    with ThreadPoolExecutor(1) as pool, HeldTokenWrites("confirm") as held:
        # A resend has read the unconfirmed account; before it stores its link the candidate
        # confirms with the first one, logs in and erases the account.
        resend = pool.submit(resend_confirmation, c.id_number)
        held.wait_for(1)
        assert api.call("POST", "/registrations/confirmations", {"token": first_link}).status == 200
        session = login(api, c).json()["token"]
        assert api.call("DELETE", "/me", token=session).status == 204
        held.go.set()
        resend.result()
    late_link = mailbox.last_to(c.email).token()
    assert late_link != first_link

    other = Candidate(c.id_number, c.secret_number, c.name, c.session_id, OTHER.email, OTHER.password)
    assert api.call("POST", "/registrations", registration(other)).status == 201
    r = api.call("POST", "/registrations/confirmations", {"token": late_link})
    assert r.status == 400, r.body  # 200: the erased account's link confirmed the other person's
    assert r.json()["code"] == "invalid_token"
    r = login(api, other)
    assert (r.status, r.json()["code"]) == (403, "email_not_confirmed")  # still unconfirmed
    own_link = mailbox.last_to(other.email).token()
    assert api.call("POST", "/registrations/confirmations", {"token": own_link}).status == 200
