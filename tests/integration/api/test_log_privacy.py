"""No password, Secret Number, token or full email address in any log line (SPEC §4 Privacy)."""

from __future__ import annotations

import json
import logging

from tests.conftest import registration


def test_a_full_flow_logs_nothing_secret(api, seed, mailbox, mail_worker, capsys, caplog):
    # Everything at INFO and above, every logger (botocore logs request bodies only at DEBUG).
    caplog.set_level(logging.INFO)
    c = seed(secret_number="73915")
    secrets_seen: list[str] = [c.password, c.secret_number, c.email]

    api.call("POST", "/registrations", registration(c, secret_number="11111"))  # wrong secret
    api.call("POST", "/registrations", registration(c, password="password12", confirm_password="password12"))
    api.call("POST", "/registrations", registration(c))
    confirm_token = mailbox.last_to(c.email).token()
    api.call("POST", "/registrations/confirmations", {"token": confirm_token})
    api.call("POST", "/registrations/confirmations", {"token": confirm_token})  # used
    for _ in range(2):
        api.call("POST", "/sessions", {"id_number": c.id_number, "password": "Wrong-pass-99"})
    session = api.call("POST", "/sessions", {"id_number": c.id_number, "password": c.password}).json()["token"]
    api.call("GET", "/me", token=session)
    api.call("PATCH", "/me", {"newsletter_opt_in": True}, token=session)
    api.call("GET", "/me/results", token=session)
    api.call("POST", "/verifications", {"id_number": c.id_number, "secret_number": c.secret_number})
    api.call("POST", "/password-resets", {"id_number": c.id_number})
    mail_worker.drain()  # the worker's logs too
    reset_token = mailbox.last_to(c.email).token()
    new_password = "Brand-new-pass-77"
    api.call(
        "POST",
        "/password-resets/confirmations",
        {"token": reset_token, "password": new_password, "confirm_password": new_password},
    )
    for _ in range(5):  # into the lockout
        api.call("POST", "/sessions", {"id_number": c.id_number, "password": "Wrong-pass-99"})
    api.call("DELETE", "/sessions/current", token=session)
    api.call("DELETE", "/me", token=session)
    secrets_seen += [confirm_token, reset_token, session, new_password, "Wrong-pass-99", "11111", "password12"]

    out = capsys.readouterr()
    logged = out.out + out.err + "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert "account created" in logged  # the logs were captured at all
    for secret in secrets_seen:
        assert secret not in logged, f"{secret!r} appears in the logs"
    assert "j***@example.com" in logged  # a masked address is all that is logged
