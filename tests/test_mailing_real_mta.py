"""The worker's mail, as a real mail server takes it: Debian's OpenSMTPD on loopback.

OpenSMTPD does not offer PIPELINING, and it is strict about it: a client that
sends a command before the reply to the one before gets "500 Pipelining not
supported" and loses the connection. So these tests check, with a server we
did not write, the plain path of `send_batch` (the one it takes when PIPELINING
is not offered): that it waits for every reply, that what it hands over is
delivered as the outbox says, and that a recipient refused at RCPT TO fails
alone. The pipelined path is checked against aiosmtpd in
test_mailing_pipelining.py.
"""

from __future__ import annotations

import re
import smtplib
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from helpers import ENDS, NOW, PERIOD_LINES, REFUSED, STARTS, deliver, details, outbox, send_period_lines
from webinar.database import begin_write
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.mailing.models import MailStatus
from webinar.registration.models import AccessToken, TokenPurpose
from webinar.registration.services import register
from webinar.tokens import hash_token

pytestmark = pytest.mark.slow

SENDER = "bijeenkomsten@example.org"
IDN = "info@basisschool-één.nl"
IDN_ASCII = "info@xn--basisschool-n-mhba.nl"


def registered(addresses: list[str]) -> None:
    """An event with these registrations; their confirmations are due at NOW."""
    begin_write()
    event = create_event(slug="echte-server", title="Samen onderwijs versnellen", starts_at=STARTS, ends_at=ENDS,
                         meeting_url="https://meet.example.org/geheim-123")
    for address in addresses:
        register(event, details(address), now=NOW)
    db.session.commit()


def parsed(raw: bytes):
    return message_from_bytes(raw, policy=policy.default)


def test_the_server_offers_no_pipelining_and_refuses_it(opensmtpd):
    with smtplib.SMTP("127.0.0.1", opensmtpd.port, timeout=10) as connection:
        connection.ehlo()
        assert not connection.has_extn("pipelining")
        # Two commands in one write: the server refuses and closes.
        connection.send(b"MAIL FROM:<bijeenkomsten@example.org>\r\nRCPT TO:<anna@example.org>\r\n")
        code, message = connection.getreply()
    assert code == 500 and b"Pipelining not supported" in message


def test_a_batch_is_delivered_as_the_outbox_says(opensmtpd):
    addresses = [f"deelnemer{number:02d}@example.org" for number in range(30)]
    addresses[12] = REFUSED  # refused at RCPT TO, in the middle of the batch
    addresses[20] = IDN  # the domain goes in its ASCII form
    registered(addresses)

    result = deliver()
    assert (result.sent, result.failed, result.retried, result.connection_error) == (29, 1, 0, ""), result
    rows = outbox()
    assert [row.recipient for row in rows] == addresses
    refused = rows[12]
    assert refused.status == MailStatus.failed
    assert refused.last_error.startswith("550") and REFUSED in refused.last_error
    assert [row.status for row in rows[13:]] == [MailStatus.sent] * 17  # the rows after it went on
    sent = [row for row in rows if row is not refused]
    assert {row.status for row in sent} == {MailStatus.sent}

    by_message_id = {row.message_id: row for row in sent}
    delivered = [parsed(raw) for raw in opensmtpd.delivered(len(sent))]
    assert sorted(str(message["Message-ID"]) for message in delivered) == sorted(by_message_id)
    for message in delivered:
        row = by_message_id[str(message["Message-ID"])]
        recipient = IDN_ASCII if row.recipient == IDN else row.recipient
        assert message["Delivered-To"] == recipient  # the envelope as the server took it
        assert message["Return-Path"] == f"<{SENDER}>"
        assert message["To"].addresses[0].addr_spec in (row.recipient, recipient)
        assert message["Subject"] == "Aanmelding bevestigd: Samen onderwijs versnellen"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        [token] = set(re.findall(r"http://webinar\.test/r/([A-Za-z0-9_-]{43})", text))
        assert f"http://webinar.test/r/{token}" in html
        link = db.session.scalar(select(AccessToken).where(AccessToken.token_hash == hash_token(token)))
        assert (link.registration_id, link.purpose) == (row.registration_id, TokenPurpose.manage)
        [calendar] = list(message.iter_attachments())
        assert calendar.get_content_type() == "text/calendar"


def test_lines_that_start_with_a_period_arrive_intact(opensmtpd, app):
    ready, result = send_period_lines(SENDER)
    assert (result.sent, result.connection_error) == (3, "")
    data = ready[0].data.rstrip(b"\r\n") + b"\r\n"
    for raw in opensmtpd.delivered(3):
        assert parsed(raw).get_body(("plain",)).get_content().splitlines() == PERIOD_LINES.splitlines()
        # Everything after the server's own Received and the maildir's Return-Path / Delivered-To: as sent.
        assert raw.replace(b"\n", b"\r\n").endswith(data)
