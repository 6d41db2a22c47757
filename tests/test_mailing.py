"""The outbox and the worker, against a real SMTP server on loopback."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
from icalendar import Calendar as ICalendar
from sqlalchemy import select

from helpers import ENDS, NOW, STARTS, deliver, person, post_registration
from webinar.events.services import cancel_event, create_event
from webinar.extensions import db, mail
from webinar.mailing.mime import Calendar, Email, to_bytes
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.mailing.services import queue_mail
from webinar.mailing.worker import claim_due
from webinar.organiser.broadcast_services import Selection, save_draft, send_broadcast
from webinar.registration.models import TokenPurpose
from webinar.registration.services import cancel_registration
from webinar.registration.tokens import registration_for_token


def outbox() -> list[OutgoingMail]:
    db.session.rollback()
    return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def test_confirmation_mail_headers_bodies_and_calendar(client, event, smtp):
    post_registration(client, event)
    result = deliver()
    assert (result.sent, result.failed) == (1, 0)
    [message] = smtp.messages
    assert smtp.envelopes == [("bijeenkomsten@example.org", ["anna.vandenberg@example.org"])]
    assert message["To"] == "anna.vandenberg@example.org"
    assert message["From"].addresses[0].display_name == "Samen onderwijs versnellen"
    assert message["Subject"].strip() == "Aanmelding bevestigd: Samen onderwijs versnellen"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] == outbox()[0].message_id

    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Beste Anna," in body
        assert "dinsdag 25 mei 2027, 16.00–17.15 uur" in body
        assert "Kort voor de start ontvangt u per e-mail uw persoonlijke link om deel te nemen." in body
        assert re.search(r"http://webinar\.test/r/[A-Za-z0-9_-]{43}", body)
        assert "geheim-123" not in body  # the meeting URL comes later, personally

    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "bijeenkomst.ics"
    raw = attachment.get_content()
    raw = raw if isinstance(raw, bytes) else raw.encode()
    calendar = ICalendar.from_ical(raw)
    [entry] = calendar.walk("VEVENT")
    assert entry.decoded("dtstart") == datetime(2027, 5, 25, 14, 0, tzinfo=timezone.utc)
    assert str(entry["uid"]) == event.ics_uid
    assert str(entry["summary"]) == "Samen onderwijs versnellen"
    assert str(entry["organizer"]) == "mailto:bijeenkomsten@example.org"
    assert "ATTENDEE" not in entry
    for private in (b"geheim-123", b"anna", b"Anna", b"/r/"):
        assert private not in raw


def test_confirmation_offers_google_and_both_outlooks(client, event, smtp):
    post_registration(client, event)
    deliver()
    [message] = smtp.messages
    html = message.get_body(("html",)).get_content()
    links = dict((label, url) for url, label in re.findall(r'<a href="(https://[^"]+)"[^>]*>([^<]+)</a>', html))
    assert links.keys() >= {"Google Agenda", "Outlook (werk of school, Microsoft 365)", "Outlook.com"}
    office = links["Outlook (werk of school, Microsoft 365)"]
    assert office.startswith("https://outlook.office.com/calendar/0/deeplink/compose?")
    assert links["Outlook.com"].startswith("https://outlook.live.com/calendar/0/deeplink/compose?")
    text = message.get_body(("plain",)).get_content()
    assert "Google Agenda, Outlook (werk of school, Microsoft 365) of Outlook.com" in " ".join(text.split())


def test_nothing_is_sent_twice(client, event, smtp):
    post_registration(client, event)
    assert deliver().sent == 1
    assert deliver().sent == 0
    assert len(smtp.messages) == 1
    [row] = outbox()
    assert row.status == MailStatus.sent and row.attempts == 1
    assert row.sent_at == NOW


def test_queueing_the_same_key_twice_adds_one_row(app, event):
    assert queue_mail("manage_link", recipient="a@example.org", dedupe_key="k:1", event_id=event.id)
    assert not queue_mail("manage_link", recipient="a@example.org", dedupe_key="k:1", event_id=event.id)
    db.session.commit()
    assert len(outbox()) == 1


def test_permanent_refusal_fails_at_once_and_keeps_the_error(client, event, smtp):
    post_registration(client, event)
    smtp.replies.append("550 5.1.1 mailbox unavailable")
    result = deliver()
    assert (result.sent, result.failed) == (0, 1)
    [row] = outbox()
    assert row.status == MailStatus.failed
    assert row.last_error.startswith("550")


def test_temporary_refusal_is_retried_after_a_minute(client, event, smtp, frozen):
    post_registration(client, event)
    smtp.replies.append("421 4.3.2 try again later")
    assert deliver().retried == 1
    [row] = outbox()
    assert row.status == MailStatus.pending
    assert row.next_attempt_at == NOW + timedelta(minutes=1)
    assert row.last_error.startswith("421")
    assert deliver().claimed == 0  # not before its time
    frozen.move_to(NOW + timedelta(minutes=1))
    assert deliver().sent == 1
    assert len(smtp.messages) == 1


def test_a_mail_server_that_keeps_refusing_is_retried_on_the_ladder_then_failed(client, event, smtp, frozen):
    post_registration(client, event)
    smtp.replies.extend(["421 4.3.2 busy"] * 5)
    moment = NOW
    for wait in (1, 5, 15, 60):
        assert deliver().retried == 1
        [row] = outbox()
        assert (row.status, row.next_attempt_at) == (MailStatus.pending, moment + timedelta(minutes=wait))
        frozen.move_to(moment + timedelta(minutes=wait) - timedelta(seconds=1))
        assert deliver().claimed == 0  # not a second early
        moment += timedelta(minutes=wait)
        frozen.move_to(moment)
    assert deliver().failed == 1
    [row] = outbox()
    assert (row.status, row.attempts) == (MailStatus.failed, 5)
    assert row.last_error.startswith("421")
    assert smtp.messages == []
    frozen.move_to(moment + timedelta(days=1))
    assert deliver().claimed == 0  # failed for good


def test_unreachable_server_keeps_everything_for_later(client, event, app, smtp):
    post_registration(client, event)
    post_registration(client, event, email="tweede@example.org")
    app.config["MAIL_PORT"] = 1  # nothing listens here
    mail.init_app(app)
    result = deliver()
    assert result.connection_error
    assert result.retried == 2 and result.sent == 0
    assert {row.status for row in outbox()} == {MailStatus.pending}


def test_a_confirmation_for_someone_who_already_cancelled_is_skipped(client, event, smtp):
    post_registration(client, event)
    post_registration(client, event, email="tweede@example.org")
    first = outbox()[0]
    cancel_registration(first.registration)
    db.session.commit()
    result = deliver()
    assert result.skipped == 1
    kinds = {(row.kind, row.recipient): row.status for row in outbox()}
    assert kinds[("confirmation", "anna.vandenberg@example.org")] == MailStatus.skipped
    assert kinds[("cancelled", "anna.vandenberg@example.org")] == MailStatus.sent
    assert [m["Subject"].strip() for m in smtp.to("anna.vandenberg@example.org")] == [
        "Afmelding bevestigd: Samen onderwijs versnellen"
    ]


def test_a_crashed_workers_claim_is_taken_again_after_the_lease(client, event, smtp, frozen):
    post_registration(client, event)
    assert len(claim_due(NOW, 10, lease_seconds=300)) == 1  # ... and the worker dies
    assert deliver().claimed == 0
    frozen.move_to(NOW + timedelta(seconds=301))
    assert deliver().sent == 1
    assert outbox()[0].attempts == 2


HEADERS = ["Subject", "From", "Reply-To", "To", "Date", "Message-ID", "Auto-Submitted", "X-Auto-Response-Suppress",
           "MIME-Version", "Content-Type"]
#: an organiser's message to a group goes as bulk mail too
BULK_HEADERS = [*HEADERS[:8], "Precedence", *HEADERS[8:]]


def test_names_with_accents_and_line_breaks_cannot_break_the_headers(client, event, smtp, organiser):
    post_registration(client, event)
    registration = outbox()[0].registration
    registration.first_name = "Zoë\r\nBcc: indringer@example.org"
    registration.last_name = "Çelik\nX-Injected: ja"
    registration.organisation = "Stichting Één\r\n\r\nLeerlingen"
    event.title = "Café-overleg: één school,\r\nTo: indringer@example.org"
    broadcast = save_draft(event, organiser, selection=Selection(),
                           subject="Welkom {voornaam}, tot dinsdag", body="Beste {voornaam},\n\nTot dan.")
    send_broadcast(event, broadcast, NOW)
    db.session.commit()

    assert deliver().sent == 2
    assert smtp.envelopes == [("bijeenkomsten@example.org", ["anna.vandenberg@example.org"])] * 2
    title = "Café-overleg: één school, To: indringer@example.org"
    subjects = [f"Aanmelding bevestigd: {title}", "Welkom Zoë Bcc: indringer@example.org, tot dinsdag"]
    alternative = ["multipart/alternative", "text/plain", "text/html"]
    shapes = [["multipart/mixed", *alternative, "text/calendar"], alternative]
    for raw, message, subject, shape, headers in zip(smtp.raw, smtp.messages, subjects, shapes,
                                                      [HEADERS, BULK_HEADERS], strict=True):
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert head.isascii() and b"=?utf-8?" in head  # RFC 2047 encoded words, no raw 8-bit
        assert b"\nBcc" not in head and b"\nX-Injected" not in head and b"\nTo: indringer" not in head
        assert message.keys() == headers
        assert message["Subject"] == subject
        assert message["To"] == "anna.vandenberg@example.org"
        assert not message.defects
        assert [part.get_content_type() for part in message.walk()] == shape
        for body in (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()):
            assert "Zoë" in body
    confirmation = smtp.messages[0]
    assert [a.get_filename() for a in confirmation.iter_attachments()] == ["bijeenkomst.ics"]
    assert "Café-overleg" in confirmation.get_body(("html",)).get_content()


@pytest.mark.parametrize("line", ["--=_webinar_alternative_--", "--=_webinar_mixed_", "x" * 1200, "."])
@pytest.mark.parametrize("calendar", [None, Calendar("PUBLISH", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")])
def test_a_body_with_a_boundary_or_a_long_line_keeps_its_shape(line, calendar):
    text = f"Eerst dit.\n{line}\nTot dan.\n"  # plain ASCII: could go as it is
    email = Email("anna@example.org", "Onderwerp", text, f"<p>{line}</p>", "<1@example.org>", calendar)
    raw = to_bytes(email, sender="Bijeenkomsten <bijeenkomsten@example.org>", date=NOW)
    message = message_from_bytes(raw, policy=policy.default)
    alternative = ["multipart/alternative", "text/plain", "text/html"]
    shape = alternative if calendar is None else ["multipart/mixed", *alternative, "text/calendar"]
    assert [part.get_content_type() for part in message.walk()] == shape
    assert message.get_body(("plain",)).get_content().splitlines() == text.splitlines()
    assert max(len(raw_line) for raw_line in raw.split(b"\r\n")) <= 998  # RFC 5322's limit
    assert not any(part.defects for part in message.walk())


def test_one_batch_with_two_events_gives_each_message_its_own_event(event, smtp):
    # The worker keeps an event's texts, calendar file and links for the batch and looks the event up
    # by id: a row of another event in the same batch must get its own, and be judged by its own state.
    other = create_event(slug="leren-verbeteren", title="Leren verbeteren", starts_at=STARTS + timedelta(days=7),
                         ends_at=ENDS + timedelta(days=7), meeting_url="https://meet.example.org/ander-456")
    db.session.commit()
    anna = person(event, "Anna", "Berg", "van den", email="anna@example.org")
    bert = person(other, "Bert", "Bakker", email="bert@example.org")
    carla = person(event, "Carla", "Smit", email="carla@example.org")
    dirk = person(other, "Dirk", "Jansen", email="dirk@example.org")
    els = person(other, "Els", "Visser", email="els@example.org")
    result = deliver()  # one batch: the rows of the two events alternate
    assert (result.sent, result.skipped) == (5, 0)
    titles = {registration.email: own.title for registration, own in
              ((anna, event), (bert, other), (carla, event), (dirk, other), (els, other))}
    uids = {"anna@example.org": event.ics_uid, "carla@example.org": event.ics_uid,
            "bert@example.org": other.ics_uid, "dirk@example.org": other.ics_uid, "els@example.org": other.ics_uid}
    for message in smtp.messages:
        recipient = message["To"]
        assert message["Subject"].strip() == f"Aanmelding bevestigd: {titles[recipient]}"
        [attachment] = list(message.iter_attachments())
        raw = attachment.get_content()
        [entry] = ICalendar.from_ical(raw if isinstance(raw, bytes) else raw.encode()).walk("VEVENT")
        assert str(entry["uid"]) == uids[recipient]
        text = message.get_body(("plain",)).get_content()
        [token] = re.findall(r"http://webinar\.test/r/([A-Za-z0-9_-]{43})", text)
        assert registration_for_token(token, TokenPurpose.manage).email == recipient


def test_a_row_of_a_cancelled_event_is_skipped_beside_a_live_events_rows_in_one_batch(event, smtp):
    other = create_event(slug="leren-verbeteren", title="Leren verbeteren", starts_at=STARTS + timedelta(days=7),
                         ends_at=ENDS + timedelta(days=7), meeting_url="https://meet.example.org/ander-456")
    db.session.commit()
    person(event, "Anna", "Berg", "van den", email="anna@example.org")
    person(other, "Bert", "Bakker", email="bert@example.org")
    person(event, "Carla", "Smit", email="carla@example.org")
    cancel_event(other)
    db.session.commit()
    # One batch: Anna's confirmation (the live event is kept for the batch), Bert's (his event is
    # cancelled: skipped), Carla's, then Bert's cancellation with his own event's title.
    result = deliver()
    assert (result.sent, result.skipped) == (3, 1)
    subjects = {message["To"]: message["Subject"].strip() for message in smtp.messages}
    assert subjects == {"anna@example.org": "Aanmelding bevestigd: Samen onderwijs versnellen",
                        "carla@example.org": "Aanmelding bevestigd: Samen onderwijs versnellen",
                        "bert@example.org": "Gaat niet door: Leren verbeteren"}
