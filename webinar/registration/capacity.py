"""Places and phase: whether an event takes registrations now, and how many places are left."""

from __future__ import annotations

import enum
from datetime import datetime
from functools import cache

from sqlalchemy import Row, bindparam, func, select

from ..database import utcnow
from ..events.lookup import not_found
from ..events.models import Event
from ..events.services import events_listed
from ..extensions import db
from .models import ConfirmedTally, Registration, RegistrationStatus, confirmed_of


class Phase(enum.Enum):
    """Where an event stands for someone who wants to register."""

    draft = "draft"  # not published: no public page, no registration
    not_open = "not_open"  # registration opens later
    open = "open"
    full = "full"  # open, but new registrations go on the waiting list
    closed = "closed"  # registration closed, event not over
    ended = "ended"
    cancelled = "cancelled"


def confirmed_count(event: Event) -> int:
    """How many registrations for the event are confirmed (from its ConfirmedTally rows, see models)."""
    return db.session.scalar(select(confirmed_of(event.id)))


def places_left(event: Event) -> int | None:
    """Free places, or None when the event has no limit."""
    return _free(event, None if event.capacity is None else confirmed_count(event))


def _free(event: Event | Row, confirmed: int | None) -> int | None:
    if event.capacity is None:
        return None
    return max(event.capacity - confirmed, 0)


@cache
def _event_values_and_confirmed():
    """Every column of the event with slug :slug, then its confirmed count; built once, so is its cache key."""
    event = Event.__table__
    return select(event, confirmed_of(event.c.id)).where(
        event.c.slug == bindparam("slug"), event.c.published_at.is_not(None))


def event_values_and_places_left_or_404(slug: str) -> tuple[Row, int | None]:
    """The stored values of the published event with this slug and its free places (None: no limit); or the
    404 page (or the way to its name now, see events.lookup.not_found).

    One query on a connection of its own, and no ORM session or object: the
    values are a row of the event table (attributes named after its columns)
    that ends with the confirmed count. For the event page, read by every visitor.
    """
    with db.engine.connect() as connection:
        found = connection.execute(_event_values_and_confirmed(), {"slug": slug}).first()
    if found is None:
        not_found(slug)
    return found, _free(found, found[-1])


#: registration_phase's default for `free`: count the places itself
COUNT = object()


def registration_phase(event: Event | Row, now: datetime | None = None, free=COUNT) -> Phase:
    """The event's phase at `now`; `free` is places_left(event) when the caller has it already.

    `event` may also be a row of the event table (given `free`).
    """
    now = now or utcnow()
    if event.cancelled_at is not None:
        return Phase.cancelled
    if event.published_at is None:
        return Phase.draft
    if now >= event.ends_at:
        return Phase.ended
    if event.registration_closed_at is not None and now >= event.registration_closed_at:
        return Phase.closed  # closed by hand, also before it opened
    if event.registration_opens_at and now < event.registration_opens_at:
        return Phase.not_open
    if now >= Event.closes_at(event):  # reads only columns, so a row of the table will do
        return Phase.closed
    if (places_left(event) if free is COUNT else free) == 0:
        return Phase.full
    return Phase.open


#: the status an organiser and the public see for each phase, in one or two words
PHASE_LABELS = {
    Phase.draft: "concept",
    Phase.not_open: "nog niet open",
    Phase.open: "open",
    Phase.full: "vol",
    Phase.closed: "gesloten",
    Phase.ended: "afgelopen",
    Phase.cancelled: "geannuleerd",
}


def counts_by_status(events: list[Event]) -> dict[int, dict[RegistrationStatus, int]]:
    """How many registrations each event has per status, in one query (events without any are left out)."""
    counts: dict[int, dict[RegistrationStatus, int]] = {}
    if not events:
        return counts
    for event_id, status, count in db.session.execute(
        select(Registration.event_id, Registration.status, func.count())
        .where(Registration.event_id.in_([event.id for event in events]))
        .group_by(Registration.event_id, Registration.status)
    ):
        counts.setdefault(event_id, {})[status] = count
    return counts


def free_places(event: Event, confirmed: int) -> int | None:
    """Free places given the confirmed count (None: no limit)."""
    return _free(event, confirmed)


def confirmed_counts(events: list[Event]) -> dict[int, int]:
    """Each event's confirmed registrations, from their tallies in one query (events without any are left out)."""
    if not events:
        return {}
    return dict(db.session.execute(
        select(ConfirmedTally.event_id, func.sum(ConfirmedTally.confirmed))
        .where(ConfirmedTally.event_id.in_([event.id for event in events])).group_by(ConfirmedTally.event_id)
    ).all())


def status_labels(events: list[Event], now: datetime | None = None) -> dict[int, str]:
    """The status label of each event, from one query of the tallies (the public list shows it per event)."""
    confirmed = confirmed_counts(events)
    return {event.id: status_label(event, now, free_places(event, confirmed.get(event.id, 0))) for event in events}


def status_label(event: Event | Row, now: datetime | None = None, free=COUNT) -> str:
    """The event's status in a word or two ("concept", "open", "vol", "gesloten", ...): its phase's label."""
    return PHASE_LABELS[registration_phase(event, now, free)]


# the public list shows each event's status; events know no registrations, so it asks
events_listed.connect(lambda sender, events, now: status_labels(events, now), weak=False)
