"""Certificates of attendance: who qualifies, the PDF, the follow-up it goes with, the download, the verification."""

from __future__ import annotations

import base64
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from helpers import (
    ENDS,
    STARTS,
    amsterdam_at,
    deliver,
    page_text,
    pdf_fonts,
    pdf_reader,
    pdf_text,
    person,
    qr_codes_on_page,
    read_with_mailparser,
    require_pango,
)
from webinar.attendance.models import Attendance, AttendanceSource
from webinar.attendance.presence import minutes_present
from webinar.attendance.services import set_attendance_by_hand
from webinar.events.models import Event
from webinar.extensions import db
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.registration.models import RegistrationStatus, TokenPurpose
from webinar.registration.tokens import issue_token

FOLLOWUP_AT = ENDS + timedelta(minutes=60)
#: what the certificate says of the `event` fixture's meeting
WHEN = "dinsdag 25 mei 2027, 16.00–17.15 uur"


def utc(hour: int, minute: int) -> datetime:
    return amsterdam_at(hour, minute)


# -- minutes present: one rule per source ---------------------------------------------------------

MEETING = Event(starts_at=STARTS.astimezone(timezone.utc), ends_at=ENDS.astimezone(timezone.utc))


def record(source: AttendanceSource, first: datetime | None = None, last: datetime | None = None,
           minutes: int | None = None, clicks: int = 0) -> Attendance:
    first = first or MEETING.starts_at
    return Attendance(source=source, first_joined_at=first, last_joined_at=last or first,
                      minutes_present=minutes, join_count=clicks)


@pytest.mark.parametrize("attendance, expected", [
    (None, 0),
    # join-link clicks: from the first click (not before the start) to the end
    (record(AttendanceSource.link, utc(15, 50), clicks=1), 75),
    (record(AttendanceSource.link, utc(16, 0), clicks=1), 75),
    (record(AttendanceSource.link, utc(16, 20), utc(16, 50), clicks=3), 55),
    (record(AttendanceSource.link, utc(17, 14, ), clicks=1), 1),
    (record(AttendanceSource.link, utc(17, 30), clicks=1), 0),
    # a Teams or Zoom report with minutes: its minutes, never more than the meeting
    (record(AttendanceSource.report, utc(15, 58), utc(16, 35), minutes=65), 65),
    (record(AttendanceSource.report, utc(15, 40), minutes=90), 75),
    (record(AttendanceSource.report, utc(15, 58), minutes=0), 0),
    # ... a report wins over earlier link clicks (importing it made the source "report")
    (record(AttendanceSource.report, utc(15, 50), minutes=30, clicks=2), 30),
    # a report with times only: as link clicks
    (record(AttendanceSource.report, utc(16, 10), utc(16, 40)), 65),
    # a report with neither, or marked present by hand: the whole meeting
    (record(AttendanceSource.report), 75),
    (record(AttendanceSource.manual), 75),
], ids=["nothing", "link-early", "link-on-time", "link-late", "link-last-minute", "link-after-end",
        "report-minutes", "report-more-than-length", "report-zero", "report-over-link", "report-times-only",
        "report-no-times", "by-hand"])
def test_minutes_present_per_source(attendance, expected):
    assert minutes_present(attendance, MEETING) == expected


@pytest.mark.parametrize("percent, minutes, expected", [
    (75, 75, 57),  # 56.25, rounded up
    (75, 60, 45),
    (100, 75, 75),
    (1, 75, 1),
    (50, 45, 23),
])
def test_the_minimum_is_a_percentage_of_the_length_rounded_up(percent, minutes, expected):
    event = Event(starts_at=MEETING.starts_at, ends_at=MEETING.starts_at + timedelta(minutes=minutes),
                  certificate_min_percent=percent)
    assert event.certificate_min_minutes() == expected


# -- the organiser switches it on -------------------------------------------------------------------


def edit_form(event, **values) -> dict:
    form = {
        "title": event.title, "slug": event.slug, "starts_at": "2027-05-25T16:00", "ends_at": "2027-05-25T17:15",
        "capacity": "100", "roles": "Schoolleider", "reminder_days_before": "1", "reminder_local_time": "10:00",
        "join_link_minutes_before": "30", "followup_minutes_after": "60", "certificate_min_percent": "75",
    }
    form.update(values)
    return {name: value for name, value in form.items() if value is not None}


def test_the_organiser_switches_certificates_on_with_a_minimum(organiser_client, event):
    new_form = page_text(organiser_client.get("/organiser/events/nieuw"))
    assert "Bewijs van deelname" in new_form and 'value="75"' in new_form
    response = organiser_client.post(f"/organiser/events/{event.slug}/bewerken",
                                     data=edit_form(event, certificate_enabled="y", certificate_min_percent="80"))
    assert response.status_code == 302, page_text(response)
    db.session.rollback()
    event = db.session.get(Event, event.id)
    assert (event.certificate_enabled, event.certificate_min_percent, event.certificate_min_minutes()) == (True, 80, 60)
    assert "Nu: ten minste 60 van de 75 minuten." in page_text(
        organiser_client.get(f"/organiser/events/{event.slug}/bewerken"))


@pytest.mark.parametrize("value", ["0", "101", "-5", "75.5", "veel"])
def test_a_minimum_outside_1_to_100_percent_is_refused(organiser_client, event, value):
    response = organiser_client.post(f"/organiser/events/{event.slug}/bewerken",
                                     data=edit_form(event, certificate_enabled="y", certificate_min_percent=value))
    assert response.status_code == 200
    page = page_text(response)
    assert "Kies 1 tot 100 procent." in page or "Vul een heel getal in, bijvoorbeeld 30." in page
    db.session.rollback()
    assert db.session.get(Event, event.id).certificate_enabled is False


@pytest.mark.parametrize("value", ["", None], ids=["empty", "left-out"])
def test_no_minimum_means_the_default_75_percent(organiser_client, event, value):
    event.certificate_min_percent = 90
    db.session.commit()
    response = organiser_client.post(f"/organiser/events/{event.slug}/bewerken",
                                     data=edit_form(event, certificate_enabled="y", certificate_min_percent=value))
    assert response.status_code == 302, page_text(response)
    db.session.rollback()
    assert db.session.get(Event, event.id).certificate_min_percent == 75


# -- the follow-up with the PDF ------------------------------------------------------------------------


@pytest.fixture
def certified(event):
    """The event with certificates on (75%: 57 of 75 minutes) and a follow-up for those who joined."""
    event.certificate_enabled = True
    event.followup_joined_text = "Dank voor uw komst."
    event.followup_missed_text = "Jammer dat u er niet was."
    db.session.commit()
    return event


def join_at(client, frozen, registration, moment: datetime) -> None:
    """The registrant clicks their join link at `moment` (Amsterdam time)."""
    token = issue_token(registration, TokenPurpose.join)
    db.session.commit()
    frozen.move_to(moment)
    response = client.get(f"/j/{token}")
    assert response.status_code == 303, page_text(response)


@pytest.fixture
def attendees(client, frozen, certified):
    """Anna joined before the start, Bram 40 minutes late, Carla was marked present by hand, Dirk never came."""
    anna = person(certified, "Anna", "Berg", "van den", email="anna@example.org")
    bram = person(certified, "Bram", "Smit", email="bram@example.org")
    carla = person(certified, "Carla", "Zoë-Öztürk", email="carla@example.org")
    dirk = person(certified, "Dirk", "Jansen", email="dirk@example.org")
    join_at(client, frozen, anna, STARTS - timedelta(minutes=5))
    join_at(client, frozen, bram, STARTS + timedelta(minutes=40))
    set_attendance_by_hand(carla, True)
    db.session.commit()
    return {"anna": anna, "bram": bram, "carla": carla, "dirk": dirk}


def pdf_attachments(message) -> list[bytes]:
    return [part.get_content() for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]


def is_followup(message) -> bool:
    return message["Subject"].startswith(("Dank voor uw deelname", "Gemist?"))


def followups(smtp, frozen) -> dict:
    """The follow-ups as the worker sends them at their moment (with the confirmations), by recipient."""
    frozen.move_to(FOLLOWUP_AT)
    result = deliver()
    assert result.failed == 0 and result.connection_error == ""
    return {message["To"].addresses[0].addr_spec: message for message in smtp.messages if is_followup(message)}


def test_those_present_long_enough_get_the_pdf_with_their_follow_up_and_the_others_none(
        attendees, smtp, frozen):
    require_pango()
    sent = followups(smtp, frozen)
    assert set(sent) == {"anna@example.org", "bram@example.org", "carla@example.org", "dirk@example.org"}
    assert sent["dirk@example.org"]["Subject"].startswith("Gemist?")
    for address in ("anna@example.org", "carla@example.org"):
        [pdf] = pdf_attachments(sent[address])
        assert pdf.startswith(b"%PDF-")
        [part] = list(sent[address].iter_attachments())
        assert part.get_filename() == "bewijs-van-deelname.pdf"
        assert "Bij dit bericht: uw bewijs van deelname (pdf)." in sent[address].get_body(("plain",)).get_content()
    # Bram came 40 minutes late: 35 of the 57 minutes needed. Dirk never came.
    for address in ("bram@example.org", "dirk@example.org"):
        assert list(sent[address].iter_attachments()) == []
        assert "bewijs" not in sent[address].get_body(("plain",)).get_content()
    carla = pdf_text(pdf_attachments(sent["carla@example.org"])[0])
    assert "Carla Zoë-Öztürk" in carla and "75 minuten" in carla


def test_the_pdf_says_who_what_when_how_long_and_who_organised_it(attendees, smtp, frozen):
    require_pango()
    [pdf] = pdf_attachments(followups(smtp, frozen)["anna@example.org"])
    text = pdf_text(pdf)
    for expected in ("Bewijs van deelname", "Anna van den Berg", "Samen onderwijs versnellen", WHEN,
                     "75 minuten (de bijeenkomst duurde 75 minuten)", "Georganiseerd door",
                     "contactpersoon: Mirjam de Vries", "http://webinar.test/bewijs/"):
        assert expected in text, (expected, text)


def test_the_pdf_is_a4_with_embedded_fonts_tagged_in_dutch(attendees, smtp, frozen):
    require_pango()
    [pdf] = pdf_attachments(followups(smtp, frozen)["anna@example.org"])
    reader = pdf_reader(pdf)
    [page] = reader.pages
    width_mm, height_mm = (float(side) * 25.4 / 72 for side in (page.mediabox.width, page.mediabox.height))
    assert (round(width_mm), round(height_mm)) == (210, 297)
    fonts = pdf_fonts(pdf)
    assert fonts and all(fonts.values()), fonts
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "nl"
    assert "/StructTreeRoot" in catalog and catalog["/MarkInfo"]["/Marked"]
    assert reader.metadata.title.startswith("Bewijs van deelname")


def verification_link(pdf: bytes) -> str:
    """The verification link, the last text of the PDF (it may wrap over lines: they are joined)."""
    text = "".join(pdf_text(pdf).split())
    return text[text.index("http://webinar.test/bewijs/"):]


def test_the_qr_code_on_the_page_decodes_to_the_verification_link(attendees, smtp, frozen):
    require_pango()
    [pdf] = pdf_attachments(followups(smtp, frozen)["anna@example.org"])
    [link] = qr_codes_on_page(pdf)
    assert link.startswith("http://webinar.test/bewijs/")
    assert link == verification_link(pdf)


def test_a_second_mail_parser_finds_the_same_pdf(attendees, smtp, frozen):
    require_pango()
    sent = followups(smtp, frozen)
    [raw] = [raw for raw, message in zip(smtp.raw, smtp.messages)
             if is_followup(message) and message["To"].addresses[0].addr_spec == "anna@example.org"]
    read = read_with_mailparser(raw)
    [attachment] = read["attachments"]
    assert (attachment["contentType"], attachment["filename"]) == ("application/pdf", "bewijs-van-deelname.pdf")
    assert base64.b64decode(attachment["content"]) == pdf_attachments(sent["anna@example.org"])[0]
    assert "Bij dit bericht: uw bewijs van deelname (pdf)." in read["text"]


def test_a_pdf_that_fails_to_build_fails_that_follow_up_alone(attendees, smtp, frozen, monkeypatch):
    """Anna's certificate cannot be made: her follow-up is tried again later; the others go now."""
    require_pango()
    from webinar.certificates import notifications

    real = notifications.pdf_for

    def broken_for_anna(registration, statement):
        if registration.first_name == "Anna":
            raise RuntimeError("the PDF could not be made")
        return real(registration, statement)

    monkeypatch.setattr(notifications, "pdf_for", broken_for_anna)
    frozen.move_to(FOLLOWUP_AT)
    result = deliver()
    assert (result.retried, result.failed) == (1, 0)
    assert {message["To"].addresses[0].addr_spec for message in smtp.messages if is_followup(message)} == {
        "bram@example.org", "carla@example.org", "dirk@example.org"}
    db.session.rollback()
    anna_row = db.session.scalar(select(OutgoingMail).where(OutgoingMail.recipient == "anna@example.org",
                                                            OutgoingMail.kind == "followup_joined"))
    assert anna_row.status == MailStatus.pending and "the PDF could not be made" in anna_row.last_error

    monkeypatch.setattr(notifications, "pdf_for", real)  # mended: the next try after the backoff sends it
    frozen.move_to(FOLLOWUP_AT + timedelta(minutes=2))
    assert deliver().sent == 1
    assert len(pdf_attachments(smtp.messages[-1])) == 1


def another_writer_could_write() -> bool:
    """Whether another connection could start writing now: SQLite's one write lock is free."""
    with db.engine.connect() as other:
        raw = other.connection.driver_connection
        try:
            raw.execute("PRAGMA busy_timeout=0")
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.invalidate()  # not back to the pool with the busy timeout at 0


@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "negative-control"])
def test_the_pdfs_are_made_while_registrations_can_still_write(attendees, smtp, frozen, monkeypatch, prepared):
    """The worker renders a batch, PDFs included, before it takes SQLite's write lock, so a registration
    elsewhere need not wait 0.2 s a certificate. Negative control: a worker that takes the lock first makes
    them while it holds it."""
    require_pango()
    if db.engine.dialect.name != "sqlite":
        pytest.skip("only SQLite has one write lock for the whole database")
    from webinar.certificates import notifications
    from webinar.mailing import worker

    real, free = notifications.pdf_for, []

    def watched(registration, statement):
        free.append(another_writer_could_write())
        return real(registration, statement)

    monkeypatch.setattr(notifications, "pdf_for", watched)
    if not prepared:
        monkeypatch.setattr(worker, "begin_reads", worker.begin_write)
        monkeypatch.setattr(worker, "restart_as_write", lambda: None)
    sent = followups(smtp, frozen)
    assert free == [prepared, prepared]  # Anna's and Carla's, each made once
    assert len(pdf_attachments(sent["anna@example.org"])) == 1


def test_no_certificate_when_it_is_off_or_the_registration_was_cancelled(attendees, smtp, frozen):
    event = attendees["anna"].event
    event.certificate_enabled = False
    attendees["carla"].status = RegistrationStatus.cancelled
    db.session.commit()
    sent = followups(smtp, frozen)
    assert "carla@example.org" not in sent
    assert all(list(message.iter_attachments()) == [] for message in sent.values())


# -- the download from the manage link ---------------------------------------------------------------


def manage_token(registration) -> str:
    token = issue_token(registration, TokenPurpose.manage)
    db.session.commit()
    return token


def test_the_registrant_downloads_the_pdf_from_their_manage_page_after_the_meeting(attendees, client, frozen):
    require_pango()
    anna, bram = manage_token(attendees["anna"]), manage_token(attendees["bram"])
    frozen.move_to(ENDS - timedelta(minutes=1))  # not before the meeting is over
    assert "Bewijs van deelname" not in page_text(client.get(f"/r/{anna}"))
    assert client.get(f"/r/{anna}/bewijs-van-deelname.pdf").status_code == 404

    frozen.move_to(ENDS + timedelta(days=3))
    page = page_text(client.get(f"/r/{anna}"))
    assert f'href="/r/{anna}/bewijs-van-deelname.pdf"' in page
    response = client.get(f"/r/{anna}/bewijs-van-deelname.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="bewijs-van-deelname.pdf"'
    assert "Anna van den Berg" in pdf_text(response.data)
    # Bram was not present long enough: no link, no PDF.
    assert "Bewijs van deelname" not in page_text(client.get(f"/r/{bram}"))
    assert client.get(f"/r/{bram}/bewijs-van-deelname.pdf").status_code == 404
    assert client.get("/r/onbekend/bewijs-van-deelname.pdf").status_code == 404


# -- verification, after the purge too ----------------------------------------------------------------


def test_the_verification_link_confirms_the_statement_after_the_privacy_purge(attendees, client, frozen, runner):
    require_pango()
    token = manage_token(attendees["anna"])
    frozen.move_to(ENDS + timedelta(days=1))
    pdf = client.get(f"/r/{token}/bewijs-van-deelname.pdf").data
    path = verification_link(pdf).removeprefix("http://webinar.test")

    before = page_text(client.get(path))
    frozen.move_to(ENDS + timedelta(days=90, minutes=1))
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert db.session.scalars(select(Attendance)).all() == []
    assert client.get(f"/r/{token}/bewijs-van-deelname.pdf").status_code == 404  # the registration is gone

    response = client.get(path)
    assert response.status_code == 200
    page = page_text(response)
    assert page == before
    for expected in ("Bewijs van deelname bevestigd", "Anna van den Berg", "Samen onderwijs versnellen", WHEN,
                     "75 minuten (de bijeenkomst duurde 75 minuten)"):
        assert expected in page
    # Only what the certificate says: nothing else the registration held.
    for kept_back in ("anna@example.org", "OBS De Linde", "Schoolleider"):
        assert kept_back not in page
    assert response.headers["X-Robots-Tag"] == "noindex" and response.headers["Cache-Control"] == "no-store"


def test_the_organiser_sees_who_gets_a_certificate_on_the_attendance_page(attendees, organiser_client):
    page = page_text(organiser_client.get("/organiser/events/samen-onderwijs-versnellen/aanwezigheid"))
    assert "Bewijs van deelname (vanaf 57 minuten)" in page
    rows = {name: page.split(f'<th scope="row">{name}', 1)[1].split("</tr>", 1)[0]
            for name in ("Anna van den Berg", "Bram Smit", "Carla Zoë-Öztürk", "Dirk Jansen")}
    assert "<td>ja (75 min.)</td>" in rows["Anna van den Berg"]
    assert "<td>nee (35 min.)</td>" in rows["Bram Smit"]
    assert "<td>ja (75 min.)</td>" in rows["Carla Zoë-Öztürk"]
    assert "<td>nee (0 min.)</td>" in rows["Dirk Jansen"]


def test_the_link_in_the_pdf_can_be_clicked(attendees, smtp, frozen):
    require_pango()
    [pdf] = pdf_attachments(followups(smtp, frozen)["anna@example.org"])
    [page] = pdf_reader(pdf).pages
    links = [annotation.get_object()["/A"]["/URI"] for annotation in page.get("/Annots", [])
             if annotation.get_object().get("/Subtype") == "/Link"]
    assert links and set(links) == {verification_link(pdf)}  # one area per line the link wraps over
