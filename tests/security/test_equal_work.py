"""Same work for every ID (SPEC §4): a request whose answer is the same for a registered and an
unknown ID Number makes the same AWS calls for either, call by call (operation and resource, in
order), so its time tells nothing. The calls are recorded by devtools.harness.aws_calls.

Each function is warmed first (its first request reads the pepper), and every compared request
is for its own ID Number, so the counters of one never change the work of another.
"""

from __future__ import annotations

from datetime import date

import pytest

from devtools.harness import aws_calls
from tests.conftest import registration
from tests.security.conftest import AVAILABLE, SKILLS

Trace = list[tuple[str, tuple[str, ...]]]


def trace(api, method: str, path: str, body: dict) -> tuple[int, Trace]:  # type: ignore[no-untyped-def]
    """The answer's status and every AWS call the request made: operation and what it touched."""
    with aws_calls.capture() as calls:
        r = api.call(method, path, body)
    return r.status, [(f"{c.service}:{c.operation}", tuple(sorted({n.resource for n in c.needs}))) for c in calls.items]


def assert_same_work(traces: dict[str, tuple[int, Trace]]) -> None:
    (first, (status, reference)), *others = traces.items()
    for name, (other_status, other) in others:
        assert other_status == status, (first, name)
        assert other == reference, f"{name} does other work than {first}:\n{other}\nvs\n{reference}"


def warm(api, seed) -> None:  # type: ignore[no-untyped-def]
    """One request per function first: the pepper read of a cold container is not compared."""
    api.call("POST", "/registrations", registration(seed(id_number="WARM00001"), secret_number="0"))
    api.call("POST", "/verifications", {"id_number": "WARM00001", "secret_number": "0"})


# ----------------------------------------------------------------------- the always-202 routes


@pytest.mark.parametrize("route", ["/password-resets", "/registrations/confirmations/resend"])
def test_email_routes_do_the_same_calls_for_every_kind_of_id_under_and_over_the_limit(
    api, seed, registered, mailbox, route
):
    warm(api, seed)
    confirmed, _ = registered(id_number="CONF00001")
    unconfirmed = seed(id_number="UNCF00001")
    unconfirmed.email = "unconfirmed@example.com"
    assert api.call("POST", "/registrations", registration(unconfirmed)).status == 201
    no_account = seed(id_number="NOAC00001")
    over_limit, _ = registered(id_number="OVER00001", secret_number="5555")
    for _ in range(3):
        api.call("POST", route, {"id_number": over_limit.id_number})  # the hourly limit is used up

    traces = {
        "unknown": trace(api, "POST", route, {"id_number": "ZZZ999999"}),
        "confirmed": trace(api, "POST", route, {"id_number": confirmed.id_number}),
        "unconfirmed": trace(api, "POST", route, {"id_number": unconfirmed.id_number}),
        "entry without account": trace(api, "POST", route, {"id_number": no_account.id_number}),
        "over the hourly limit": trace(api, "POST", route, {"id_number": over_limit.id_number}),
    }
    assert_same_work(traces)
    assert traces["unknown"][0] == 202


# ----------------------------------------------------------------------- refusals


def test_every_login_refusal_does_the_same_calls_for_unknown_and_known_ids(api, seed, registered):
    warm(api, seed)
    known, _ = registered()
    wrong = "Wrong-pass-99"
    # Attempts 1-3 (401), the 4th that locks (429), then two while locked (429), one with the
    # right password.
    for attempt in range(1, 7):
        password = known.password if attempt == 6 else wrong
        traces = {
            "unknown": trace(api, "POST", "/sessions", {"id_number": "ZZZ999999", "password": password}),
            "known": trace(api, "POST", "/sessions", {"id_number": known.id_number, "password": password}),
        }
        assert_same_work(traces)
        assert traces["known"][0] == (401 if attempt < 4 else 429), attempt


def test_every_registration_refusal_does_the_same_calls_for_unknown_and_known_ids(api, seed):
    warm(api, seed)
    known = seed(secret_number="4821")
    # Wrong secrets 1-4 (403), the 5th that locks (429), one while locked (429) with the right one.
    for attempt in range(1, 7):
        secret = known.secret_number if attempt == 6 else "9999"
        traces = {
            "unknown": trace(api, "POST", "/registrations", registration(known, id_number="ZZZ999999")),
            "known": trace(api, "POST", "/registrations", registration(known, secret_number=secret)),
        }
        assert_same_work(traces)
        assert traces["known"][0] == (403 if attempt < 5 else 429), attempt


def test_every_verification_404_does_the_same_calls(api, seed, exams):
    warm(api, seed)
    released = "C1A-2026-06-20-PB"
    exams.session(released, "C1A", date(2026, 6, 20), "PB", AVAILABLE, released_at=AVAILABLE)
    exams.session("B2F-2026-09-01-CB", "B2F", date(2026, 9, 1), "CB", AVAILABLE)
    wrong = seed(id_number="WRONG0001", secret_number="1111", session_id=released)
    exams.result(wrong.id_number, released, 189, "C", "C1", SKILLS)
    unreleased = seed(id_number="PEND00001", secret_number="2222", session_id="B2F-2026-09-01-CB")
    no_result = seed(id_number="NORES0001", secret_number="3333", session_id=released)

    def verify(id_number: str, secret: str) -> tuple[int, Trace]:
        return trace(api, "POST", "/verifications", {"id_number": id_number, "secret_number": secret})

    assert_same_work(
        {
            "unknown": verify("ZZZ999999", "1111"),
            "wrong secret": verify(wrong.id_number, "9999"),
            "right secret, session not released": verify(unreleased.id_number, "2222"),
            "right secret, released without a result": verify(no_result.id_number, "3333"),
        }
    )
    # Up to and during the lock, unknown and known IDs alike (a fresh ID each: attempts 2-6).
    for attempt in range(2, 7):
        traces = {"unknown": verify("ZZZ999999", "1111"), "wrong secret": verify(wrong.id_number, "9999")}
        assert_same_work(traces)
        assert traces["unknown"][0] == (404 if attempt < 5 else 429), attempt
