"""Replies reach a person: the event's contact person in Reply-To, the support requests' in theirs, and the
headers that keep automatic replies (out of office) away; read by Python's parser and by mailparser."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest

from helpers import STARTS, deliver, make_request, person, read_with_mailparser
from webinar.extensions import db
from webinar.organiser.broadcast_services import Selection, save_draft, send_broadcast

#: what every message says about automatic replies
AUTOMATIC = {"auto-submitted": "auto-generated", "x-auto-response-suppress": "OOF, AutoReply"}


def received(smtp, subject_start: str) -> tuple[object, dict]:
    """The one message whose subject starts so, by Python's parser and by mailparser."""
    [raw] = [raw for raw, message in zip(smtp.raw, smtp.messages) if str(message["Subject"]).startswith(subject_start)]
    return message_from_bytes(raw, policy=policy.default), read_with_mailparser(raw)


@pytest.fixture
def contact(event):
    event.contact_name, event.contact_email = "Mirjam de Vries", "m.devries@caop.example.org"
    db.session.commit()
    return event


def test_a_registrant_replies_to_the_events_contact_person_and_no_auto_reply_is_asked(contact, smtp):
    person(contact, "Anna", "Berg")
    deliver()
    message, other = received(smtp, "Aanmelding bevestigd")
    [reply_to] = message["Reply-To"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == ("Mirjam de Vries", "m.devries@caop.example.org")
    assert other["replyTo"] == ["m.devries@caop.example.org"]
    assert other["from"] == ["bijeenkomsten@example.org"]
    assert other["autoReplies"] == AUTOMATIC | {"precedence": None}  # one person's confirmation: not bulk


def test_the_reminder_and_an_organisers_message_go_as_bulk_with_the_same_reply_to(contact, organiser, smtp, frozen):
    person(contact, "Anna", "Berg")
    deliver()
    broadcast = save_draft(contact, organiser, selection=Selection(), subject="Programma", body="Beste {voornaam},")
    send_broadcast(contact, broadcast, contact.starts_at - timedelta(days=2))
    db.session.commit()
    frozen.move_to(STARTS - timedelta(days=1) + timedelta(hours=1))  # after the reminder's 10.00 the day before
    deliver()
    for subject in ("Herinnering", "Programma"):
        message, other = received(smtp, subject)
        assert other["replyTo"] == ["m.devries@caop.example.org"], subject
        assert other["autoReplies"] == AUTOMATIC | {"precedence": "bulk"}, subject
        assert message["Precedence"] == "bulk"


def test_without_a_contact_person_replies_go_to_the_one_the_settings_name(app, event, smtp):
    app.config.update(EVENT_CONTACT_NAME="Team bijeenkomsten", EVENT_CONTACT_EMAIL="team@caop.example.org")
    event.contact_name, event.contact_email = "", ""
    db.session.commit()
    person(event, "Anna", "Berg")
    deliver()
    message, other = received(smtp, "Aanmelding bevestigd")
    [reply_to] = message["Reply-To"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == ("Team bijeenkomsten", "team@caop.example.org")
    assert other["replyTo"] == ["team@caop.example.org"]


def test_support_request_mail_replies_to_leren_verbeteren_without_auto_replies(app, smtp):
    make_request()
    deliver()
    assert len(smtp.raw) == 2  # the confirmation to the school and the notice to the project lead
    for raw in smtp.raw:
        other = read_with_mailparser(raw)
        assert other["replyTo"] == ["lerenverbeteren@example.org"]
        assert other["autoReplies"] == AUTOMATIC | {"precedence": None}
