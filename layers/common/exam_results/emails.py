"""The service's emails, plain text and HTML, with links built only from configuration."""

from __future__ import annotations

from html import escape

from exam_results.repositories.mailer import Email

SERVICE_NAME = "Exam Results Service"


def _html(title: str, paragraphs: list[str], link: str, button: str) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        '<!doctype html><html><body style="font-family:sans-serif">'
        f"<h1>{escape(title)}</h1>{body}"
        f'<p><a href="{escape(link, quote=True)}">{escape(button)}</a></p>'
        f"<p>{escape(link)}</p></body></html>"
    )


def confirmation_email(to: str, name: str, link: str) -> Email:
    title = "Confirm your email address"
    lines = [
        f"Dear {name},",
        "Thank you for registering for online results. Please confirm your email address.",
        "This link works for 24 hours. If you did not register, ignore this email.",
    ]
    text = "\n\n".join([*lines, link])
    return Email(
        to=to,
        subject=f"{SERVICE_NAME}: {title.lower()}",
        text=text,
        html=_html(title, lines, link, "Confirm my email address"),
    )


def reset_email(to: str, name: str, link: str) -> Email:
    title = "Reset your password"
    lines = [
        f"Dear {name},",
        "We received a request to reset the password of your results account.",
        "This link works for 60 minutes and only once. If you did not ask, ignore this email: "
        "your password stays the same.",
    ]
    text = "\n\n".join([*lines, link])
    return Email(
        to=to,
        subject=f"{SERVICE_NAME}: {title.lower()}",
        text=text,
        html=_html(title, lines, link, "Choose a new password"),
    )


# -- account self-service (password and email changes), in the account's language --


def _in_language(to: str, lang: str, kind: str, lines: list[str], link: str, button: str) -> Email:
    from exam_results import i18n

    lang = i18n.supported(lang)
    return Email(
        to=to,
        subject=i18n.text(lang, f"{kind}.subject"),
        text="\n\n".join([*lines, link]),
        html=_html(i18n.text(lang, f"{kind}.title"), lines, link, button),
    )


def password_changed_email(to: str, name: str, when: str, reset_link: str, lang: str) -> Email:
    """The notice after a password change (``when``: the instant, already formatted)."""
    from exam_results.i18n import text

    lines = [
        text(lang, "account_email.greeting", name=name),
        text(lang, "password_changed_email.body", when=when),
        text(lang, "password_changed_email.not_you"),
    ]
    return _in_language(to, lang, "password_changed_email", lines, reset_link, text(lang, "account_email.reset_button"))


def email_change_link_email(to: str, name: str, link: str, lang: str) -> Email:
    """To the new address: the link that makes it the account's."""
    from exam_results.i18n import text

    lines = [
        text(lang, "account_email.greeting", name=name),
        text(lang, "email_change_link.body"),
        text(lang, "email_change_link.expiry"),
    ]
    return _in_language(to, lang, "email_change_link", lines, link, text(lang, "email_change_link.button"))


def email_change_notice_email(to: str, name: str, new_email: str, reset_link: str, lang: str) -> Email:
    """To the old address: a change was asked for, and how to stop it."""
    from exam_results.i18n import text

    lines = [
        text(lang, "account_email.greeting", name=name),
        text(lang, "email_change_notice.body", new_email=new_email),
        text(lang, "email_change_notice.cancel"),
    ]
    return _in_language(to, lang, "email_change_notice", lines, reset_link, text(lang, "account_email.reset_button"))
