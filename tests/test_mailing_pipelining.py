"""SMTP PIPELINING (RFC 2920): with a server that offers it, one round trip per message.

Against a real aiosmtpd server on loopback that says PIPELINING in its EHLO
answer (aiosmtpd reads its commands from a buffered stream, so it takes them
in groups): each write holds the previous message's content and the next
message's MAIL FROM, RCPT TO and DATA. Every row keeps its own outcome: a
refusal of its recipient or of its content is that row's alone, a row is sent
only once the server accepted its ".", and a server that closes the
connection leaves the rest for a later pass.
"""

from __future__ import annotations

import smtplib
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from helpers import (ENDS, NOW, PERIOD_LINES, STARTS, SMTPServer, deliver, details, free_port, outbox,
                     send_period_lines, serving_mail_for, smtp_server)
from webinar.database import begin_write
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.mailing import pipelining, sending
from webinar.mailing.models import MailStatus
from webinar.registration.services import register

SENDER = "bijeenkomsten@example.org"


@dataclass
class PipeliningServer(SMTPServer):
    """`SMTPServer` that offers PIPELINING (unless `offer` is False) and refuses as it is told.

    It notes for every MAIL FROM whether the RCPT TO and DATA that belong to
    it had arrived before it answered: they had, when the client pipelined.
    """

    offer: bool = True
    #: RCPT TO address -> the reply to give instead of accepting it
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    #: accept RCPT TO even when refusing it (a broken server, which then answers 354 to DATA)
    keep_refused: bool = False
    #: recipient -> the reply to its "." (given once), instead of accepting the message
    dot_replies: dict[str, str] = field(default_factory=dict)
    #: recipient -> after accepting its message, answer "421" to the next command and close
    close_after: str = ""
    #: per MAIL FROM: whether its RCPT TO and DATA were already in the server's buffer
    grouped: list[bool] = field(default_factory=list)
    #: "." that came without a message (after a DATA the server should have refused)
    empty: int = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.offer:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        buffered = bytes(server._reader._buffer)  # what arrived and was not read yet
        self.grouped.append(b"RCPT TO:" in buffered and b"DATA\r\n" in buffered)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_replies.get(address)
        if reply is None or self.keep_refused:
            envelope.rcpt_tos.append(address)
        return reply or "250 OK"

    async def handle_DATA(self, server, session, envelope):
        recipient = envelope.rcpt_tos[0]
        if recipient in self.rcpt_replies:
            self.empty += 1
            return "250 OK"  # a broken server: the lone "." after a refused RCPT
        if recipient in self.dot_replies:
            return self.dot_replies.pop(recipient)
        reply = await super().handle_DATA(server, session, envelope)
        if recipient == self.close_after:
            server.loop.call_soon(server.transport.close)
            return "421 4.3.0 closing connection"  # the message was not accepted after all
        return reply


@pytest.fixture
def server(app):
    """A pipelining SMTP server on loopback, and `app` sending to it."""
    with serving_mail_for(app, PipeliningServer(port=free_port())) as handler:
        yield handler


def registered(count: int, *, extra: tuple[str, ...] = ()) -> list[str]:
    """An event with `count` (and `extra`) registrations; their confirmations are due at NOW."""
    begin_write()
    event = create_event(slug="pijplijn", title="Samen onderwijs versnellen", starts_at=STARTS, ends_at=ENDS,
                         meeting_url="https://meet.example.org/geheim-123")
    addresses = [f"deelnemer{number:02d}@example.org" for number in range(count)] + list(extra)
    for address in addresses:
        register(event, details(address), now=NOW)
    db.session.commit()
    return addresses


def by_recipient() -> dict:
    return {row.recipient: row for row in outbox()}


def test_a_batch_arrives_whole_pipelined_and_as_smtplib_sends_it(server, monkeypatch):
    addresses = registered(50)
    handed_over = []
    send_batch = sending.send_batch

    def keeping_what_goes_out(ready, *args):
        handed_over.extend(ready)
        return send_batch(ready, *args)

    monkeypatch.setattr(sending, "send_batch", keeping_what_goes_out)
    result = deliver()
    assert (result.sent, result.retried, result.failed, result.connection_error) == (50, 0, 0, "")
    assert [rcpt for _, [rcpt] in server.envelopes] == addresses
    assert {sender for sender, _ in server.envelopes} == {SENDER}
    assert server.grouped[1:] == [True] * 49  # after the first, every MAIL FROM came with RCPT TO and DATA
    assert {row.status for row in outbox()} == {MailStatus.sent}
    assert {row.message_id for row in outbox()} == {str(m["Message-ID"]) for m in server.messages}

    # The same bytes as smtplib's sendmail delivers them, to a server without PIPELINING.
    plain = SMTPServer(port=0)
    with smtp_server(plain) as port, smtplib.SMTP("127.0.0.1", port) as connection:
        for item in handed_over:
            connection.sendmail(SENDER, [item.recipient], item.data)
    assert server.raw == plain.raw


def test_without_pipelining_each_message_goes_as_before(server):
    server.offer = False
    addresses = registered(5)
    assert deliver().sent == 5
    assert [rcpt for _, [rcpt] in server.envelopes] == addresses
    assert server.grouped == [False] * 5  # every command waited for the reply to the one before
    assert {row.status for row in outbox()} == {MailStatus.sent}


def test_a_refused_recipient_fails_alone(server):
    addresses = registered(5)
    server.rcpt_replies[addresses[2]] = "550 5.1.1 no such user"
    result = deliver()
    assert (result.sent, result.failed, result.retried, result.connection_error) == (4, 1, 0, "")
    assert [rcpt for _, [rcpt] in server.envelopes] == addresses[:2] + addresses[3:]
    rows = by_recipient()
    assert rows[addresses[2]].status == MailStatus.failed
    assert rows[addresses[2]].last_error == "550 5.1.1 no such user"
    assert {rows[a].status for a in addresses if a != addresses[2]} == {MailStatus.sent}


def test_a_server_that_takes_data_after_a_refused_recipient_gets_an_empty_message(server):
    addresses = registered(4)
    server.rcpt_replies[addresses[1]] = "550 5.1.1 no such user"
    server.keep_refused = True  # so it answers 354 to the DATA that follows
    result = deliver()
    assert (result.sent, result.failed, result.retried) == (3, 1, 0)
    assert server.empty == 1  # the lone "."
    assert [rcpt for _, [rcpt] in server.envelopes] == [addresses[0], *addresses[2:]]
    assert by_recipient()[addresses[1]].status == MailStatus.failed


def test_a_message_refused_for_now_is_tried_again_later(server, frozen):
    addresses = registered(5)
    server.dot_replies[addresses[1]] = "451 4.3.0 try again later"
    result = deliver()
    assert (result.sent, result.failed, result.retried, result.connection_error) == (4, 0, 1, "")
    row = by_recipient()[addresses[1]]
    assert (row.status, row.next_attempt_at, row.last_error) == (
        MailStatus.pending, NOW + timedelta(minutes=1), "451 4.3.0 try again later")
    assert {r.status for r in outbox() if r.recipient != addresses[1]} == {MailStatus.sent}

    frozen.move_to(NOW + timedelta(minutes=1))
    assert deliver().sent == 1
    assert Counter(rcpt for _, [rcpt] in server.envelopes) == Counter(addresses)


def test_a_server_that_closes_mid_batch_gets_no_row_marked_it_did_not_accept(server, frozen):
    addresses = registered(6)
    server.close_after = addresses[2]  # kept its message, answered 421 and closed
    result = deliver()
    assert result.connection_error, result
    assert (result.sent, result.retried, result.failed) == (2, 4, 0)
    rows = outbox()
    assert [row.status for row in rows] == [MailStatus.sent] * 2 + [MailStatus.pending] * 4
    for row in rows[2:]:
        assert row.next_attempt_at == NOW + timedelta(minutes=1) and row.claimed_until is None

    frozen.move_to(NOW + timedelta(minutes=1))
    server.close_after = ""
    assert deliver().sent == 4
    # The message the server kept before its 421 goes again: it was never confirmed.
    assert Counter(rcpt for _, [rcpt] in server.envelopes) == Counter(addresses) + Counter([addresses[2]])
    assert {row.status for row in outbox()} == {MailStatus.sent}


def test_a_line_that_starts_with_a_period_arrives_intact(server, app):
    ready, result = send_period_lines(SENDER)
    assert (result.sent, result.connection_error) == (3, "")
    assert server.grouped[1:] == [True, True]
    for message in server.messages:
        lines = message.get_body(("plain",)).get_content().splitlines()
        assert lines == PERIOD_LINES.splitlines()

    plain = SMTPServer(port=0)
    with smtp_server(plain) as port, smtplib.SMTP("127.0.0.1", port) as connection:
        for item in ready:
            connection.sendmail(SENDER, [item.recipient], item.data)
    assert server.raw == plain.raw  # dot-stuffed and ended as smtplib does


def test_an_address_that_needs_smtputf8_goes_between_the_pipelined_ones(server):
    addresses = registered(2, extra=("zoë.de.wït@example.nl", "cor@example.org"))
    result = deliver()
    assert (result.sent, result.failed, result.retried) == (4, 0, 0)
    assert [rcpt for _, [rcpt] in server.envelopes] == addresses
    options = dict(zip(addresses, server.mail_options, strict=True))
    assert "SMTPUTF8" in options["zoë.de.wït@example.nl"]
    assert "SMTPUTF8" not in options["cor@example.org"]
    assert {row.status for row in outbox()} == {MailStatus.sent}


def test_an_unexpected_error_in_one_row_leaves_the_others(server, monkeypatch):
    addresses = registered(3)
    dot_stuffed = pipelining.dot_stuffed

    def breaks_on_the_second(data: bytes) -> bytes:
        if addresses[1].encode() in data:
            raise RuntimeError("onverwacht")
        return dot_stuffed(data)

    monkeypatch.setattr(pipelining, "dot_stuffed", breaks_on_the_second)
    result = deliver()
    assert (result.sent, result.retried, result.connection_error) == (2, 1, "")
    assert [rcpt for _, [rcpt] in server.envelopes] == [addresses[0], addresses[2]]
    row = by_recipient()[addresses[1]]
    assert row.status == MailStatus.pending and row.last_error == "RuntimeError: onverwacht"
