"""Abuse: concurrent races, brute force, secret guessing across IDs, account enumeration."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import registration


def _at_once(n: int, attempt):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)

    def run(i: int):  # type: ignore[no-untyped-def]
        barrier.wait()
        return attempt(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_fifty_concurrent_registrations_for_one_id_give_exactly_one_account(api, seed, mailbox):
    c = seed()
    answers = _at_once(50, lambda i: api.call("POST", "/registrations", registration(c, email=f"p{i}@example.com")))
    statuses = [a.status for a in answers]
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409, 429}, statuses  # never 5xx
    from exam_results.wiring import deps

    winner = next(a for a in answers if a.status == 201).json()["email"]
    assert deps().candidates.get_account(c.id_number).email == winner
    assert [m.to for m in mailbox.messages()] == [[winner]]
    for a in answers:
        if a.status != 201:
            assert {"code", "message"} <= set(a.json())


def test_hundred_concurrent_wrong_logins_lock_and_check_the_password_at_most_four_times(api, registered, monkeypatch):
    c, _ = registered()
    from exam_results import passwords

    checks = []
    real = passwords.verify_password

    def counting(stored, password):  # type: ignore[no-untyped-def]
        checks.append(1)
        return real(stored, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    answers = _at_once(
        100, lambda _: api.call("POST", "/sessions", {"id_number": c.id_number, "password": "Wrong-pass-99"})
    )
    statuses = [a.status for a in answers]
    assert len(checks) <= 4, len(checks)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(429) >= 96
    assert all(a.header("Retry-After") for a in answers if a.status == 429)
    # Locked: even the right password is refused, and is not checked.
    before = len(checks)
    r = api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password})
    assert r.status == 429 and r.json()["code"] == "locked"
    assert len(checks) == before


def test_secret_guessing_across_many_ids_gets_five_checks_per_id_then_the_lock(api, seed, monkeypatch):
    """An attacker guessing Secret Numbers on 20 IDs: each ID allows 5 wrong checks in 30 minutes,
    then refuses every guess, the right one included, without checking it."""
    from exam_results import credentials

    candidates = [seed(id_number=f"GUESS{i:04d}", secret_number=f"{1000 + i}") for i in range(20)]
    checks: dict[str, int] = {}
    real = credentials.verify_secret

    def counting(pepper, stored, id_number, secret):  # type: ignore[no-untyped-def]
        checks[id_number] = checks.get(id_number, 0) + 1
        return real(pepper, stored, id_number, secret)

    monkeypatch.setattr(credentials, "verify_secret", counting)
    for c in candidates:
        for guess in range(8):
            route = "/verifications" if guess % 2 else "/registrations"
            body = {"id_number": c.id_number, "secret_number": f"{9000 + guess}"}
            body = registration(c, **body) if route == "/registrations" else body
            api.call("POST", route, body)
        r = api.call("POST", "/verifications", {"id_number": c.id_number, "secret_number": c.secret_number})
        assert r.status == 429 and r.json()["code"] == "too_many_attempts", r.body
        assert int(r.header("Retry-After")) > 25 * 60
    assert set(checks.values()) == {5}, checks  # 5 checks per ID: 160 guesses → 100 checked
    # Unknown IDs are counted the same way.
    for _ in range(5):
        api.call("POST", "/verifications", {"id_number": "NOBODY001", "secret_number": "1234"})
    assert api.call("POST", "/verifications", {"id_number": "NOBODY001", "secret_number": "1234"}).status == 429


# --------------------------------------------------------------------- enumeration


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    assert (a.status, a.json()) == (b.status, b.json())
    assert bool(a.header("Retry-After")) == bool(b.header("Retry-After"))


@pytest.fixture
def known(registered, exams):  # type: ignore[no-untyped-def]
    from datetime import UTC, date, datetime

    exams.session(
        "C1A-2026-06-20-PB",
        "C1A",
        date(2026, 6, 20),
        "PB",
        datetime(2026, 7, 25, tzinfo=UTC),
        released_at=datetime(2026, 7, 25, tzinfo=UTC),
    )
    c, _ = registered(session_id="C1A-2026-06-20-PB")
    return c


UNKNOWN = "ZZZ999999"


def test_registration_answers_unknown_and_known_ids_alike(api, known):
    unknown = api.call("POST", "/registrations", registration(known, id_number=UNKNOWN, secret_number="1111"))
    wrong = api.call("POST", "/registrations", registration(known, secret_number="1111"))
    _same(unknown, wrong)
    assert unknown.status == 403


def test_login_answers_unknown_and_known_ids_alike_up_to_and_during_the_lock(api, known):
    for _ in range(5):
        unknown = api.call("POST", "/sessions", {"id_number": UNKNOWN, "password": "Wrong-pass-99"})
        wrong = api.call("POST", "/sessions", {"id_number": known.id_number, "password": "Wrong-pass-99"})
        _same(unknown, wrong)
    assert unknown.status == 429


def test_verification_answers_unknown_wrong_and_unreleased_alike(api, known, seed):
    unreleased = seed(id_number="PEND00001", secret_number="2222", session_id="B2F-2026-09-01-CB")
    a = api.call("POST", "/verifications", {"id_number": UNKNOWN, "secret_number": "1111"})
    b = api.call("POST", "/verifications", {"id_number": known.id_number, "secret_number": "1111"})
    c = api.call("POST", "/verifications", {"id_number": unreleased.id_number, "secret_number": "2222"})
    _same(a, b)
    _same(a, c)
    assert a.status == 404


@pytest.mark.parametrize("route", ["/password-resets", "/registrations/confirmations/resend"])
def test_email_routes_answer_unknown_and_known_ids_alike(api, known, seed, route):
    unregistered = seed(id_number="NOACCT001", secret_number="3333")
    answers = [api.call("POST", route, {"id_number": i}) for i in (UNKNOWN, known.id_number, unregistered.id_number)]
    for other in answers[1:]:
        _same(answers[0], other)
    assert answers[0].status == 202


def test_token_routes_answer_unknown_and_used_tokens_alike(api, known):
    bad = api.call("POST", "/registrations/confirmations", {"token": "A" * 43})
    reset = api.call(
        "POST",
        "/password-resets/confirmations",
        {"token": "A" * 43, "password": "New-pass-4242", "confirm_password": "New-pass-4242"},
    )
    assert bad.status == reset.status == 400 and bad.json() == reset.json()
    for headers in ({}, {"Authorization": "Bearer " + "A" * 43}, {"Authorization": "Basic abc"}):
        r = api.request("GET", "/me", headers=headers)
        assert (r.status, r.json()["code"]) == (401, "unauthorized")
