"""Every kind of e-mail, as the worker sends it, against a reviewed snapshot in tests/snapshots/<kind>.txt.

Each kind is queued for fixed people at a frozen moment and sent through the
worker to the `smtp` fixture; the snapshot holds the recipients, the subject
and the text part. Personal tokens are new on every send, so they read
`<token>` in the snapshot (and numbers the database hands out, `<id>`).

A changed e-mail fails here until its snapshot is rewritten and reviewed:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_mail_snapshots.py
    git diff tests/snapshots/
"""

from __future__ import annotations

import base64
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from helpers import ENDS, NOW, STARTS, deliver, make_request, post_registration, read_with_mailparser
from webinar.attendance.models import Attendance
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.mailing.kinds import labels, mail_kind
from webinar.mailing.services import queue_mail
from webinar.organiser.broadcast_services import Selection, save_draft, send_broadcast
from webinar.organiser.password_reset import request_reset
from webinar.organiser.services import invite
from webinar.organiser.two_factor import tell_organiser
from webinar.registration.models import Registration, RegistrationStatus
from webinar.registration.notifications import render_registrant_mail
from webinar.support.models import SupportStatus
from webinar.support.services import update_request

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


def mail_kinds() -> list[str]:
    """Every kind of e-mail the app sends, as the domains registered them with mailing."""
    return sorted(labels())


def is_registrant_kind(kind: str) -> bool:
    """A kind the registration domain renders for one registrant (confirmation, reminder, ...)."""
    return mail_kind(kind).render is render_registrant_mail


# -- putting one e-mail of each kind in the outbox ---------------------------------------


def anna(client, event, status=RegistrationStatus.confirmed) -> Registration:
    """Anna van den Berg registered (her confirmation sent), then given `status`."""
    post_registration(client, event)
    deliver()
    registration = db.session.scalar(select(Registration))
    registration.status = status
    db.session.commit()
    return registration


def queue_for(registration: Registration, kind: str, **columns) -> None:
    """One outbox row of `kind` for the registration, due now."""
    queue_mail(kind, recipient=registration.email, dedupe_key=f"snapshot:{kind}",
               event_id=registration.event_id, registration_id=registration.id)
    row = db.session.scalar(select(OutgoingMail).where(OutgoingMail.dedupe_key == f"snapshot:{kind}"))
    for name, value in columns.items():
        setattr(row, name, value)
    db.session.commit()


def registrant_mail(kind: str, client, event, frozen) -> None:
    """The registrant kinds: Anna in the status the kind is for, at a moment it is still of use.

    The planned kinds (reminder, join link, follow-ups) are queued by the
    worker's own sweep when their moment has come; the others are queued here.
    """
    status = {"waitlisted": RegistrationStatus.waitlisted,
              "cancelled": RegistrationStatus.cancelled}.get(kind, RegistrationStatus.confirmed)
    if kind == "confirmation":
        post_registration(client, event)
        return
    event.reminder_days_before = 1
    if kind == "followup_joined":
        event.followup_joined_text = "Dank voor uw komst. De presentatie staat op de website."
    if kind == "followup_missed":
        event.followup_missed_text = "Jammer dat u er niet bij was. De opname staat op de website."
    db.session.commit()  # before the request: a request starts its own transaction
    registration = anna(client, event, status)
    if kind == "followup_joined":
        db.session.add(Attendance(registration_id=registration.id, first_joined_at=STARTS, last_joined_at=STARTS,
                                  join_count=1))
        db.session.commit()
    planned = {"reminder": STARTS - timedelta(hours=5), "join_link": STARTS - timedelta(minutes=10),
               "followup_joined": ENDS + timedelta(days=1), "followup_missed": ENDS + timedelta(days=1)}
    if kind in planned:
        frozen.move_to(planned[kind])
        return
    columns = {}
    if kind == "event_moved":
        columns = {"previous_starts_at": STARTS - timedelta(days=7), "previous_ends_at": ENDS - timedelta(days=7)}
    if kind == "event_cancelled":
        event.cancelled_at = NOW
    queue_for(registration, kind, **columns)


def other_mail(kind: str, client, event, organiser) -> None:
    """Invitations, organisers' messages and support requests, through their services."""
    if kind == "invitation":
        invite(organiser, "nieuwe.collega@example.org", NOW, role="contactpersoon")
    elif kind == "broadcast":
        anna(client, event)
        message = save_draft(event, organiser, selection=Selection(),
                             subject="Praktische informatie over {datum}",
                             body="Beste {voornaam},\n\nNeem uw vragen mee.\n\nUw aanmelding: {beheerlink}")
        send_broadcast(event, message, NOW)
    elif kind == "password_reset":
        request_reset(organiser.email, timedelta(minutes=30))
    elif kind == "account_notice":
        tell_organiser(organiser, "account.2fa_off", "tweestapsverificatie uitgezet")
    elif kind in ("support_confirmation", "support_new"):
        make_request()
    else:
        request = make_request()
        deliver()
        update_request(request, SupportStatus.in_progress, "Mieke Adviseur", "", True, NOW,
                       status_note="We bellen u deze week voor een eerste gesprek.\nHoud uw agenda bij de hand.")
    db.session.commit()


# -- the snapshot ----------------------------------------------------------------------------

TOKEN = re.compile(r"(/(?:r|j|organiser/uitnodiging|organiser/wachtwoord-herstellen)/)[A-Za-z0-9_-]{20,}")
NUMBERED = [
    (re.compile(r"(/organiser/ondersteuning/)\d+"), r"\1<id>"),
    (re.compile(r"(\(aanvraag )\d+\)"), r"\1<id>)"),
    (re.compile(r"(aanvraag(?:nummer)?:? )\d+\b"), r"\1<id>"),
]


def snapshot_text(message, envelope) -> str:
    """Recipients, subject and the text part, with tokens and database numbers replaced."""
    body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    reply_to = f"Reply-To: {message['Reply-To']}\n" if message["Reply-To"] else ""
    text = (f"From: {message['From']}\n{reply_to}To: {message['To']}\nEnvelope: {', '.join(envelope[1])}\n"
            f"Subject: {message['Subject']}\n\n{body}")
    text = TOKEN.sub(r"\1<token>", text)
    for pattern, replacement in NUMBERED:
        text = pattern.sub(replacement, text)
    return text.rstrip("\n") + "\n"


def matches_snapshot(kind: str, text: str) -> None:
    path = SNAPSHOTS / f"{kind}.txt"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no snapshot {path.name}: run with UPDATE_SNAPSHOTS=1 and review it"
    assert text == path.read_text(encoding="utf-8"), f"{kind} changed: run with UPDATE_SNAPSHOTS=1 and review the diff"


def send_one(kind: str, client, smtp, event, organiser, frozen):
    """Queue one e-mail of `kind`, run the worker; the message as received, its envelope and raw bytes."""
    if is_registrant_kind(kind):
        registrant_mail(kind, client, event, frozen)
    else:
        other_mail(kind, client, event, organiser)
    smtp.messages.clear()
    smtp.envelopes.clear()
    smtp.raw.clear()
    deliver()
    sent = [(m, e, r) for m, e, r in zip(smtp.messages, smtp.envelopes, smtp.raw, strict=True)
            if db.session.scalar(select(OutgoingMail.kind).where(OutgoingMail.message_id == m["Message-ID"])) == kind]
    assert len(sent) == 1, [m["Subject"] for m in smtp.messages]
    return sent[0]


@pytest.mark.parametrize("kind", mail_kinds())
def test_each_mail_matches_its_snapshot(kind, client, smtp, event, organiser, frozen):
    message, envelope, _ = send_one(kind, client, smtp, event, organiser, frozen)
    matches_snapshot(kind, snapshot_text(message, envelope))


@pytest.mark.parametrize("kind", mail_kinds())
def test_a_second_parser_reads_each_mail_as_python_does(kind, client, smtp, event, organiser, frozen):
    """Nodemailer's mailparser finds the same sender, recipient, subject, text and attachments."""
    message, _, raw = send_one(kind, client, smtp, event, organiser, frozen)
    other = read_with_mailparser(raw)
    assert other["from"] == [message["From"].addresses[0].addr_spec]
    assert other["fromName"] == message["From"].addresses[0].display_name
    reply_to = message["Reply-To"].addresses if message["Reply-To"] else ()
    assert other["replyTo"] == [address.addr_spec for address in reply_to]
    assert other["to"] == [address.addr_spec for address in message["To"].addresses]
    assert other["subject"] == message["Subject"]
    assert other["messageId"] == message["Message-ID"]
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert other["text"].rstrip("\n") == text.rstrip("\n")
    assert other["html"] is (message.get_body(("html",)) is not None)
    attachments = [(part.get_content_type(), part.get_filename(), base64.b64encode(part.get_payload(decode=True)).decode())
                   for part in message.iter_attachments()]
    assert [(part["contentType"], part["filename"], part["content"]) for part in other["attachments"]] == attachments


def test_every_kind_has_a_snapshot_and_every_snapshot_a_kind():
    files = sorted(path.stem for path in SNAPSHOTS.glob("*.txt"))
    assert files == mail_kinds()
