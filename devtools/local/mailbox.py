"""Every email the emulator's SES accepted, as a list and as an HTML page with working links.

Reads moto's SES backend directly: the emulator runs in this process (``ThreadedMotoServer`` or
``mock_aws``). Templated and bulk templated sends are rendered from the SES template stored in
the emulator, one mail per destination, with ``{{name}}`` replaced from the template data.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from html import escape, unescape
from typing import Any
from urllib.parse import quote

from devtools.harness.stack import ACCOUNT, REGION

_LINK = re.compile(r"https?://[^\s\"'<>]+")
_VAR = re.compile(r"\{\{\{?\s*([A-Za-z0-9_.]+)\s*\}?\}\}")


@dataclass
class Mail:
    index: int
    id: str
    source: str
    to: list[str]
    subject: str
    text: str
    html: str = ""
    template: str | None = None
    links: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _lookup(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return ""
        value = value[part]
    return value


def render(text: str, data: dict[str, Any]) -> str:
    return _VAR.sub(lambda m: str(_lookup(data, m.group(1))), text or "")


def _links(*texts: str) -> list[str]:
    found: list[str] = []
    for text in texts:
        for link in _LINK.findall(text or ""):
            link = link.replace("&amp;", "&").rstrip(".,;)")
            if link not in found:
                found.append(link)
    return found


def _json(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _addresses(destination: Any) -> list[str]:
    if isinstance(destination, dict):
        return [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destination.get(key, [])]
    if isinstance(destination, list):
        return [str(a) for a in destination]
    return []


def messages(account: str = ACCOUNT, region: str = REGION) -> list[Mail]:
    from moto.ses.models import ses_backends

    backend = ses_backends[account][region]
    out: list[Mail] = []
    for sent in list(backend.sent_messages):
        source = str(getattr(sent, "source", ""))
        if hasattr(sent, "template"):
            stored = backend.templates.get(sent.template, {})
            default = _json(sent.template_data)
            destinations = sent.destinations if isinstance(sent.destinations, list) else [sent.destinations]
            for dest in destinations:
                if isinstance(dest, dict) and "Destination" in dest:
                    data = {**default, **_json(dest.get("ReplacementTemplateData"))}
                    to = _addresses(dest["Destination"])
                else:
                    data, to = default, _addresses(dest)
                text = render(stored.get("text_part", ""), data)
                html = render(stored.get("html_part", ""), data)
                out.append(
                    Mail(
                        len(out),
                        str(getattr(sent, "id", "")),
                        source,
                        to,
                        render(stored.get("subject_part", ""), data),
                        text,
                        html,
                        sent.template,
                        _links(text, html),
                    )
                )
        elif hasattr(sent, "subject"):
            # moto keeps the HTML part when there is one, else the text part.
            body = str(sent.body)
            html = body if body.lstrip().startswith("<") else ""
            text = _text_of(html) if html else body
            out.append(
                Mail(
                    len(out),
                    sent.id,
                    source,
                    _addresses(sent.destinations),
                    sent.subject,
                    text,
                    html,
                    None,
                    _links(text, html),
                )
            )
        elif hasattr(sent, "raw_data"):
            raw = str(sent.raw_data)
            subject = re.search(r"^Subject: (.*)$", raw, re.MULTILINE)
            out.append(
                Mail(
                    len(out),
                    sent.id,
                    source,
                    _addresses(sent.destinations),
                    subject.group(1) if subject else "(raw message)",
                    raw,
                    "",
                    None,
                    _links(raw),
                )
            )
    return out


def _text_of(html: str) -> str:
    """Readable text of an HTML mail: paragraphs on their own lines, tags dropped."""
    text = re.sub(r"(?i)<\s*(br|/p|/h[1-6]|/li|/div)\s*>", "\n", html)
    text = re.sub(r"<[^>]+>", "", text)
    text = unescape(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _linkify(text: str) -> str:
    parts = []
    last = 0
    for m in _LINK.finditer(text):
        parts.append(escape(text[last : m.start()]))
        url = m.group(0)
        parts.append(f'<a href="{escape(url, quote=True)}">{escape(url)}</a>')
        last = m.end()
    parts.append(escape(text[last:]))
    return "".join(parts)


# Served as /_local/mailbox.css: the page runs under the candidate pages' CSP (no inline style).
STYLE = (
    "body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}"
    ".mail{border:1px solid #ccc;border-radius:4px;padding:0 1rem;margin:1rem 0}"
    ".meta{color:#555}pre{white-space:pre-wrap}"
    "table{border-collapse:collapse}td,th{border-bottom:1px solid #ccc;padding:.3rem .6rem;text-align:left}"
)


def page(mails: list[Mail]) -> str:
    """The mailbox as one HTML page, newest first; every link in a mail is clickable."""
    items = []
    for mail in reversed(mails):
        links = "".join(f'<li><a href="{escape(u, quote=True)}">{escape(u)}</a></li>' for u in mail.links)
        items.append(
            f'<article class="mail" data-index="{mail.index}">'
            f"<h2>{escape(mail.subject)}</h2>"
            f"<p class=meta>To <strong>{escape(', '.join(mail.to))}</strong> · from {escape(mail.source)}"
            + (f" · template {escape(mail.template)}" if mail.template else "")
            + "</p>"
            + (f"<ul class=links>{links}</ul>" if links else "")
            + (
                f'<p><a href="/_local/mailbox/{mail.index}.html">The email as the candidate sees it (HTML)</a></p>'
                if mail.html
                else ""
            )
            + f"<h3>Text</h3><pre>{_linkify(mail.text)}</pre></article>"
        )
    body = "".join(items) or "<p>No email sent yet.</p>"
    return (
        "<!doctype html><html lang=en-GB><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        "<title>Local mailbox – Exam Results</title>"
        '<link rel="stylesheet" href="/_local/mailbox.css"></head><body>'
        f"<h1>Local mailbox</h1><p>{len(mails)} email(s) accepted by the emulated SES, newest first. "
        'Reload to see new ones. <a href="/">Candidate pages</a> · '
        '<a href="/_local/documents">Confirmation of Entry documents</a></p>'
        f"{body}</body></html>"
    )


def documents_page(documents: list[dict[str, Any]]) -> str:
    """The Confirmation of Entry PDFs and CSVs in the uploads bucket (``confirmations/``), newest
    first, each with a download link served by the local server: a centre hands out the Secret
    Numbers they carry. ``documents``: dicts with ``key``, ``size``, ``modified``."""
    rows = []
    for doc in documents:
        key = str(doc["key"])
        href = "/_local/documents/file?key=" + quote(key, safe="/")
        rows.append(
            f'<tr><td><a href="{escape(href, quote=True)}">{escape(key.removeprefix("confirmations/"))}</a></td>'
            f"<td>{int(doc['size']):,} bytes</td><td>{escape(str(doc['modified'])[:19])}</td></tr>"
        )
    table = (
        "<table><thead><tr><th scope=col>Document (confirmations/…)</th><th scope=col>Size</th>"
        f"<th scope=col>Written (UTC)</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No Confirmation of Entry document yet: the service writes one for the Secret Numbers it generates "
        "(an entries file with a blank secret_number: make upload KIND=entries FILE=…).</p>"
    )
    return (
        "<!doctype html><html lang=en-GB><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        "<title>Local documents – Exam Results</title>"
        '<link rel="stylesheet" href="/_local/mailbox.css"></head><body>'
        f"<h1>Confirmation of Entry documents</h1><p>{len(rows)} file(s) the service wrote to the uploads "
        "bucket (confirmations/&lt;centre&gt;/&lt;session&gt;/), newest first. Reload to see new ones. "
        '<a href="/_local/mailbox">Mailbox</a> · <a href="/">Candidate pages</a></p>'
        f"{table}</body></html>"
    )
