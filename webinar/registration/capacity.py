"""Places and phase: whether an event takes registrations now, and how many places are left."""

from __future__ import annotations

import enum
from datetime import datetime
from functools import cache

from flask import abort
from sqlalchemy import Row, bindparam, func, select

from ..database import utcnow
from ..events.models import Event
from ..extensions import db
from .models import Registration, RegistrationStatus


class Phase(enum.Enum):
    """Where an event stands for someone who wants to register."""

    not_open = "not_open"  # registration opens later
    open = "open"
    full = "full"  # open, but new registrations go on the waiting list
    closed = "closed"  # registration closed, event not over
    ended = "ended"
    cancelled = "cancelled"


def confirmed_count(event: Event) -> int:
    """How many registrations for the event are confirmed."""
    return db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.confirmed,
        )
    )


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
    event, registration = Event.__table__, Registration.__table__
    # count(*) reads only the index: a third less work than count(id) per registration on SQLite
    confirmed = select(func.count()).select_from(registration).where(
        registration.c.event_id == event.c.id, registration.c.status == RegistrationStatus.confirmed
    )
    return select(event, confirmed.scalar_subquery()).where(event.c.slug == bindparam("slug"))


def event_values_and_places_left_or_404(slug: str) -> tuple[Row, int | None]:
    """The stored values of the event with this slug and its free places (None: no limit); or the 404 page.

    One query on a connection of its own, and no ORM session or object: the
    values are a row of the event table (attributes named after its columns)
    that ends with the confirmed count. For the event page, read by every visitor.
    """
    with db.engine.connect() as connection:
        found = connection.execute(_event_values_and_confirmed(), {"slug": slug}).first()
    if found is None:
        abort(404)
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
    if now >= event.ends_at:
        return Phase.ended
    if event.registration_opens_at and now < event.registration_opens_at:
        return Phase.not_open
    if now >= Event.closes_at(event):  # reads only columns, so a row of the table will do
        return Phase.closed
    if (places_left(event) if free is COUNT else free) == 0:
        return Phase.full
    return Phase.open
