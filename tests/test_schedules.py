"""Reminder, join link and follow-ups through a whole event, with the clock moved by hand."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from icalendar import Calendar
from sqlalchemy import select

from helpers import deliver, post_registration
from webinar.attendance.models import Attendance
from webinar.dutch import AMSTERDAM
from webinar.events.services import move_event
from webinar.extensions import db
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.attendance.schedules import schedule_due

ANNA = "anna.vandenberg@example.org"
BRAM = "bram.smit@example.org"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in May 2027, Amsterdam time."""
    return datetime(2027, 5, day, hour, minute, tzinfo=AMSTERDAM)


def subjects(smtp, address: str) -> list[str]:
    return [m["Subject"].strip() for m in smtp.to(address)]


def link(message, prefix: str) -> str:
    """The path of a personal link (/r/ or /j/) in a received e-mail."""
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"http://webinar\.test({prefix}[A-Za-z0-9_-]+)", text).group(1)


def rows(kind: str | None = None) -> list[OutgoingMail]:
    db.session.rollback()
    query = select(OutgoingMail).order_by(OutgoingMail.id)
    if kind:
        query = query.where(OutgoingMail.kind == kind)
    return list(db.session.scalars(query))


def test_a_whole_event_each_message_at_its_moment(client, event, smtp, frozen):
    event.followup_joined_text = "Fijn dat u er was. De presentatie staat online."
    event.followup_missed_text = "U kunt de bijeenkomst terugkijken."
    event.recording_url = "https://video.example.org/terugkijken"
    db.session.commit()
    post_registration(client, event, email=ANNA)
    post_registration(client, event, email=BRAM, first_name="Bram", last_name="Smit", tussenvoegsel="")
    deliver()
    assert subjects(smtp, ANNA) == ["Aanmelding bevestigd: Samen onderwijs versnellen"]

    frozen.move_to(at(24, 9, 59))
    assert deliver().sent == 0
    frozen.move_to(at(24, 10, 0))
    assert deliver().sent == 2
    assert subjects(smtp, ANNA)[-1] == "Herinnering: Samen onderwijs versnellen morgen om 16.00 uur"
    reminder = smtp.to(ANNA)[-1].get_body(("plain",)).get_content()
    assert "per e-mail op dinsdag 25 mei 2027 om 15.30 uur" in reminder  # when the join link comes

    frozen.move_to(at(25, 15, 29))
    assert deliver().sent == 0
    frozen.move_to(at(25, 15, 30))
    assert deliver().sent == 2
    join_mail = smtp.to(ANNA)[-1]
    assert join_mail["Subject"].strip() == "Uw link om deel te nemen: Samen onderwijs versnellen"
    join = link(join_mail, "/j/")
    assert "geheim-123" not in join_mail.as_string()  # only behind the personal link

    frozen.move_to(at(25, 16, 2))
    response = client.get(join)
    assert response.status_code == 303
    assert response.headers["Location"] == "https://meet.example.org/geheim-123"

    frozen.move_to(at(25, 18, 14))
    assert deliver().sent == 0
    frozen.move_to(at(25, 18, 15))
    assert deliver().sent == 2
    thanks, missed = smtp.to(ANNA)[-1], smtp.to(BRAM)[-1]
    assert thanks["Subject"].strip() == "Dank voor uw deelname: Samen onderwijs versnellen"
    assert "Fijn dat u er was." in thanks.get_body(("plain",)).get_content()
    assert missed["Subject"].strip() == "Gemist? Samen onderwijs versnellen"
    assert "https://video.example.org/terugkijken" in missed.get_body(("plain",)).get_content()

    frozen.move_to(at(27, 12, 0))
    assert deliver().sent == 0  # nothing twice
    assert [len(smtp.to(a)) for a in (ANNA, BRAM)] == [4, 4]


def test_no_follow_up_until_the_organiser_writes_one(client, event, smtp, frozen):
    post_registration(client, event)
    frozen.move_to(at(26, 12, 0))
    deliver()
    assert subjects(smtp, ANNA) == ["Aanmelding bevestigd: Samen onderwijs versnellen"]


def test_a_late_registrant_gets_the_join_link_at_once_and_no_reminder(client, event, smtp, frozen):
    frozen.move_to(at(25, 15, 45))
    post_registration(client, event)
    deliver()
    assert subjects(smtp, ANNA) == [
        "Aanmelding bevestigd: Samen onderwijs versnellen",
        "Uw link om deel te nemen: Samen onderwijs versnellen",
    ]


def test_registering_after_the_reminder_moment_skips_the_reminder(client, event, smtp, frozen):
    frozen.move_to(at(24, 12, 0))
    post_registration(client, event)
    deliver()
    frozen.move_to(at(25, 15, 30))
    deliver()
    assert [s.split(":")[0] for s in subjects(smtp, ANNA)] == ["Aanmelding bevestigd", "Uw link om deel te nemen"]


def test_waitlisted_and_cancelled_people_get_none_of_it(client, event, smtp, frozen):
    event.capacity = 1
    db.session.commit()
    post_registration(client, event, email="komt@example.org")
    post_registration(client, event, email="wacht@example.org")
    post_registration(client, event, email="afgemeld@example.org")
    deliver()
    manage = link(smtp.to("afgemeld@example.org")[0], "/r/")
    client.post(f"{manage}/afmelden")
    for moment in (at(24, 10), at(25, 15, 30)):
        frozen.move_to(moment)
        deliver()
    assert len(smtp.to("komt@example.org")) == 3  # confirmation, reminder, join link
    assert subjects(smtp, "wacht@example.org") == ["U staat op de wachtlijst: Samen onderwijs versnellen"]
    assert [s.split(":")[0] for s in subjects(smtp, "afgemeld@example.org")] == [
        "U staat op de wachtlijst", "Afmelding bevestigd",
    ]


def test_a_join_link_the_worker_only_reaches_after_the_end_is_skipped(client, event, smtp, frozen):
    post_registration(client, event)
    deliver()
    frozen.move_to(at(25, 15, 30))
    db.session.rollback()

    # Reminder and join link are queued, but the worker is down until after the end.
    assert schedule_due(at(25, 15, 30)) == 2
    db.session.commit()
    frozen.move_to(at(25, 17, 16))
    result = deliver()
    assert result.sent == 0 and result.skipped == 2
    for row in rows("reminder") + rows("join_link"):
        assert row.status == MailStatus.skipped
        assert row.last_error == "niet verstuurd: het moment is voorbij"


def join_link_for(client, event, smtp, frozen, email=ANNA) -> str:
    post_registration(client, event, email=email)
    frozen.move_to(at(25, 15, 30))
    deliver()
    return link(smtp.to(email)[-1], "/j/")


def test_join_page_before_during_and_after(client, event, smtp, frozen):
    event.recording_url = "https://video.example.org/terugkijken"
    db.session.commit()
    join = join_link_for(client, event, smtp, frozen)

    frozen.move_to(at(25, 9, 0))
    page = client.get(join)
    assert page.status_code == 200
    assert "De bijeenkomst opent om 15.30 uur" in page.get_data(as_text=True)
    assert "geheim-123" not in page.get_data(as_text=True)

    frozen.move_to(at(25, 15, 31))
    assert client.get(join).headers["Location"] == "https://meet.example.org/geheim-123"
    frozen.move_to(at(25, 16, 40))
    client.get(join)
    attendance = db.session.scalar(select(Attendance))
    assert attendance.join_count == 2
    assert attendance.first_joined_at == at(25, 15, 31).astimezone(timezone.utc)
    assert attendance.last_joined_at == at(25, 16, 40).astimezone(timezone.utc)

    frozen.move_to(at(25, 17, 15))
    page = client.get(join).get_data(as_text=True)
    assert "Deze bijeenkomst is afgelopen" in page
    assert "https://video.example.org/terugkijken" in page
    assert "geheim-123" not in page


def test_join_link_of_a_cancelled_registration_leads_nowhere(client, event, smtp, frozen):
    join = join_link_for(client, event, smtp, frozen)
    manage = link(smtp.to(ANNA)[0], "/r/")
    frozen.move_to(at(25, 15, 40))  # in the join window, before the start: cancelling still works
    assert client.post(f"{manage}/afmelden").status_code == 302
    response = client.get(join)
    assert response.status_code == 200
    assert "U bent afgemeld" in response.get_data(as_text=True)
    assert "geheim-123" not in response.get_data(as_text=True)
    assert db.session.scalar(select(Attendance)) is None


def test_unknown_join_token(client, event):
    response = client.get("/j/" + "x" * 43)
    assert response.status_code == 404
    assert "Deze link werkt niet" in response.get_data(as_text=True)


def test_a_manage_token_is_no_join_token(client, event, smtp, frozen):
    post_registration(client, event)
    deliver()
    token = link(smtp.messages[0], "/r/").removeprefix("/r/")
    frozen.move_to(at(25, 15, 45))
    assert client.get(f"/j/{token}").status_code == 404


def test_moving_the_event_moves_every_message_and_updates_calendars(client, event, smtp, frozen, runner):
    post_registration(client, event)
    deliver()
    result = runner.invoke(args=[
        "events", "move", "--slug", event.slug, "--starts", "2027-06-01 16:00", "--ends", "2027-06-01 17:15",
    ])
    assert result.exit_code == 0, result.output
    assert result.output == ("Samen onderwijs versnellen: nu dinsdag 1 juni 2027, 16.00–17.15 uur; "
                             "1 aangemelde krijgt bericht\n")
    deliver()
    update = smtp.to(ANNA)[-1]
    assert update["Subject"].strip() == "Gewijzigd tijdstip: Samen onderwijs versnellen"
    [attachment] = list(update.iter_attachments())
    raw = attachment.get_content()
    [entry] = Calendar.from_ical(raw if isinstance(raw, bytes) else raw.encode()).walk("VEVENT")
    assert str(entry["uid"]) == event.ics_uid
    assert int(entry["sequence"]) == 1
    assert entry.decoded("dtstart").astimezone(timezone.utc) == datetime(2027, 6, 1, 14, tzinfo=timezone.utc)

    frozen.move_to(at(24, 10))
    assert deliver().sent == 0  # the old reminder moment
    frozen.move_to(datetime(2027, 5, 31, 10, 0, tzinfo=AMSTERDAM))
    assert deliver().sent == 1
    assert subjects(smtp, ANNA)[-1] == "Herinnering: Samen onderwijs versnellen morgen om 16.00 uur"


def june(day: int, hour: int = 16, minute: int = 0) -> datetime:
    """A moment in June 2027, Amsterdam time."""
    return datetime(2027, 6, day, hour, minute, tzinfo=AMSTERDAM)


def move(event, starts: datetime) -> None:
    """Move the event to `starts`, keeping its length of 75 minutes."""
    db.session.rollback()
    move_event(event, starts, starts + timedelta(minutes=75))
    db.session.commit()


def moved_texts(smtp, address: str) -> list[str]:
    """The text part of each new-time mail to `address`, with its lines joined."""
    return [" ".join(m.get_body(("plain",)).get_content().split()) for m in smtp.to(address)
            if m["Subject"].startswith("Gewijzigd tijdstip")]


def test_the_new_time_mail_says_what_the_old_time_was(client, event, smtp):
    post_registration(client, event)
    deliver()
    move(event, june(1))
    deliver()
    [text] = moved_texts(smtp, ANNA)
    assert ('is verplaatst van dinsdag 25 mei 2027, 16.00–17.15 uur '
            'naar dinsdag 1 juni 2027, 16.00–17.15 uur.') in text
    html = smtp.to(ANNA)[-1].get_body(("html",)).get_content()
    assert "is verplaatst van dinsdag 25 mei 2027, 16.00–17.15 uur naar:" in html


def test_moved_twice_before_the_mail_went_out_each_mail_starts_from_the_time_last_known(client, event, smtp):
    post_registration(client, event)
    deliver()
    move(event, june(1))  # Anna's mail about this move is not sent yet...
    post_registration(client, event, email=BRAM, first_name="Bram")  # ...and Bram registers for 1 June
    move(event, june(8))
    deliver()
    assert [row.status for row in rows("event_moved")] == [MailStatus.skipped, MailStatus.sent, MailStatus.sent]
    [anna] = moved_texts(smtp, ANNA)
    assert "van dinsdag 25 mei 2027, 16.00–17.15 uur naar dinsdag 8 juni 2027, 16.00–17.15 uur." in anna
    [bram] = moved_texts(smtp, BRAM)
    assert "van dinsdag 1 juni 2027, 16.00–17.15 uur naar dinsdag 8 juni 2027, 16.00–17.15 uur." in bram

    move(event, june(15, 10))  # after the mail about 8 June went out
    deliver()
    assert "van dinsdag 8 juni 2027, 16.00–17.15 uur naar dinsdag 15 juni 2027, 10.00–11.15 uur." in (
        moved_texts(smtp, ANNA)[-1])


def test_moving_after_a_reminder_was_queued_skips_the_stale_one(client, event, smtp, frozen):
    post_registration(client, event)
    deliver()
    frozen.move_to(at(24, 10))
    db.session.rollback()
    schedule_due(at(24, 10))  # queued, not yet sent
    db.session.commit()
    move_event(event, at(25, 18), at(25, 19))
    db.session.commit()
    deliver()
    reminders = rows("reminder")
    assert [r.status for r in reminders] == [MailStatus.skipped, MailStatus.sent]
    assert [r.event_version for r in reminders] == [0, 1]
    assert subjects(smtp, ANNA)[-1] == "Herinnering: Samen onderwijs versnellen morgen om 18.00 uur"


def test_cancelling_the_event_tells_everyone_and_stops_all_planned_mail(client, event, smtp, frozen, runner):
    post_registration(client, event)
    post_registration(client, event, email="piet.bakker@example.org")
    deliver()
    result = runner.invoke(args=["events", "cancel", "--slug", event.slug, "--yes"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("Samen onderwijs versnellen geannuleerd; 2 aangemelden krijgen bericht\n")
    deliver()
    notice = smtp.to(ANNA)[-1]
    assert notice["Subject"].strip() == "Gaat niet door: Samen onderwijs versnellen"
    [attachment] = list(notice.iter_attachments())
    assert "method=CANCEL" in attachment["Content-Type"].replace('"', "")
    raw = attachment.get_content()
    calendar = Calendar.from_ical(raw if isinstance(raw, bytes) else raw.encode())
    assert str(calendar["method"]) == "CANCEL"
    [entry] = calendar.walk("VEVENT")
    assert str(entry["status"]) == "CANCELLED" and int(entry["sequence"]) == 1
    for moment in (at(24, 10), at(25, 15, 30), at(25, 18, 30)):
        frozen.move_to(moment)
        assert deliver().sent == 0
    assert "Deze bijeenkomst gaat niet door." in client.get(f"/events/{event.slug}").get_data(as_text=True)


def test_lost_link_gives_the_same_answer_and_mails_only_the_registered(client, event, smtp, frozen):
    post_registration(client, event)
    deliver()
    known = client.post(f"/events/{event.slug}/link-kwijt", data={"lost_email": ANNA.upper()})
    unknown = client.post(f"/events/{event.slug}/link-kwijt", data={"lost_email": "niemand@example.org"})
    again = client.post(f"/events/{event.slug}/link-kwijt", data={"lost_email": ANNA})
    assert known.status_code == unknown.status_code == again.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == f"/events/{event.slug}/link-kwijt"
    page = client.get(known.headers["Location"]).get_data(as_text=True)
    assert "Als dit e-mailadres is aangemeld" in page
    deliver()
    assert subjects(smtp, ANNA)[-1] == "Uw persoonlijke links voor Samen onderwijs versnellen"
    assert len(smtp.messages) == 2  # once an hour at most; nothing for unknown addresses
    mail = smtp.messages[-1]
    join, manage = link(mail, "/j/"), link(mail, "/r/")
    assert client.get(manage).status_code == 200
    frozen.move_to(at(25, 15, 40))
    assert client.get(join).status_code == 303


def test_lost_link_with_a_bad_address_gets_a_dutch_message(client, event):
    response = client.post(f"/events/{event.slug}/link-kwijt", data={"lost_email": "geen adres"})
    assert response.status_code == 422
    assert "Vul een geldig e-mailadres in" in response.get_data(as_text=True)
    assert rows() == []


def test_the_schedule_is_editable_per_event(client, event, smtp, frozen, runner):
    result = runner.invoke(args=[
        "events", "schedule", "--slug", event.slug, "--no-reminder", "--join-link-minutes", "15",
        "--followup-missed", "Terugkijken kan via de website.",
    ])
    assert result.exit_code == 0, result.output
    assert "Persoonlijke deelnamelink        dinsdag 25 mei 2027 om 15.45 uur" in result.output
    assert "herinnering" not in result.output.lower()
    post_registration(client, event)
    assert deliver().sent == 1  # the confirmation
    for moment in (at(24, 10), at(25, 15, 44)):
        frozen.move_to(moment)
        assert deliver().sent == 0
    frozen.move_to(at(25, 15, 45))
    assert deliver().sent == 1
    frozen.move_to(at(25, 18, 15))
    assert deliver().sent == 1
    assert subjects(smtp, ANNA)[-1] == "Gemist? Samen onderwijs versnellen"


def test_a_bad_schedule_is_refused_in_dutch(runner, event):
    result = runner.invoke(args=["events", "schedule", "--slug", event.slug, "--reminder-time", "25:00"])
    assert result.exit_code != 0
    assert "Geef het tijdstip van de herinnering als UU:MM" in result.output
    db.session.rollback()
    assert event.reminder_local_time == "10:00"
