"""Mail that comes back: each message's own envelope sender, the reports of Exchange Online, Gmail and
Postfix, a real IMAP mailbox (Debian's dovecot on loopback), and what the organiser sees.

The DSN samples in tests/data/bounces are written as those servers write them, with stand-ins for the
bounce address, the failed address and the Message-ID of the message that came back.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from helpers import (
    REGISTRATIONS_URL as BASE,
    Recorder,
    bounce_sample,
    deliver,
    flash_after,
    form_data,
    page_text,
    queue_confirmations,
    reload_registration,
    smtp_server,
    wait_for,
)
from webinar.extensions import db
from webinar.mailing.bounces import bounce_sender, read_bounce, record_bounce
from webinar.mailing.models import MailStatus, OutgoingMail

BOUNCES = "bounces@example.org"
#: per sample: the status and the start of the reason the organiser reads
REPORTS = {
    "exchange_online": ("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address "
                                  "lookup"),
    "gmail": ("5.1.1", "550-5.1.1 The email account that you tried to reach does not exist. Please try "
                       "550-5.1.1 double-checking"),
    "postfix": ("5.1.1", "550 5.1.1 <{recipient}>: Recipient address rejected: User unknown in virtual mailbox "
                         "table"),
}


@pytest.fixture
def bouncing(app):
    """The app sends with the bounce mailbox as envelope sender."""
    app.config["MAIL_BOUNCE_ADDRESS"] = BOUNCES


def sent_row(registration) -> OutgoingMail:
    db.session.rollback()
    return db.session.scalars(select(OutgoingMail).where(OutgoingMail.registration_id == registration.id)).one()


def report(name: str, row: OutgoingMail, addressed_to: str | None = None) -> bytes:
    """The sample `name` about the message of `row`, sent to its bounce address (or to `addressed_to`)."""
    return bounce_sample(name, bounce_address=addressed_to or bounce_sender(row.id), recipient=row.recipient,
                         message_id=row.message_id)


def test_each_message_goes_out_with_an_envelope_sender_that_names_it(app, bouncing, smtp, people):
    deliver()
    senders = {recipients[0]: sender for sender, recipients in smtp.envelopes}
    for registration in people.values():
        row = sent_row(registration)
        assert senders[registration.email] == bounce_sender(row.id)
        assert re.fullmatch(rf"bounces\+{row.id}-[a-z2-7]{{10}}@example\.org", senders[registration.email])
    assert len(set(senders.values())) == len(people)
    # The From: stays the organisers' address; the envelope is for machines only.
    assert {str(message["From"]) for message in smtp.messages} == {
        "Samen onderwijs versnellen <bijeenkomsten@example.org>"}


def test_without_a_bounce_mailbox_the_envelope_sender_is_the_from_address(app, smtp, people):
    deliver()
    assert {sender for sender, _ in smtp.envelopes} == {"bijeenkomsten@example.org"}


@pytest.mark.parametrize("name", REPORTS)
def test_the_reports_of_the_common_servers_are_read(app, bouncing, smtp, people, name):
    deliver()
    row = sent_row(people["dijk"])
    bounce = read_bounce(report(name, row))
    status, reason = REPORTS[name]
    assert (bounce.recipient, bounce.status, bounce.message_id) == (row.recipient, status, row.message_id)
    assert bounce.reason.startswith(reason.format(recipient=row.recipient)), bounce.reason
    assert bounce_sender(row.id) in bounce.addressed_to


def test_what_is_no_report_of_a_failure_is_not_read_as_one(app, bouncing, smtp, people):
    deliver()
    row = sent_row(people["dijk"])
    assert read_bounce(report("out_of_office", row)) is None
    delayed = report("postfix", row).replace(b"Action: failed", b"Action: delayed").replace(b"Status: 5.1.1",
                                                                                            b"Status: 4.4.1")
    assert read_bounce(delayed) is None
    assert read_bounce(b"Subject: hallo\r\n\r\nGewoon een bericht.\r\n") is None


def forged_sender(row: OutgoingMail) -> str:
    """The row's bounce address with one character of its signature changed."""
    local, domain = bounce_sender(row.id).split("@")
    return f"{local[:-1]}{'b' if local.endswith('a') else 'a'}@{domain}"


def test_a_bounce_address_with_a_wrong_signature_names_nothing(app, bouncing, smtp, people):
    deliver()
    row = sent_row(people["dijk"])
    forged = forged_sender(row)
    assert read_bounce(report("postfix", row, addressed_to=forged)).addressed_to == (forged,)
    bounce = read_bounce(bounce_sample("postfix", bounce_address=forged, recipient=row.recipient,
                                       message_id="<onbekend@example.org>"))
    assert record_bounce(bounce, row.sent_at) is None
    assert sent_row(people["dijk"]).status == MailStatus.sent


def test_the_organiser_sees_an_unreachable_address_and_a_new_address_clears_it(organiser_client, bouncing, smtp,
                                                                               event, people):
    deliver()
    row = sent_row(people["dijk"])
    db.session.rollback()
    record_bounce(read_bounce(report("postfix", row)), row.sent_at)
    db.session.commit()
    reason = REPORTS["postfix"][1].format(recipient=row.recipient)

    listed = page_text(organiser_client.get(f"{BASE}?adres=onbereikbaar"))
    assert "1 aanmelding gevonden" in listed and "Dijk, Jan" in listed and "Berg, Anna" not in listed
    assert "adres onbereikbaar" in page_text(organiser_client.get(BASE))
    detail = page_text(organiser_client.get(f"{BASE}/{people['dijk'].id}"))
    assert "Adres onbereikbaar." in detail and reason in detail
    assert re.search(r"<td>Bevestiging</td>\s*<td>Onbestelbaar</td>", detail)
    dashboard = page_text(organiser_client.get(f"/organiser/events/{event.slug}"))
    assert re.search(r'id="count-unreachable"><a href="[^"]*adres=onbereikbaar">1</a>', dashboard)

    response = organiser_client.post(f"{BASE}/{people['dijk'].id}/bewerken", data=form_data(
        first_name="Jan", tussenvoegsel="van", last_name="Dijk", email="jan.vandijk@example.org",
        organisation="Stichting Primair", role="Schoolbestuurder"))
    assert "zijn opgeslagen" in flash_after(response, organiser_client)
    assert reload_registration(people["dijk"]).unreachable_at is None
    assert "0 aanmeldingen gevonden" in page_text(organiser_client.get(f"{BASE}?adres=onbereikbaar"))


@pytest.mark.slow
def test_the_bounce_mailbox_is_read_over_imap(app, bouncing, smtp, runner, dovecot, people):
    app.config.update(dovecot.settings())
    deliver()
    anna, piet, jan, mirjam = (sent_row(people[name]) for name in ("berg", "bakker", "dijk", "vries"))
    forged = forged_sender(mirjam)
    dovecot.deliver(
        report("exchange_online", anna, addressed_to=BOUNCES),  # the extension lost: named by its Message-ID
        report("gmail", piet),
        report("postfix", jan),
        bounce_sample("postfix", bounce_address=forged, recipient=mirjam.recipient, message_id="<x@example.org>"),
        report("out_of_office", mirjam),
    )

    result = runner.invoke(args=["mail", "bounces"])
    assert result.exit_code == 0, result.output
    assert "3 verwerkt (verplaatst naar Verwerkt), 2 niet herkend (blijven staan)" in result.output

    assert dovecot.subjects("INBOX") == [
        "Undelivered Mail Returned to Sender",
        "Automatisch antwoord: Aanmelding bevestigd: Samen onderwijs versnellen"]
    assert sorted(dovecot.subjects("Verwerkt")) == [
        "Delivery Status Notification (Failure)",
        "Onbestelbaar: Aanmelding bevestigd: Samen onderwijs versnellen",
        "Undelivered Mail Returned to Sender"]
    for name, row in (("exchange_online", anna), ("gmail", piet), ("postfix", jan)):
        registration = reload_registration(row.registration)
        assert registration.unreachable_at is not None, name
        reason = REPORTS[name][1].format(recipient=row.recipient)
        assert registration.unreachable_reason.startswith(reason), name
        assert db.session.get(OutgoingMail, row.id).status == MailStatus.bounced
        assert db.session.get(OutgoingMail, row.id).last_error.startswith(f"teruggekomen: {reason}")
    assert reload_registration(mirjam.registration).unreachable_at is None
    assert db.session.get(OutgoingMail, mirjam.id).status == MailStatus.sent

    again = runner.invoke(args=["mail", "bounces"])
    assert again.exit_code == 0 and "0 verwerkt" in again.output and "2 niet herkend" in again.output


@pytest.mark.slow
def test_a_mailbox_that_refuses_the_login_is_a_clear_failure(app, runner, dovecot):
    app.config.update(dovecot.settings(), MAIL_BOUNCE_IMAP_PASSWORD="fout")
    result = runner.invoke(args=["mail", "bounces"])
    assert result.exit_code == 1
    assert "postbus voor teruggekomen mail onbereikbaar" in result.output
    app.config["MAIL_BOUNCE_IMAP_HOST"] = ""
    result = runner.invoke(args=["mail", "bounces"])
    assert result.exit_code == 1 and "MAIL_BOUNCE_IMAP_HOST is niet ingesteld" in result.output


@pytest.mark.slow
def test_the_worker_process_reads_the_mailbox_too(live, workers, dovecot):
    live.config.update(MAIL_BOUNCE_ADDRESS=BOUNCES)
    recorder = Recorder()
    with smtp_server(recorder) as port:
        queue_confirmations(1)
        group = workers(port, SECRET_KEY=live.config["SECRET_KEY"], MAIL_BOUNCE_ADDRESS=BOUNCES,
                        MAIL_BOUNCE_INTERVAL_MINUTES=0.01,
                        **{name: value for name, value in dovecot.settings().items()})
        process = group.start("worker", "--interval", "0.2")

        def sent():
            db.session.rollback()
            return db.session.scalars(select(OutgoingMail).where(OutgoingMail.status == MailStatus.sent)).first()

        row = wait_for(sent, "the confirmation to be sent", timeout=60, group=group, alive=[process])
        dovecot.deliver(report("postfix", row))
        wait_for(lambda: reload_registration(row.registration).unreachable_at is not None,
                 "the worker to read the report", timeout=60, group=group, alive=[process])
        assert group.stop(process) == 0
    assert "1 verwerkt" in group.output(process)
    assert dovecot.subjects("INBOX") == []
