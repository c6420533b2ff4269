"""Markup is data in the "results available" email (SPEC §4, §7; issue 13 item 4).

SES does not escape what it inserts into a template's HTML part, so a name from an entries file
such as ``<a href=...>Log in here</a>`` would arrive as a live link. The email is sent through
the real sender handler (SQS event → ``SendBulkTemplatedEmail`` on moto); moto stores the
template data without rendering, so the test renders the template declared in ``template.yaml``
with exactly the data that was sent (``TestRenderTemplate``: moto, like SES, inserts values
verbatim).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.harness.stack import Stack
from tests.helpers.notify import SenderPoller, register, results_emails, schedule_event, seed_results, seed_session

HOSTILE = '<a href="https://evil.example/login">Log in here</a> & "Co" <script>alert(1)</script>'


def test_a_name_with_markup_arrives_as_text_in_the_html_and_unchanged_in_the_text_part(
    stack: Stack, api: Any, seed: Any, mailbox: Any
) -> None:
    now = datetime.now(UTC)
    session = seed_session(
        "C1A-MARKUP-PB", (now - timedelta(days=40)).date(), "PB", results_available_by=now - timedelta(hours=1)
    )
    c = register(api, seed, mailbox, "MARK00001", "mark@example.com", session_id=session.session_id, name=HOSTILE)
    seed_results(session.session_id, [c.id_number])
    assert stack.invoke("ReleaseFunction", schedule_event(stack))["released"] == [session.session_id]
    SenderPoller(stack).drain()

    [sent] = results_emails()
    assert sent.to == ["mark@example.com"]
    text, html = sent.text, sent.html

    assert text.startswith(f"Dear {HOSTILE},")  # the text part shows the name exactly as entered
    assert '<a href="https://evil.example' not in html and "<script>" not in html
    assert "evil.example" in html  # ... and the HTML part shows it too, as text:
    assert (
        "Dear &lt;a href=&quot;https://evil.example/login&quot;&gt;Log in here&lt;/a&gt; &amp; "
        "&quot;Co&quot; &lt;script&gt;alert(1)&lt;/script&gt;," in html
    )
    assert html.count("<a ") == 1 and 'href="https://results.test/results.html"' in html  # only our link
