"""Candidate account use cases: register, confirm, log in and out, profile, erase, reset,
change the password or the email address.

No HTTP here: pydantic models in, pydantic models out, repositories passed in (``Deps``).

Tokens and Secret Numbers are ``exam_results.usecases.identity`` (the results function needs
them, not the rest). What only some routes need is imported by the use cases that need it, on
first use: password hashing (argon2), the lockout and the emails. Reset and resend emails are
sent by the mail worker (``usecases.mail_requests``); these routes only queue the request. ``GET /me``,
a confirmation or a log-out never loads them; a container's first login or registration does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from exam_results import tokens
from exam_results.account_models import (
    ConfirmationResponse,
    EmailChange,
    EmailChangeResponse,
    LoginRequest,
    LoginResponse,
    PasswordChange,
    PasswordResetConfirmation,
    ProfileResponse,
    ProfileUpdate,
    RegistrationRequest,
    RegistrationResponse,
)
from exam_results.errors import (
    AlreadyRegistered,
    CredentialsMismatch,
    EmailNotConfirmed,
    EmailNotSent,
    FieldError,
    InvalidCredentials,
    InvalidToken,
    TooManyAttempts,
    Unauthorized,
)
from exam_results.mail_requests import MailRequest
from exam_results.models import Account, Entry
from exam_results.observability import count, logger, mask_email
from exam_results.usecases.identity import Principal, issue_token, live_token, utc_now, verify_secret_number
from exam_results.wiring import Deps

if TYPE_CHECKING:
    from exam_results.repositories.mailer import Email


def _send(deps: Deps, email: Email, what: str) -> None:
    """Send, never failing the request: the candidate can ask again (resend, reset)."""
    try:
        deps.mailer.send(email)
        count(f"{what}EmailsSent")
    except EmailNotSent as exc:
        count(f"{what}EmailsFailed")
        logger.error("email not sent", extra={"email_kind": what, "to": mask_email(email.to), "error": exc.code})


# -- registration --


def register(deps: Deps, request: RegistrationRequest) -> RegistrationResponse:
    from exam_results import emails, passwords
    from exam_results.lockout import SECRET, AttemptLimiter

    checked = verify_secret_number(deps, request.id_number, request.secret_number, hold=True)
    entry, partition, held = checked.entry, checked.partition, checked.held
    if entry is None:
        count("RegistrationsRefused")
        raise CredentialsMismatch()
    assert held is not None
    limiter = AttemptLimiter(deps.auth, SECRET)
    # Read with the entry; one account per ID is the transaction's condition, not this check.
    if partition.account is not None:
        limiter.give_back(held)
        raise AlreadyRegistered()

    now = utc_now()
    account = Account(
        id_number=request.id_number,
        email=request.email,
        password_hash=passwords.hash_password(request.password),
        terms_accepted_at=now,
        newsletter_opt_in=request.newsletter_opt_in,
        newsletter_changed_at=now,
        language=request.language,
        created_at=now,
        generation=tokens.new_generation(),
    )
    token, record = issue_token("confirm", account, tokens.CONFIRMATION_TTL)
    # The secret's attempt is given back in the same transaction (one call fewer); a registration
    # that loses the race for the ID gives it back on its own.
    try:
        deps.candidates.create_account(account, deps.auth.put_token_op(record), spare=limiter.give_back_op(held))
    except AlreadyRegistered:
        limiter.give_back(held)
        raise
    count("Registrations")
    logger.info("account created", extra={"email": mask_email(account.email)})
    link = deps.settings.link("confirm.html", token=token)
    # In the language the registration chose (the account's from now on).
    _send(deps, emails.confirmation_email(account.email, entry.candidate_name, link, account.language), "Confirmation")
    return RegistrationResponse(id_number=account.id_number, email=account.email, email_confirmed=False)


def confirm_email(deps: Deps, token: str) -> ConfirmationResponse:
    record = live_token(deps, token, "confirm")
    if record is None:
        raise InvalidToken()
    # InvalidToken if used meanwhile, or the account erased or changed.
    deps.candidates.confirm_email(
        record.id_number, record.generation, utc_now(), deps.auth.consume_token_op(record.token_hash)
    )
    count("EmailsConfirmed")
    return ConfirmationResponse(id_number=record.id_number, email_confirmed=True)


def resend_confirmation(deps: Deps, id_number: str) -> None:
    """Queues the request for the mail worker: the same single call for every ID (SPEC §4).

    The worker sends only to a registered, unconfirmed account, at most 3 an hour."""
    deps.mail_requests.send(MailRequest(kind="confirmation", id_number=id_number).model_dump())


# -- log in / out --


def login(deps: Deps, request: LoginRequest) -> LoginResponse:
    from exam_results import passwords
    from exam_results.lockout import LOGIN, AttemptLimiter

    limiter = AttemptLimiter(deps.auth, LOGIN)
    try:
        reservation = limiter.reserve(request.id_number)
    except TooManyAttempts:
        count("LoginsRefusedLocked")
        raise
    account = deps.candidates.get_account(request.id_number)
    if not passwords.verify_password(account.password_hash if account else None, request.password):
        count("LoginsFailed")
        try:
            limiter.failed(reservation)
        except TooManyAttempts:
            count("Lockouts")
            logger.info("login locked", extra={"attempt": reservation.number})
            raise
        raise InvalidCredentials()
    assert account is not None
    if not account.email_confirmed:
        limiter.clear(request.id_number)
        raise EmailNotConfirmed()
    if passwords.needs_rehash(account.password_hash):
        deps.candidates.update_password_hash(
            account.id_number, account.password_hash, passwords.hash_password(request.password)
        )
    # The session carries the generation this password was checked against: a reset committed
    # since then has voided it already, though it is written afterwards. It is stored with the
    # clearing of the attempts, in one transaction (one call).
    token, record = issue_token("session", account, tokens.SESSION_TTL)
    deps.auth.start_session(record, limiter.clear_op(request.id_number))
    count("LoginsSucceeded")
    return LoginResponse(token=token, expires_at=datetime.fromtimestamp(record.expires_at, tz=UTC))


def logout(deps: Deps, principal: Principal) -> None:
    deps.auth.delete_token(principal.token_hash)


# -- profile --


def get_profile(deps: Deps, principal: Principal) -> ProfileResponse:
    entry = deps.candidates.get_entry(principal.account.id_number)
    return _profile(principal.account, entry)


def _profile(account: Account, entry: Entry | None) -> ProfileResponse:
    return ProfileResponse(
        id_number=account.id_number,
        candidate_name=entry.candidate_name if entry else "",
        email=account.email,
        newsletter_opt_in=account.newsletter_opt_in,
        language=account.language,
    )


def update_profile(deps: Deps, principal: Principal, update: ProfileUpdate) -> ProfileResponse:
    """The newsletter choice and/or the language, only on the generation the session was issued
    for; the account as it is afterwards."""
    id_number, generation = principal.account.id_number, principal.account.generation
    account: Account | None = principal.account
    if update.newsletter_opt_in is not None:
        account = deps.candidates.set_newsletter(id_number, generation, update.newsletter_opt_in, utc_now())
    if update.language is not None and account is not None:
        account = deps.candidates.set_language(id_number, generation, update.language)
    if account is None:
        raise Unauthorized()
    return _profile(account, deps.candidates.get_entry(account.id_number))


def erase_account(deps: Deps, principal: Principal) -> None:
    """The account, its sessions and tokens go; the entry and results stay with the exam board.

    Deleting the account voids every token of its generation at once; deleting them through the
    ByOwner index (eventually consistent) is only garbage collection.
    """
    account = principal.account
    if not deps.candidates.delete_account(account.id_number, account.generation):
        raise Unauthorized()  # reset or erased since this session was checked: it is void
    deps.auth.delete_owner_tokens(account.id_number)
    count("AccountsErased")


# -- password reset --


def request_password_reset(deps: Deps, id_number: str) -> None:
    """Queues the request for the mail worker: the same single call for every ID (SPEC §4).

    The worker sends only to a registered account, at most 3 an hour."""
    deps.mail_requests.send(MailRequest(kind="reset", id_number=id_number).model_dump())


def confirm_password_reset(deps: Deps, request: PasswordResetConfirmation) -> None:
    from exam_results import passwords
    from exam_results.lockout import LOGIN

    record = live_token(deps, request.token, "reset")
    if record is None:
        raise InvalidToken()
    new_hash = passwords.hash_password(request.password)
    # InvalidToken if used meanwhile, or the account erased or changed; the login attempts go too.
    deps.candidates.reset_password(
        record.id_number,
        record.generation,
        tokens.new_generation(),
        new_hash,
        utc_now(),
        deps.auth.consume_token_op(record.token_hash),
        deps.auth.clear_op(deps.auth.attempts_pk(LOGIN.scope, record.id_number)),
    )
    # The new generation already voids every earlier token; this only tidies them away.
    deps.auth.delete_owner_tokens(record.id_number)
    count("PasswordResets")


# -- password and email changes (authenticated) --


def _check_password(deps: Deps, account: Account, password: str) -> None:
    """The account's password, counted like a log-in on the same lockout: a wrong one is a
    failure (the 4th locks: 429), and while locked nothing is checked."""
    from exam_results import passwords
    from exam_results.lockout import LOGIN, AttemptLimiter

    limiter = AttemptLimiter(deps.auth, LOGIN)
    reservation = limiter.reserve(account.id_number)
    if not passwords.verify_password(account.password_hash, password):
        count("PasswordChecksFailed")
        try:
            limiter.failed(reservation)
        except TooManyAttempts:
            count("Lockouts")
            raise
        raise InvalidCredentials()
    limiter.clear(account.id_number)


def _name(deps: Deps, account: Account) -> str:
    entry = deps.candidates.get_entry(account.id_number)
    return entry.candidate_name if entry else ""


def change_password(deps: Deps, principal: Principal, request: PasswordChange) -> None:
    """A new password and a new generation, in one transaction on the generation the session
    was issued for, which also moves this session to the new generation: every other session
    and every pending token (reset links included, even those written later by requests in
    flight) are void."""
    from exam_results import emails, i18n, passwords

    account = principal.account
    _check_password(deps, account, request.current_password)
    new_generation = tokens.new_generation()
    now = utc_now()
    # Unauthorized if the credentials changed meanwhile, or this session ended.
    deps.candidates.change_password(
        account.id_number,
        account.generation,
        new_generation,
        passwords.hash_password(request.password),
        now,
        deps.auth.carry_session_op(principal.token_hash, account.generation, new_generation, now.timestamp()),
    )
    deps.auth.delete_owner_tokens(account.id_number, keep=principal.token_hash)  # void already: tidying
    count("PasswordChanges")
    when = i18n.format_instant(now, account.language, UTC)
    notice = emails.password_changed_email(
        account.email, _name(deps, account), when, deps.settings.link("forgot.html"), account.language
    )
    _send(deps, notice, "PasswordChanged")


def request_email_change(deps: Deps, principal: Principal, request: EmailChange) -> None:
    """Mail a link to the new address and a notice to the old one; nothing changes until the
    link is used. The link carries the new address and the account's generation. At most 3
    such requests an hour (``send_limits``), counted after the password check."""
    from exam_results import emails, send_limits

    account = principal.account
    _check_password(deps, account, request.password)
    if request.email.casefold() == account.email.casefold():
        raise FieldError([("email", "field.same_email")])
    taken = send_limits.try_take_slot(deps.auth, send_limits.EMAIL_CHANGES, account.id_number)
    if taken is None:
        count("EmailChangesOverLimit")
        raise TooManyAttempts(send_limits.retry_after(deps.auth, send_limits.EMAIL_CHANGES, account.id_number))
    token, record = issue_token("email_change", account, tokens.EMAIL_CHANGE_TTL)
    record = record.model_copy(update={"email": request.email})
    name = _name(deps, account)
    forgot = deps.settings.link("forgot.html")
    # The old address is told first: no link reaches a new address unless the owner heard of it.
    # A failed send fails the request (the candidate asks again) and gives its slot back; a link
    # stored but never mailed expires unused.
    try:
        deps.mailer.send(emails.email_change_notice_email(account.email, name, request.email, forgot, account.language))
        deps.auth.put_token(record)
        link = deps.settings.link("confirm-email.html", token=token)
        deps.mailer.send(emails.email_change_link_email(request.email, name, link, account.language))
    except EmailNotSent as exc:
        count("EmailChangeEmailsFailed")
        logger.error("email not sent", extra={"email_kind": "EmailChange", "error": exc.code})
        send_limits.give_back(deps.auth, send_limits.EMAIL_CHANGES, account.id_number, taken)
        raise
    count("EmailChangesRequested")
    logger.info("email change requested", extra={"to": mask_email(request.email)})


def confirm_email_change(deps: Deps, token: str) -> EmailChangeResponse:
    """The new address becomes the account's, with a new generation, in one transaction on the
    generation the link was issued for: every token mailed to the old address, and every
    session, is void (the candidate logs in again)."""
    record = live_token(deps, token, "email_change")
    if record is None or record.email is None:
        raise InvalidToken()
    # InvalidToken if used meanwhile, or the account erased or changed.
    deps.candidates.change_email(
        record.id_number,
        record.generation,
        tokens.new_generation(),
        record.email,
        deps.auth.consume_token_op(record.token_hash),
    )
    deps.auth.delete_owner_tokens(record.id_number)  # void already: tidying
    count("EmailChanges")
    return EmailChangeResponse(email=record.email)
