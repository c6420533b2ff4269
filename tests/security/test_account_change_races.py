"""Password and email changes win every race (SPEC §4, "Credential changes win every race"): a
password change ends every other session and every pending reset link, a confirmed email change
voids every pending token mailed to the old address, including those that requests still in
flight when the change is made write afterwards.

Real threads against the handlers on moto, no lock around them; the in-flight requests are held
at their write by a botocore hook (``HeldWrites``), outside the code under test.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.security.test_credential_races import confirm_reset, login, request_reset, token_writes

NEW = "Brand-new-pass-77"
NEW_EMAIL = "jane.new@example.org"


def change_password(api, token, current):  # type: ignore[no-untyped-def]
    body = {"current_password": current, "password": NEW, "confirm_password": NEW}
    return api.call("POST", "/me/password", body, token=token)


def test_logins_with_the_old_password_in_flight_during_a_password_change_leave_no_live_session(api, registered):
    c, this = registered()
    with ThreadPoolExecutor(6) as pool, token_writes("session") as held:
        # Each login has checked the old password and waits at its session write. Three logins: a
        # login holds its attempt until its session is stored (with the clearing of the attempts,
        # in one transaction), the lockout lets 4 attempts be in flight, and the password change
        # checks the current password as the fourth.
        logins = []
        for _ in range(3):
            logins.append(pool.submit(login, api, c))
            held.wait_for(1)
        assert change_password(api, this, c.password).status == 204
        held.release(logins)  # they write their sessions after the change
        answers = [f.result() for f in logins]
    assert [a.status for a in answers] == [200] * 3
    survivors = [a for a in answers if api.call("GET", "/me", token=a.json()["token"]).status != 401]
    assert survivors == [], f"{len(survivors)} of 3 sessions from the old password survived the change"
    assert api.call("GET", "/me", token=this).status == 200  # the session that changed it stays


def test_a_reset_link_in_flight_during_a_password_change_is_dead_on_arrival(api, registered, mailbox):
    c, this = registered()
    with ThreadPoolExecutor(1) as pool, token_writes("reset") as held:
        reset = pool.submit(request_reset, c.id_number)  # the worker has read the account
        held.wait_for(1)
        assert change_password(api, this, c.password).status == 204
        held.release([reset])
        reset.result()
    r = confirm_reset(api, mailbox.last_to(c.email).token(), "Attackers-pass-66")
    assert r.status == 400, r.body  # 200: a link issued before the change set the password
    assert r.json()["code"] == "invalid_token"
    assert login(api, c, NEW).status == 200


def test_a_reset_link_requested_before_an_email_change_cannot_be_used_after_it(api, registered, mailbox):
    c, this = registered()
    with ThreadPoolExecutor(1) as pool, token_writes("reset") as held:
        reset = pool.submit(request_reset, c.id_number)  # read the account: mails the old address
        held.wait_for(1)
        body = {"email": NEW_EMAIL, "password": c.password}
        assert api.call("POST", "/me/email", body, token=this).status == 202
        r = api.call("POST", "/me/email/confirmations", {"token": mailbox.last_to(NEW_EMAIL).token()})
        assert r.status == 200, r.body
        held.release([reset])
        reset.result()
    old_address_link = mailbox.last_to(c.email).token()
    r = confirm_reset(api, old_address_link, "Attackers-pass-66")
    assert r.status == 400, r.body  # 200: a link issued before the change set the password
    assert r.json()["code"] == "invalid_token"
    assert login(api, c).status == 200  # the password is the owner's still


def test_three_email_change_links_used_at_once_change_the_address_once(api, registered, mailbox):
    c, this = registered()
    addresses = [f"new{i}@example.org" for i in range(3)]  # the hourly limit
    for address in addresses:
        assert api.call("POST", "/me/email", {"email": address, "password": c.password}, token=this).status == 202
    links = [mailbox.last_to(a).token() for a in addresses]
    barrier = threading.Barrier(len(links))

    def use(link: str):  # type: ignore[no-untyped-def]
        barrier.wait()
        return api.call("POST", "/me/email/confirmations", {"token": link})

    with ThreadPoolExecutor(len(links)) as pool:
        answers = list(pool.map(use, links))
    won = [a.json()["email"] for a in answers if a.status == 200]
    assert len(won) == 1, [a.status for a in answers]  # each link was issued for the same generation
    assert sorted(a.status for a in answers) == [200, 400, 400]
    session = login(api, c).json()["token"]
    assert api.call("GET", "/me", token=session).json()["email"] == won[0]
