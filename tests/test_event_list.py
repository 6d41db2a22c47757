"""The organiser's list of events and the public list: figures, status words and order, counted by hand."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from helpers import NOW, add_confirmed, page_text, person
from webinar.dutch import AMSTERDAM
from webinar.events.models import Event
from webinar.events.services import cancel_event, create_event
from webinar.extensions import db
from webinar.registration.capacity import status_label
from webinar.registration.services import cancel_registration

ROW = re.compile(r"<tr>\s*<td><a href=\"/organiser/events/([a-z0-9-]+)\">.*?</a></td>\s*<td>.*?</td>\s*"
                 r"<td class=\"number\">([^<]*)</td>\s*<td class=\"number\">([^<]*)</td>\s*"
                 r"<td class=\"number\">([^<]*)</td>\s*<td><span class=\"status[^\"]*\">([^<]*)</span>", re.S)


def at(month: int, day: int, hour: int = 16) -> datetime:
    return datetime(2027, month, day, hour, 0, tzinfo=AMSTERDAM)


def meeting(slug: str, month: int, day: int, **values) -> Event:
    event = create_event(slug=slug, title=slug.replace("-", " ").capitalize(), starts_at=at(month, day),
                         ends_at=at(month, day, 17), **values)
    db.session.commit()
    return event


@pytest.fixture
def programme(event):
    """Eight meetings around NOW (1 May 2027), with registrations counted by hand in the comments."""
    # open, 25 May: 100 places; Anna and Jan confirmed, Piet cancelled -> 2 registered, 0 waiting, 98 free
    person(event, "Anna", "Berg")
    person(event, "Jan", "Dijk")
    cancel_registration(person(event, "Piet", "Bakker"))
    db.session.commit()
    # vol, 1 June: 2 places, three sign up -> 2 registered, 1 waiting, 0 free
    full = meeting("vol-juni", 6, 1, capacity=2)
    for first in ("Anna", "Jan", "Piet"):
        person(full, first, "Smit")
    # gesloten, 20 May: closed yesterday, no limit, 3 registered before -> 3, 0, "geen grens"
    closed = meeting("gesloten-mei", 5, 20, registration_closes_at=NOW - timedelta(days=1))
    add_confirmed(closed.id, 3, NOW - timedelta(days=5))
    # concept, 10 June: a draft, nobody -> 0, 0, 30 free
    meeting("concept-juni", 6, 10, capacity=30, draft=True)
    # geannuleerd, 1 July: 1 registered before it was cancelled -> 1, 0, 49 free
    cancelled = meeting("geannuleerd-juli", 7, 1, capacity=50)
    person(cancelled, "Els", "Kok")
    cancel_event(cancelled)
    db.session.commit()
    # nog niet open, 1 September: opens on 10 May -> 0, 0, 20 free
    meeting("september", 9, 1, capacity=20, registration_opens_at=at(5, 10, 9))
    # afgelopen, 20 April and 1 March: 4 and 1 registered when they were open
    april = meeting("april", 4, 20, capacity=10)
    add_confirmed(april.id, 4, NOW - timedelta(days=20))
    march = meeting("maart", 3, 1)
    add_confirmed(march.id, 1, NOW - timedelta(days=70))


def test_the_events_list_shows_figures_and_status_next_meeting_first(organiser_client, programme):
    page = organiser_client.get("/organiser/").get_data(as_text=True)
    assert ROW.findall(page) == [
        ("gesloten-mei", "3", "0", "geen grens", "gesloten"),
        ("samen-onderwijs-versnellen", "2", "0", "98", "open"),
        ("vol-juni", "2", "1", "0", "vol"),
        ("concept-juni", "0", "0", "30", "concept"),
        ("geannuleerd-juli", "1", "0", "49", "geannuleerd"),
        ("september", "0", "0", "20", "nog niet open"),
        ("april", "4", "0", "6", "afgelopen"),
        ("maart", "1", "0", "geen grens", "afgelopen"),
    ]


def test_the_public_list_shows_the_same_status_for_public_meetings(app, programme):
    page = page_text(app.test_client().get("/"))
    listed = re.findall(r'<h2><a href="/events/([a-z0-9-]+)">.*?<span class="status[^"]*">([^<]*)</span>', page, re.S)
    assert listed == [("gesloten-mei", "gesloten"), ("samen-onderwijs-versnellen", "open"), ("vol-juni", "vol"),
                      ("september", "nog niet open")]


def test_the_status_follows_the_clock(organiser_client, programme, frozen):
    frozen.move_to(at(5, 10, 9))
    september = db.session.scalar(select(Event).where(Event.slug == "september"))
    assert status_label(september) == "open"
    frozen.move_to(at(5, 25, 16) + timedelta(minutes=10))
    meeting_now = db.session.scalar(select(Event).where(Event.slug == "samen-onderwijs-versnellen"))
    assert status_label(meeting_now) == "gesloten"  # under way: registration closed at the start
    frozen.move_to(at(5, 25, 18))
    assert status_label(meeting_now) == "afgelopen"


def test_closing_by_hand_shows_as_gesloten_in_both_lists(app, organiser_client, event):
    organiser_client.post(f"/organiser/events/{event.slug}/sluiten")
    assert '<span class="status status-gesloten">gesloten</span>' in organiser_client.get("/organiser/").get_data(as_text=True)
    assert '<span class="status status-gesloten">gesloten</span>' in app.test_client().get("/").get_data(as_text=True)
