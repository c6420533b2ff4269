"""Login lockout and Secret Number attempts, with the clock moved (SPEC §4)."""

from __future__ import annotations

import time_machine

from tests.conftest import registration

START = "2026-06-01T10:00:00Z"


def login(api, id_number, password):
    return api.call("POST", "/sessions", {"id_number": id_number, "password": password})


def test_fourth_failure_locks_for_thirty_minutes_from_that_failure(api, registered):
    with time_machine.travel(START, tick=False) as t:
        c, _ = registered()
        for _ in range(3):
            r = login(api, c.id_number, "Wrong-pass-99")
            assert (r.status, r.json()["code"]) == (401, "invalid_credentials")
            t.shift(60)
        r = login(api, c.id_number, "Wrong-pass-99")
        assert (r.status, r.json()["code"]) == (429, "locked")
        assert r.header("Retry-After") == "1800"

        # The right password while locked is refused, and does not extend the lock.
        t.shift(10 * 60)
        r = login(api, c.id_number, c.password)
        assert (r.status, r.json()["code"]) == (429, "locked")
        assert r.header("Retry-After") == str(20 * 60)
        t.shift(20 * 60 - 1)
        r = login(api, c.id_number, c.password)
        assert r.status == 429 and r.header("Retry-After") == "1"

        t.shift(1)  # 30 minutes after the 4th failure
        assert login(api, c.id_number, c.password).status == 200


def test_success_clears_the_count(api, registered):
    with time_machine.travel(START, tick=False):
        c, _ = registered()
        for _ in range(3):
            assert login(api, c.id_number, "Wrong-pass-99").status == 401
        assert login(api, c.id_number, c.password).status == 200
        for _ in range(3):
            assert login(api, c.id_number, "Wrong-pass-99").status == 401
        assert login(api, c.id_number, "Wrong-pass-99").status == 429


def test_failures_expire_thirty_minutes_after_the_last_one_even_if_ttl_has_not_deleted(api, registered, stack):
    with time_machine.travel(START, tick=False) as t:
        c, _ = registered()
        for _ in range(3):
            assert login(api, c.id_number, "Wrong-pass-99").status == 401
        t.shift(30 * 60)
        # The record is still in the table (moto, like DynamoDB, deletes by TTL late)...
        from exam_results.wiring import deps

        d = deps()
        assert d.auth.get_attempts(d.auth.attempts_pk("LOGIN", c.id_number))["attempts"] == 3
        # ...but it has expired: counting starts again.
        for _ in range(3):
            assert login(api, c.id_number, "Wrong-pass-99").status == 401
        assert login(api, c.id_number, "Wrong-pass-99").status == 429


def test_unknown_ids_are_counted_the_same_way(api):
    with time_machine.travel(START, tick=False):
        answers = [login(api, "NOBODY1234", "Wrong-pass-99") for _ in range(5)]
    assert [a.status for a in answers] == [401, 401, 401, 429, 429]
    assert answers[3].json()["code"] == "locked"


def test_unconfirmed_account_right_password_clears_the_count(api, seed):
    c = seed()
    api.call("POST", "/registrations", registration(c))
    for _ in range(3):
        assert login(api, c.id_number, "Wrong-pass-99").status == 401
    assert login(api, c.id_number, c.password).status == 403
    for _ in range(3):
        assert login(api, c.id_number, "Wrong-pass-99").status == 401


def test_forgotten_password_works_while_locked_and_reset_clears_the_lock(api, registered, mailbox, mail_worker):
    with time_machine.travel(START, tick=False):
        c, token = registered()
        for _ in range(4):
            login(api, c.id_number, "Wrong-pass-99")
        assert login(api, c.id_number, c.password).status == 429
        assert api.call("POST", "/password-resets", {"id_number": c.id_number}).status == 202
        mail_worker.drain()
        reset = mailbox.last_to(c.email)
        assert reset.link().startswith("https://results.test/reset.html?token=")
        new = "Brand-new-pass-77"
        r = api.call(
            "POST",
            "/password-resets/confirmations",
            {"token": reset.token(), "password": new, "confirm_password": new},
        )
        assert r.status == 200
        assert login(api, c.id_number, new).status == 200
        # The old session ended with the reset.
        assert api.call("GET", "/me", token=token).status == 401


def test_fifth_wrong_secret_locks_registration_for_thirty_minutes(api, seed):
    with time_machine.travel(START, tick=False) as t:
        c = seed()
        for _ in range(4):
            r = api.call("POST", "/registrations", registration(c, secret_number="9999"))
            assert r.status == 403
        r = api.call("POST", "/registrations", registration(c, secret_number="9999"))
        assert (r.status, r.json()["code"]) == (429, "too_many_attempts")
        assert r.header("Retry-After") == "1800"
        # The right secret during the lock is refused too.
        t.shift(29 * 60)
        r = api.call("POST", "/registrations", registration(c))
        assert r.status == 429 and r.header("Retry-After") == "60"
        t.shift(60)
        assert api.call("POST", "/registrations", registration(c)).status == 201


def test_a_right_secret_does_not_count_as_a_wrong_one(api, seed):
    c = seed()
    for _ in range(4):
        assert api.call("POST", "/registrations", registration(c, secret_number="9999")).status == 403
    assert api.call("POST", "/registrations", registration(c)).status == 201
    # Registered now: the right secret answers 409 and still is not a failure.
    for _ in range(3):
        assert api.call("POST", "/registrations", registration(c)).status == 409
    assert api.call("POST", "/registrations", registration(c, secret_number="9999")).status == 429


class PauseAfterCounting:
    """Holds chosen threads just after their attempt is counted (their first ``UpdateItem``),
    until released: the place where concurrent attempts race the lock. A botocore hook on the
    layer's DynamoDB client; other threads pass untouched."""

    def __init__(self) -> None:
        import threading

        from exam_results.repositories.aws import client

        self.counted: dict[str, threading.Event] = {}
        self.go: dict[str, threading.Event] = {}
        client("dynamodb").meta.events.register("after-call.dynamodb.UpdateItem", self._after_update)

    def hold(self, name: str) -> None:
        import threading

        self.counted[name], self.go[name] = threading.Event(), threading.Event()

    def _after_update(self, **_) -> None:
        import threading

        name = threading.current_thread().name
        if name in self.counted and not self.counted[name].is_set():
            self.counted[name].set()
            assert self.go[name].wait(30), f"{name} was never released"


def test_an_attempt_refused_while_others_are_in_flight_answers_the_time_actually_left(api, registered):
    """The 5th attempt is counted while the 4th is still being checked; the 4th then fails and
    locks; the 5th answers 15 minutes later: Retry-After is what is left of the lock, not 1800."""
    import threading

    with time_machine.travel(START, tick=False) as t:
        c, _ = registered()
        for _ in range(3):
            assert login(api, c.id_number, "Wrong-pass-99").status == 401
        pause = PauseAfterCounting()
        answers = {}

        def attempt(name):
            pause.hold(name)
            thread = threading.Thread(
                target=lambda: answers.__setitem__(name, login(api, c.id_number, "Wrong-pass-99")), name=name
            )
            thread.start()
            assert pause.counted[name].wait(30), f"{name} was not counted"
            return thread

        fourth = attempt("fourth")  # number 4: checked, will lock
        t.shift(10 * 60)
        fifth = attempt("fifth")  # number 5 > 4: refused unchecked
        pause.go["fourth"].set()
        fourth.join(30)
        assert (answers["fourth"].status, answers["fourth"].header("Retry-After")) == (429, "1800")
        t.shift(15 * 60)
        pause.go["fifth"].set()
        fifth.join(30)
        refused = answers["fifth"]
        assert (refused.status, refused.json()["code"]) == (429, "locked")
        assert refused.header("Retry-After") == str(15 * 60)  # the lock ends 30 minutes after the 4th failed
        # The lock itself agrees, and ends then.
        assert login(api, c.id_number, c.password).header("Retry-After") == str(15 * 60)
        t.shift(15 * 60)
        assert login(api, c.id_number, c.password).status == 200
