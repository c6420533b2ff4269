"""Credential changes win every race (SPEC §4): a password reset and an erasure end every session
and token issued before them, including those that requests still in flight write afterwards,
and an account registered again for an erased ID Number inherits nothing.

Real threads against the handlers on moto, with no lock around them. The race windows are made
reliable from outside the code under test: a slowed password-hash function (test 1) and a
botocore hook that holds the writes of requests in flight (the others).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from tests.conftest import Candidate, registration

NEW = "Brand-new-pass-77"
OTHER = Candidate("", "", "", "", email="someone.else@example.com", password="Other-person-58")


# The email requests, delivered the way the mail worker delivers a queued request (the routes
# only queue them: tests/integration/mail_requests/test_mail_requests.py covers the queue itself).
def request_reset(id_number: str) -> None:
    from exam_results.mail_requests import MailRequest
    from exam_results.usecases import mail_requests
    from exam_results.wiring import deps

    mail_requests.deliver(deps(), MailRequest(kind="reset", id_number=id_number))


def resend_confirmation(id_number: str) -> None:
    from exam_results.mail_requests import MailRequest
    from exam_results.usecases import mail_requests
    from exam_results.wiring import deps

    mail_requests.deliver(deps(), MailRequest(kind="confirmation", id_number=id_number))


def login(api, c: Candidate, password: str | None = None):  # type: ignore[no-untyped-def]
    return api.call("POST", "/sessions", {"id_number": c.id_number, "password": password or c.password})


def confirm_reset(api, token: str, password: str = NEW):  # type: ignore[no-untyped-def]
    body = {"token": token, "password": password, "confirm_password": password}
    return api.call("POST", "/password-resets/confirmations", body)


class HeldWrites:
    """Matching DynamoDB writes wait, as a request still in flight would, until released.

    A botocore ``before-call`` hook on the layer's DynamoDB client: the request has read what it
    read and decided what to write; only the write itself is held back.
    """

    def __init__(self, operation: str, matches: Callable[[dict[str, Any]], bool], *more: str) -> None:
        self.events = [f"before-call.dynamodb.{op}" for op in (operation, *more)]
        self.matches = matches
        self.arrived = threading.Semaphore(0)
        self.passes = threading.Semaphore(0)

    def __enter__(self) -> HeldWrites:
        from exam_results.repositories.aws import client

        for event in self.events:
            client("dynamodb").meta.events.register(event, self._hold)
        return self

    def __exit__(self, *_: object) -> None:
        from exam_results.repositories.aws import client

        for event in self.events:
            client("dynamodb").meta.events.unregister(event, self._hold)
        self.passes.release(1000)

    def _hold(self, params: dict[str, Any], **_: Any) -> None:
        if self.matches(json.loads(params["body"])):
            self.arrived.release()
            assert self.passes.acquire(timeout=30), "never released"

    def wait_for(self, n: int) -> None:
        for _ in range(n):
            assert self.arrived.acquire(timeout=30), "the request never reached its write"

    def release(self, requests: list[Future[Any]]) -> None:
        """Let the held requests write, one after the other.

        One at a time because the in-process harness shares Powertools' metrics between threads:
        handlers finishing at the same instant can crash its flush (a 502 Lambda cannot give).
        """
        pending = set(requests)
        while pending:
            self.passes.release()
            done, pending = wait(pending, timeout=30, return_when=FIRST_COMPLETED)
            assert done, "a released request did not finish"


def token_writes(*kinds: str) -> HeldWrites:
    """Writes of tokens of these kinds, alone (PutItem) or in a transaction (a log-in stores its
    session with the clearing of its attempts)."""

    def is_token(item: dict[str, Any]) -> bool:
        return item.get("pk", {}).get("S", "").startswith("TOKEN#") and item.get("kind", {}).get("S") in kinds

    def matches(request: dict[str, Any]) -> bool:
        items = [request.get("Item", {})] + [t.get("Put", {}).get("Item", {}) for t in request.get("TransactItems", [])]
        return any(is_token(item) for item in items)

    return HeldWrites("PutItem", matches, "TransactWriteItems")


def account_writes(operation: str) -> HeldWrites:
    return HeldWrites(operation, lambda request: request.get("Key", {}).get("sk", {}).get("S") == "ACCOUNT")


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


# ------------------------------------------------- 2. erasure vs in-flight logins and resets


def test_logins_and_reset_requests_in_flight_during_erasure_reach_nothing_of_the_next_account(api, registered, mailbox):
    c, session = registered()
    with ThreadPoolExecutor(7) as pool, token_writes("session", "reset") as held:
        # Each login checks the password, then waits at its session write; the reset request has
        # read the account and waits too. Four logins: a login holds its attempt until the session
        # is stored (with the clearing of the attempts, in one transaction), and the lockout
        # allows 4 attempts in flight.
        logins = []
        for _ in range(4):
            logins.append(pool.submit(login, api, c))
            held.wait_for(1)
        reset = pool.submit(request_reset, c.id_number)
        held.wait_for(1)
        assert api.call("DELETE", "/me", token=session).status == 204
        held.release([*logins, reset])  # the in-flight requests write after the erasure
        answers = [f.result() for f in logins]
        reset.result()
    assert [a.status for a in answers] == [200] * 4
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
    with ThreadPoolExecutor(1) as pool, token_writes("confirm") as held:
        # A resend has read the unconfirmed account; before it stores its link the candidate
        # confirms with the first one, logs in and erases the account.
        resend = pool.submit(resend_confirmation, c.id_number)
        held.wait_for(1)
        assert api.call("POST", "/registrations/confirmations", {"token": first_link}).status == 200
        session = login(api, c).json()["token"]
        assert api.call("DELETE", "/me", token=session).status == 204
        held.release([resend])
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


# ------------------------------------ 4. requests of a session voided while they are in flight


def test_an_erasure_in_flight_when_the_password_is_reset_erases_nothing(api, registered, mailbox):
    """A stolen session asks to erase the account while its owner resets the password: the
    reset wins, the erasure (authenticated before it) deletes nothing."""
    c, stolen = registered()
    request_reset(c.id_number)
    reset_link = mailbox.last_to(c.email).token()
    with ThreadPoolExecutor(1) as pool, account_writes("DeleteItem") as held:
        erasure = pool.submit(api.call, "DELETE", "/me", None, stolen)
        held.wait_for(1)
        assert confirm_reset(api, reset_link).status == 200
        held.release([erasure])
        r = erasure.result()
    assert r.status == 401, r.body
    assert login(api, c, NEW).status == 200  # the account is still there


def test_a_profile_change_in_flight_during_erasure_does_not_touch_the_next_account(api, registered, mailbox):
    c, session = registered()
    with ThreadPoolExecutor(1) as pool, account_writes("UpdateItem") as held:
        change = pool.submit(api.call, "PATCH", "/me", {"newsletter_opt_in": True}, session)
        held.wait_for(1)
        assert api.call("DELETE", "/me", token=session).status == 204
        other = Candidate(c.id_number, c.secret_number, c.name, c.session_id, OTHER.email, OTHER.password)
        register_and_confirm(api, mailbox, other)
        held.release([change])
        r = change.result()
    assert r.status == 401, r.body  # 200 would show, and change, the other person's account
    from exam_results.wiring import deps

    account = deps().candidates.get_account(c.id_number)
    assert account is not None and account.email == OTHER.email and account.newsletter_opt_in is False


# ------------------------------------------------------- items stored before generations


def test_accounts_and_tokens_stored_without_a_generation_work_until_the_first_reset(api, registered, mailbox):
    """Older items have no generation: such an account and its tokens match each other (the
    default, None, on both sides) until a reset gives the account one."""
    from exam_results import tokens
    from exam_results.repositories import dynamo
    from exam_results.repositories.candidates import ACCOUNT_SK, candidate_pk
    from exam_results.wiring import deps

    c, session = registered()
    d = deps()
    for table, key in [
        (d.settings.data_table, {"pk": candidate_pk(c.id_number), "sk": ACCOUNT_SK}),
        (d.settings.auth_table, {"pk": f"TOKEN#{tokens.token_hash(session)}"}),
    ]:
        dynamo.ddb().update_item(TableName=table, Key=dynamo.item(key), UpdateExpression="REMOVE generation")
    account = d.candidates.get_account(c.id_number)
    assert account is not None and account.generation is None
    assert api.call("GET", "/me", token=session).status == 200

    request_reset(c.id_number)  # issued for the account without a generation
    assert confirm_reset(api, mailbox.last_to(c.email).token()).status == 200
    account = d.candidates.get_account(c.id_number)
    assert account is not None and account.generation is not None
    assert api.call("GET", "/me", token=session).status == 401
    assert login(api, c, NEW).status == 200
