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
