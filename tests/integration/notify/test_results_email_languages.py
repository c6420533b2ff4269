"""The "results available" email in each candidate's language (SPEC §3 Languages, §6–§7).

Candidates of one session who chose English and Italian at registration are released and
emailed through the real release and sender handlers. One SES template serves every language
(its data carries the sentences of each candidate's catalogue), so a batch that mixes languages
is still one ``SendBulkTemplatedEmail`` call; each destination is rendered with the template
declared in ``template.yaml`` (moto's ``TestRenderTemplate``) to read what the candidate reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from devtools.harness.stack import Stack
from devtools.local.mailbox import Mail
from exam_results import i18n
from tests.conftest import registration
from tests.helpers.notify import (
    SenderPoller,
    bulk_send_calls,
    results_emails,
    schedule_event,
    seed_results,
    seed_session,
)


def _register(api: Any, seed: Any, mailbox: Any, id_number: str, address: str, name: str, sid: str, lang: str) -> None:
    c = seed(id_number=id_number, name=name, session_id=sid)
    c.email = address
    assert api.call("POST", "/registrations", registration(c, language=lang)).status == 201
    token = mailbox.last_to(address).token()
    assert api.call("POST", "/registrations/confirmations", {"token": token}).status == 200


def _parts(mail: Mail) -> tuple[str, str, str]:
    return mail.subject, mail.text, mail.html


def test_each_candidate_gets_the_results_email_in_their_language_in_one_bulk_call(
    stack: Stack, api: Any, seed: Any, mailbox: Any
) -> None:
    now = datetime.now(UTC)
    exam_date = date(2026, 10, 5)
    session = seed_session("C1A-LANG-PB", exam_date, "PB", results_available_by=now - timedelta(hours=1))
    sid = session.session_id
    _register(api, seed, mailbox, "LANGEN001", "ana@example.com", "Ana Smith", sid, "en")
    _register(api, seed, mailbox, "LANGIT001", "bea@example.com", "Beatrice Rossi", sid, "it")
    _register(api, seed, mailbox, "LANGIT002", "carlo@example.com", "Carlo <b>Bianchi</b>", sid, "it")
    seed_results(sid, ["LANGEN001", "LANGIT001", "LANGIT002"])
    calls_before = bulk_send_calls()

    assert stack.invoke("ReleaseFunction", schedule_event(stack))["released"] == [sid]
    SenderPoller(stack).drain()

    assert bulk_send_calls() - calls_before == 1  # three candidates, two languages: one call
    sent = {e.to[0]: e for e in results_emails()}
    assert sorted(sent) == ["ana@example.com", "bea@example.com", "carlo@example.com"]

    subject, text, html = _parts(sent["ana@example.com"])
    assert subject == "Exam Results Service: your results are available"
    assert text.startswith("Dear Ana Smith,")
    assert "Your results for C1 Advanced (exam date 5 October 2026) are now online." in text
    assert '<html lang="en">' in html and ">See my results</a>" in html

    for address, name in (("bea@example.com", "Beatrice Rossi"), ("carlo@example.com", "Carlo <b>Bianchi</b>")):
        subject, text, html = _parts(sent[address])
        assert subject == i18n.text("it", "email.results.subject", service=i18n.text("it", "service.name"))
        assert subject == "Exam Results Service: i tuoi risultati sono disponibili"
        assert text.startswith(f"Ciao {name},")
        assert "I tuoi risultati di C1 Advanced (esame del 5 ottobre 2026) sono online." in text
        assert i18n.text("it", "email.results.certificate") in text and "Your results" not in text
        assert '<html lang="it">' in html and "<h1>I tuoi risultati sono disponibili</h1>" in html
        assert ">Vedi i miei risultati</a>" in html and "5 ottobre 2026" in html
        assert "<b>" not in html  # the HTML part takes the escaped copies
    assert "Ciao Carlo &lt;b&gt;Bianchi&lt;/b&gt;," in _parts(sent["carlo@example.com"])[2]


def test_the_sender_reads_the_language_with_the_account_and_defaults_to_english(stack: Stack) -> None:
    """An account stored before accounts had a language reads as English."""
    from exam_results.repositories.candidates import ACCOUNT_SK, candidate_pk
    from exam_results.repositories.recipients import RecipientRepository
    from exam_results.wiring import deps
    from tests.helpers.notify import bulk_candidates

    session = seed_session("C1A-LANG-OLD", date(2026, 6, 20), "PB")
    old, italian = bulk_candidates(session.session_id, 2, prefix="OLD")
    table = deps().settings.data_table
    ddb = stack.client("dynamodb")
    for id_number, update in ((old, "REMOVE #l"), (italian, "SET #l = :it")):
        ddb.update_item(
            TableName=table,
            Key={"pk": {"S": candidate_pk(id_number)}, "sk": {"S": ACCOUNT_SK}},
            UpdateExpression=update,
            ExpressionAttributeNames={"#l": "language"},
            **({"ExpressionAttributeValues": {":it": {"S": "it"}}} if ":it" in update else {}),
        )
    recipients, _ = RecipientRepository(table).load(session.session_id, [old, italian])
    assert (recipients[old].language, recipients[italian].language) == ("en", "it")
    assert recipients[old].email and recipients[italian].email
