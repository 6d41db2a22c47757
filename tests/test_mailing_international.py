"""International addresses and rows that cannot be sent: each fails alone, the batch goes on."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
from datetime import timedelta
from email import policy
from email.parser import BytesParser

from sqlalchemy import select

from helpers import NOW, deliver, post_registration
from webinar import cli
from webinar.extensions import db
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.mailing.services import queue_mail
from webinar.mailing.sending import NO_SMTPUTF8
from webinar.mailing.worker import send_due

SENDER = "bijeenkomsten@example.org"
ZOE = "zoë.de.wït@example.nl"
IDN = "info@basisschool-één.nl"
IDN_ASCII = "info@xn--basisschool-n-mhba.nl"


def outbox() -> dict[str, OutgoingMail]:
    db.session.rollback()
    return {row.recipient: row for row in db.session.scalars(select(OutgoingMail))}


def parsed(raw: bytes):
    """The message as a second parser reads it: Python's email with the SMTPUTF8 policy."""
    return BytesParser(policy=policy.SMTPUTF8).parsebytes(raw)


def test_the_form_takes_international_addresses_as_they_are(client, event):
    for address in (ZOE, IDN):
        assert post_registration(client, event, email=address).status_code == 302
    assert set(outbox()) == {ZOE, IDN}


def test_international_addresses_arrive_over_smtputf8(client, event, smtp):
    # aiosmtpd's Controller offers SMTPUTF8 unless told otherwise
    post_registration(client, event, email=ZOE)
    post_registration(client, event, email=IDN)
    result = deliver()
    assert (result.sent, result.failed, result.retried) == (2, 0, 0)
    by_recipient = {rcpt[0]: (raw, options) for (_, rcpt), raw, options
                    in zip(smtp.envelopes, smtp.raw, smtp.mail_options, strict=True)}
    assert set(by_recipient) == {ZOE, IDN_ASCII}  # the envelope aiosmtpd saw
    assert {sender for sender, _ in smtp.envelopes} == {SENDER}

    raw, options = by_recipient[ZOE]
    assert "SMTPUTF8" in options
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert f"\r\nTo: {ZOE}\r\n".encode() in head  # UTF-8 as it is, no encoded word
    message = parsed(raw)
    # str(): the stdlib keeps the raw bytes of a UTF-8 addr_spec as surrogates, the header text is right
    assert str(message["To"]) == ZOE and len(message["To"].addresses) == 1
    assert message["Subject"] == "Aanmelding bevestigd: Samen onderwijs versnellen"
    assert "Beste Anna," in message.get_body(("plain",)).get_content()

    raw, options = by_recipient[IDN_ASCII]
    assert "SMTPUTF8" not in options  # an ASCII local part needs no SMTPUTF8
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()
    assert parsed(raw)["To"].addresses[0].addr_spec == IDN_ASCII
    assert {row.status for row in outbox().values()} == {MailStatus.sent}


def test_without_smtputf8_only_the_accented_local_part_fails(client, event, smtp_ascii, runner, organiser_client):
    smtp = smtp_ascii
    post_registration(client, event, email=ZOE)
    post_registration(client, event, email=IDN)
    post_registration(client, event, email="anna@example.org")
    result = deliver()
    assert (result.sent, result.failed, result.retried) == (2, 1, 0)
    assert sorted(rcpt for _, [rcpt] in smtp.envelopes) == ["anna@example.org", IDN_ASCII]
    assert parsed(smtp.raw[smtp.envelopes.index((SENDER, [IDN_ASCII]))])["To"] == IDN_ASCII

    rows = outbox()
    assert rows[ZOE].status == MailStatus.failed
    assert rows[ZOE].last_error == NO_SMTPUTF8
    assert "e-mailadres" in NO_SMTPUTF8 and "SMTPUTF8" in NO_SMTPUTF8
    assert NO_SMTPUTF8 in runner.invoke(args=["mail", "status"]).output
    page = organiser_client.get(f"/organiser/events/{event.slug}").get_data(as_text=True)
    assert ZOE in page and NO_SMTPUTF8 in page
    assert deliver().claimed == 0  # failed for good: no retry would help


def test_an_address_whose_domain_cannot_be_written_fails_alone(client, event, smtp):
    post_registration(client, event, email="anna@example.org")
    post_registration(client, event, email="bert@example.org")
    # An address from before the form checked it: an empty label in the domain.
    broken = next(row for row in outbox().values() if row.recipient == "bert@example.org")
    broken.registration.email = "bert@één..nl"
    db.session.commit()
    result = deliver()
    assert (result.sent, result.failed) == (1, 1)
    assert smtp.envelopes == [(SENDER, ["anna@example.org"])]
    row = outbox()["bert@example.org"]
    assert row.status == MailStatus.failed
    assert "domeinnaam" in row.last_error and "bert@één..nl" in row.last_error


def test_a_row_of_a_kind_this_version_does_not_know_waits_and_the_batch_goes_on(client, event, smtp, frozen):
    # A row queued by a newer release during a rolling upgrade.
    queue_mail("nieuwsbrief", recipient="nieuw@example.org", dedupe_key="nieuwsbrief:1")
    db.session.commit()
    post_registration(client, event)
    result = deliver()
    assert (result.sent, result.retried) == (1, 1)
    assert smtp.envelopes == [(SENDER, ["anna.vandenberg@example.org"])]
    row = outbox()["nieuw@example.org"]
    assert (row.status, row.next_attempt_at) == (MailStatus.pending, NOW + timedelta(minutes=1))
    assert "KeyError" in row.last_error and "nieuwsbrief" in row.last_error
    assert row.claimed_until is None


def test_an_unexpected_error_while_sending_one_row_leaves_the_others(client, event, smtp, frozen, monkeypatch):
    for address in ("a@example.org", "b@example.org", "c@example.org"):
        post_registration(client, event, email=address)
    putcmd = smtplib.SMTP.putcmd

    def putcmd_that_breaks_on_rcpt_b(self, command, arguments=""):
        if command == "rcpt" and "<b@" in arguments:
            raise RuntimeError("onverwacht")
        return putcmd(self, command, arguments)

    monkeypatch.setattr(smtplib.SMTP, "putcmd", putcmd_that_breaks_on_rcpt_b)
    result = deliver()
    assert (result.sent, result.retried, result.connection_error) == (2, 1, "")
    assert sorted(rcpt for _, [rcpt] in smtp.envelopes) == ["a@example.org", "c@example.org"]
    row = outbox()["b@example.org"]
    assert row.status == MailStatus.pending and row.last_error == "RuntimeError: onverwacht"
    monkeypatch.undo()
    frozen.move_to(NOW + timedelta(minutes=1))
    assert deliver().sent == 1
    assert sorted(rcpt for _, [rcpt] in smtp.envelopes) == ["a@example.org", "b@example.org", "c@example.org"]


def test_a_fault_outside_any_one_row_ends_the_pass_not_the_worker(client, event, smtp, runner, monkeypatch):
    """A pass that fails as a whole (a bug in the planning sweep, say) is logged; the next pass sends."""
    post_registration(client, event)
    passes = []

    def failing_once():
        passes.append(len(passes) + 1)
        if len(passes) == 1:
            raise RuntimeError("planning kapot")
        result = send_due()
        os.kill(os.getpid(), signal.SIGTERM)  # the worker's own handler ends the loop
        return result

    monkeypatch.setattr(cli, "send_due", failing_once)
    before = signal.getsignal(signal.SIGTERM)
    try:
        result = runner.invoke(args=["mail", "worker", "--interval", "0.05"])
    finally:
        signal.signal(signal.SIGTERM, before)
        socket.setdefaulttimeout(None)
    assert result.exit_code == 0, result.output
    assert "onverwachte fout: RuntimeError: planning kapot" in result.output
    assert "mail worker: weer in orde" in result.output and "stopped" in result.output
    assert passes == [1, 2]
    assert [m["To"].addresses[0].addr_spec for m in smtp.messages] == ["anna.vandenberg@example.org"]
