"""The public event page, its phases, the calendar file and calendar links."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar

from helpers import ENDS, STARTS
from webinar.dutch import AMSTERDAM, period
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.registration.models import Registration, RegistrationStatus


def test_page_shows_what_when_and_for_whom(client, event):
    event.audience = "Schoolbestuurders en schoolleiders in het primair onderwijs."
    event.practical = "Gratis en online."
    db.session.commit()
    page = client.get("/events/samen-onderwijs-versnellen").get_data(as_text=True)
    assert "<h1>Samen onderwijs versnellen</h1>" in page
    assert "dinsdag 25 mei 2027, 16.00–17.15 uur" in page
    assert "Voor wie?" in page and "Schoolbestuurders en schoolleiders" in page
    assert "Gratis en online." in page
    assert "Nog 100 plaatsen vrij" in page
    assert "bijeenkomsten@example.org" in page
    for label in ("Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres", "Uw rol"):
        assert label in page
    for role in ("Schoolbestuurder", "Schoolleider", "HRM&#39;er", "Beleidsadviseur gemeente", "Anders"):
        assert f'value="{role}"' in page


def test_meeting_url_is_never_on_the_public_page(client, event):
    assert "geheim-123" not in client.get("/events/samen-onderwijs-versnellen").get_data(as_text=True)
    assert b"geheim-123" not in client.get("/events/samen-onderwijs-versnellen.ics").data


def test_unknown_event_is_a_dutch_404(client, app):
    response = client.get("/events/bestaat-niet")
    assert response.status_code == 404
    assert "Pagina niet gevonden" in response.get_data(as_text=True)


def test_index_lists_upcoming_events(client, event):
    page = client.get("/").get_data(as_text=True)
    assert "Samen onderwijs versnellen" in page
    assert "/events/samen-onderwijs-versnellen" in page


@pytest.mark.parametrize(
    ("change", "moment", "expected"),
    [
        ({"cancelled_at": datetime(2027, 4, 1, tzinfo=timezone.utc)}, None, "Deze bijeenkomst gaat niet door."),
        ({}, ENDS + timedelta(minutes=1), "Deze bijeenkomst is voorbij."),
        ({}, STARTS + timedelta(minutes=1), "Aanmelden is gesloten."),
        ({"registration_closes_at": datetime(2027, 4, 30, tzinfo=timezone.utc)}, None, "Aanmelden is gesloten."),
        ({"registration_opens_at": datetime(2027, 5, 10, 9, tzinfo=AMSTERDAM)}, None,
         "Aanmelden kan vanaf maandag 10 mei 2027 om 09.00 uur."),
    ],
    ids=["cancelled", "ended", "started", "closed", "not-yet-open"],
)
def test_closed_events_explain_why_and_show_no_form(client, event, frozen, change, moment, expected):
    for name, value in change.items():
        setattr(event, name, value)
    db.session.commit()
    if moment:
        frozen.move_to(moment)
    page = client.get("/events/samen-onderwijs-versnellen").get_data(as_text=True)
    assert expected in page
    assert 'name="first_name"' not in page  # no registration form


def test_full_event_offers_the_waiting_list(client, event):
    event.capacity = 1
    db.session.add(
        Registration(
            event_id=event.id, status=RegistrationStatus.confirmed, first_name="Bram",
            last_name="Smit", email="bram@example.org", email_normalized="bram@example.org",
            organisation="CBS Het Anker", role="Schoolleider",
            privacy_accepted_at=datetime.now(timezone.utc),
        )
    )
    db.session.commit()
    page = client.get("/events/samen-onderwijs-versnellen").get_data(as_text=True)
    assert "Alle plaatsen zijn bezet" in page
    assert "Aanmelden voor de wachtlijst" in page


def test_calendar_file_has_utc_times_the_sender_as_organizer_and_no_personal_data(client, event):
    response = client.get("/events/samen-onderwijs-versnellen.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    [entry] = calendar.walk("VEVENT")
    assert b"DTSTART:20270525T140000Z" in response.data  # 16.00 summer time, in UTC
    assert entry.decoded("dtend") == datetime(2027, 5, 25, 15, 15, tzinfo=timezone.utc)
    assert str(entry["uid"]) == event.ics_uid
    assert str(entry["organizer"]) == "mailto:bijeenkomsten@example.org"
    assert entry["organizer"].params["cn"] == "Samen onderwijs versnellen"
    assert "ATTENDEE" not in entry
    assert calendar.walk("VTIMEZONE") == []


def test_calendar_uid_is_stable(client, event):
    first = Calendar.from_ical(client.get("/events/samen-onderwijs-versnellen.ics").data)
    second = Calendar.from_ical(client.get("/events/samen-onderwijs-versnellen.ics").data)
    assert first.walk("VEVENT")[0]["uid"] == second.walk("VEVENT")[0]["uid"]


def test_add_to_calendar_links(client, event):
    page = client.get("/events/samen-onderwijs-versnellen").get_data(as_text=True)
    assert 'href="/events/samen-onderwijs-versnellen.ics"' in page
    google = next(part for part in page.split('"') if part.startswith("https://calendar.google.com/"))
    query = parse_qs(urlsplit(google.replace("&amp;", "&")).query)
    assert query["dates"] == ["20270525T140000Z/20270525T151500Z"]
    assert query["text"] == ["Samen onderwijs versnellen"]
    # Outlook.com for personal accounts, outlook.office.com for Microsoft 365 work and school accounts.
    outlooks = [("outlook.live.com", "Outlook.com"), ("outlook.office.com", "Outlook (werk of school, Microsoft 365)")]
    for host, label in outlooks:
        link = re.search(rf'<a href="(https://{re.escape(host)}/[^"]+)" rel="noopener">([^<]+)</a>', page)
        assert link.group(2) == label
        url = urlsplit(link.group(1).replace("&amp;", "&"))
        assert url.path == "/calendar/0/deeplink/compose"
        query = parse_qs(url.query)
        assert query["path"] == ["/calendar/action/compose"] and query["rru"] == ["addevent"]
        assert query["subject"] == ["Samen onderwijs versnellen"]
        assert (query["startdt"], query["enddt"]) == (["2027-05-25T14:00:00Z"], ["2027-05-25T15:15:00Z"])


def test_dutch_period_spanning_days_names_both():
    # Six real hours across the end of summer time: 22.00 CEST to 03.00 CET.
    starts = datetime(2027, 10, 30, 20, 0, tzinfo=timezone.utc)
    assert period(starts, starts + timedelta(hours=6)) == (
        "zaterdag 30 oktober 2027 om 22.00 uur tot zondag 31 oktober 2027 om 03.00 uur"
    )


def test_winter_time_is_one_hour_ahead_of_utc(client, app):
    event = create_event(
        slug="winter", title="Winterbijeenkomst",
        starts_at=datetime(2027, 1, 12, 16, 0, tzinfo=AMSTERDAM),
        ends_at=datetime(2027, 1, 12, 17, 0, tzinfo=AMSTERDAM),
    )
    db.session.commit()
    [entry] = Calendar.from_ical(client.get("/events/winter.ics").data).walk("VEVENT")
    assert entry.decoded("dtstart").astimezone(timezone.utc).hour == 15
    assert "dinsdag 12 januari 2027, 16.00–17.00 uur" in client.get("/events/winter").get_data(as_text=True)
    assert event.starts_at.hour == 15  # stored in UTC


def test_healthz(client, app):
    assert client.get("/healthz").get_json() == {"status": "ok"}
