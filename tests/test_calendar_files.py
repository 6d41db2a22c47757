"""Every calendar file the app writes reads the same in programs other than icalendar.

Two outside parsers read each file: Python's vobject and Mozilla's ical.js
(Thunderbird's) run by node. Both must find the stored UTC start and end, also
on the days summer time begins and ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from sqlalchemy import select

from helpers import deliver, post_registration, read_with_icaljs, read_with_vobject
from webinar.dutch import AMSTERDAM
from webinar.events.services import cancel_event, create_event, move_event
from webinar.extensions import db
from webinar.registration.models import Registration
from webinar.registration.services import cancel_registration

READERS = {"vobject": read_with_vobject, "ical.js": read_with_icaljs}
ANNA, BRAM = "anna@example.org", "bram@example.org"
SENDER = {"address": "mailto:bijeenkomsten@example.org", "cn": "Samen onderwijs versnellen"}


def local(*args) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM)


#: (start, end) in Amsterdam time: ordinary days, the four switches of 2027 and 2028, midnight
CASES = {
    "summer": (local(2027, 5, 25, 16, 0), local(2027, 5, 25, 17, 15)),
    "winter": (local(2027, 1, 12, 16, 0), local(2027, 1, 12, 17, 0)),
    "into summer time 2027": (local(2027, 3, 28, 1, 30), local(2027, 3, 28, 4, 0)),
    "out of summer time 2027": (local(2027, 10, 31, 1, 30), local(2027, 10, 31, 4, 0)),
    "into summer time 2028": (local(2028, 3, 26, 1, 30), local(2028, 3, 26, 4, 0)),
    "out of summer time 2028": (local(2028, 10, 29, 1, 30), local(2028, 10, 29, 4, 0)),
    "across midnight": (local(2027, 12, 31, 22, 0), local(2028, 1, 1, 1, 0)),
}


def utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def attachment(message) -> bytes:
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    data = part.get_content()
    return data if isinstance(data, bytes) else data.encode()


def assert_reads_as_stored(read, ics: bytes, event, method: str) -> None:
    """The parser finds the event as stored: times, UID, version, method; no meeting URL or person."""
    calendar = read(ics)
    [entry] = calendar["events"]
    assert calendar["method"] == method
    assert (entry["start"], entry["end"]) == (utc_text(event.starts_at), utc_text(event.ends_at))
    stamp = utc_text(datetime.now(timezone.utc))  # the frozen clock: when the file was made
    assert (entry["uid"], entry["sequence"], entry["dtstamp"]) == (event.ics_uid, event.version, stamp)
    assert entry["status"] == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
    assert entry["summary"] == event.title
    assert entry["organizer"] == SENDER
    assert entry["url"] == f"http://webinar.test/events/{event.slug}"
    assert entry["attendee"] is False
    for private in (b"geheim", b"/r/", b"/j/", b"anna", b"bram", b"Anna", b"RSVP"):
        assert private not in ics


@pytest.fixture(params=list(CASES), ids=list(CASES))
def timed_event(request, app, frozen):
    """An event at one of CASES, three weeks ahead (time is moved there), with one place."""
    starts, ends = CASES[request.param]
    frozen.move_to(starts - timedelta(weeks=3))
    event = create_event(
        slug="tijd", title="Bijeenkomst rond de klok", starts_at=starts, ends_at=ends,
        meeting_url="https://meet.example.org/geheim-123", capacity=1,
    )
    db.session.commit()
    return event


def mailed_calendar(smtp, address: str, subject: str) -> bytes:
    """Commit, run the worker, and take the calendar file from the newest mail to `address`."""
    db.session.commit()
    deliver()
    message = smtp.to(address)[-1]
    assert message["Subject"].startswith(subject)
    return attachment(message)


@pytest.fixture(params=list(READERS.values()), ids=list(READERS))
def read(request):
    """One of the two outside parsers."""
    return request.param


def test_every_calendar_file_reads_as_stored(client, timed_event, smtp, read):
    event = timed_event
    assert_reads_as_stored(read, client.get(f"/events/{event.slug}.ics").data, event, "PUBLISH")
    post_registration(client, event, email=ANNA)
    post_registration(client, event, email=BRAM)  # the waiting list
    assert_reads_as_stored(read, mailed_calendar(smtp, ANNA, "Aanmelding bevestigd"), event, "PUBLISH")

    cancel_registration(db.session.scalars(select(Registration).filter_by(email=ANNA)).one())
    assert_reads_as_stored(read, mailed_calendar(smtp, BRAM, "Er is een plaats vrij"), event, "PUBLISH")

    # Half an hour earlier and later: still across the switch, or across midnight.
    move_event(event, event.starts_at - timedelta(minutes=30), event.ends_at + timedelta(minutes=30))
    assert_reads_as_stored(read, mailed_calendar(smtp, BRAM, "Gewijzigd tijdstip"), event, "PUBLISH")
    assert_reads_as_stored(read, client.get(f"/events/{event.slug}.ics").data, event, "PUBLISH")

    cancel_event(event)
    assert_reads_as_stored(read, mailed_calendar(smtp, BRAM, "Gaat niet door"), event, "CANCEL")
    assert_reads_as_stored(read, client.get(f"/events/{event.slug}.ics").data, event, "CANCEL")


def old_style(ics: bytes) -> bytes:
    """The calendar as it was written before: Amsterdam times and icalendar's RDATE-only VTIMEZONE."""
    calendar = Calendar.from_ical(ics)
    for entry in calendar.walk("VEVENT"):
        for name in ("dtstart", "dtend"):
            moment = entry.decoded(name).astimezone(AMSTERDAM)
            del entry[name]
            entry.add(name, moment)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def test_the_check_catches_the_old_rdate_only_time_zone(client, event, read):
    old = old_style(client.get(f"/events/{event.slug}.ics").data)
    assert b"RDATE" in old and b"RRULE" not in old
    [entry] = read(old)["events"]
    # 16.00 summer time is 14.00 UTC; both parsers take the zone's first offset, +01:00.
    assert entry["start"] == "2027-05-25T15:00:00Z" != utc_text(event.starts_at)
