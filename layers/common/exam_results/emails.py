"""The service's emails, plain text and HTML, in the account's language, with links built only
from configuration.

Every sentence is the catalogue's (``locales/<lang>.json``, keys ``email.*``); values are
inserted into the sentences first and the whole sentence is HTML-escaped for the HTML part, so
no value can become markup.
"""

from __future__ import annotations

from html import escape

from exam_results import i18n, tokens
from exam_results.repositories.mailer import Email


def _html(title: str, paragraphs: list[str], link: str, button: str, lang: str = i18n.DEFAULT) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="{escape(i18n.supported(lang), quote=True)}">'
        '<body style="font-family:sans-serif">'
        f"<h1>{escape(title)}</h1>{body}"
        f'<p><a href="{escape(link, quote=True)}">{escape(button)}</a></p>'
        f"<p>{escape(link)}</p></body></html>"
    )


def _token_message(lang: str, to: str, link: str, keys: dict[str, str], **values: object) -> Email:
    """Greeting, intro, expiry, then the link (a button in HTML): the shape of the token emails.
    ``keys`` names the catalogue entry of each part (literal keys: the key test finds them)."""
    lang = i18n.supported(lang)
    lines = [
        i18n.text(lang, "email.greeting", **values),
        i18n.text(lang, keys["intro"]),
        i18n.text(lang, keys["expiry"], **values),
    ]
    return Email(
        to=to,
        subject=i18n.text(lang, keys["subject"], service=i18n.text(lang, "service.name")),
        text="\n\n".join([*lines, link]),
        html=_html(i18n.text(lang, keys["title"]), lines, link, i18n.text(lang, keys["button"]), lang),
    )


def confirmation_email(to: str, name: str, link: str, lang: str = i18n.DEFAULT) -> Email:
    keys = {
        "subject": "email.confirmation.subject",
        "title": "email.confirmation.title",
        "intro": "email.confirmation.intro",
        "expiry": "email.confirmation.expiry",
        "button": "email.confirmation.button",
    }
    return _token_message(lang, to, link, keys, name=name, hours=tokens.CONFIRMATION_TTL // 3600)


def reset_email(to: str, name: str, link: str, lang: str = i18n.DEFAULT) -> Email:
    keys = {
        "subject": "email.reset.subject",
        "title": "email.reset.title",
        "intro": "email.reset.intro",
        "expiry": "email.reset.expiry",
        "button": "email.reset.button",
    }
    return _token_message(lang, to, link, keys, name=name, minutes=tokens.RESET_TTL // 60)


# -- account self-service (password and email changes), in the account's language --


def _in_language(to: str, lang: str, kind: str, lines: list[str], link: str, button: str) -> Email:
    lang = i18n.supported(lang)
    return Email(
        to=to,
        subject=i18n.text(lang, f"{kind}.subject"),
        text="\n\n".join([*lines, link]),
        html=_html(i18n.text(lang, f"{kind}.title"), lines, link, button, lang),
    )


def password_changed_email(to: str, name: str, when: str, reset_link: str, lang: str) -> Email:
    """The notice after a password change (``when``: the instant, already formatted)."""
    text = i18n.text
    lines = [
        text(lang, "account_email.greeting", name=name),
        text(lang, "password_changed_email.body", when=when),
        text(lang, "password_changed_email.not_you"),
    ]
    return _in_language(to, lang, "password_changed_email", lines, reset_link, text(lang, "account_email.reset_button"))


def email_change_link_email(to: str, name: str, link: str, lang: str) -> Email:
    """To the new address: the link that makes it the account's."""
    text = i18n.text
    lines = [
        text(lang, "account_email.greeting", name=name),
        text(lang, "email_change_link.body"),
        text(lang, "email_change_link.expiry"),
    ]
    return _in_language(to, lang, "email_change_link", lines, link, text(lang, "email_change_link.button"))


def email_change_notice_email(to: str, name: str, new_email: str, reset_link: str, lang: str) -> Email:
    """To the old address: a change was asked for, and how to stop it."""
    text = i18n.text
    lines = [
        text(lang, "account_email.greeting", name=name),
        text(lang, "email_change_notice.body", new_email=new_email),
        text(lang, "email_change_notice.cancel"),
    ]
    return _in_language(to, lang, "email_change_notice", lines, reset_link, text(lang, "account_email.reset_button"))
