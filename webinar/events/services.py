"""Events: creating, moving, cancelling, the mail schedule, and the event's write lock."""

from __future__ import annotations

import re
from datetime import datetime

from blinker import Namespace
from flask import current_app
from sqlalchemy import Integer, bindparam, func, literal_column, select, true

from ..database import is_sqlite, utcnow
from ..extensions import db
from ..mailing.services import skip_unsent_scheduled
from .models import Event
from .slugs import slug_taken

_signals = Namespace()
#: sent after an event got a new time, with `now`, `previous_starts_at` and `previous_ends_at`;
#: each receiver returns how many people it told (events know nobody: the registration domain listens)
event_moved = _signals.signal("event-moved")
#: sent after an event was cancelled, with `now`; each receiver returns how many people it told
event_cancelled = _signals.signal("event-cancelled")
#: sent after an organiser changed, published or cancelled an event, with `what` (a list of field names)
event_changed = _signals.signal("event-changed")
#: sent after an organiser changed an event's number of places
capacity_changed = _signals.signal("capacity-changed")
#: sent with `events` (a list) and `now` when they are listed; a receiver returns {event id: status word}
#: ("vol", "gesloten": the registration domain counts the places)
events_listed = _signals.signal("events-listed")


def status_words(events: list[Event], now: datetime) -> dict[int, str]:
    """The status word of each event, from whoever listens to `events_listed`."""
    words: dict[int, str] = {}
    for _, found in events_listed.send(current_app._get_current_object(), events=events, now=now):
        words.update(found)
    return words


def lock_event(event: Event) -> None:
    """Take the event's write lock: a row lock on PostgreSQL.

    Registering, cancelling and the waiting list count places under it; moving
    and cancelling the event take it too. On SQLite the lock is the `BEGIN IMMEDIATE` that `begin_write()` issued,
    so the query would only cost a round trip. On PostgreSQL public sign-ups
    may share the lock instead (EVENT_LOCK_SHARED, see registration's
    `insert_if_new`); this lock waits until each of them has committed, and
    sign-ups that come later wait for it.
    """
    if not is_sqlite():
        db.session.connection().execute(EVENT_ROW_LOCK, {"event_id": event.id})


def _queued(function: str):
    """The event's advisory lock (PostgreSQL's lock manager queues its waiters in turn, which row locks do not)."""
    key = getattr(func, function)(literal_column("30565", Integer), bindparam("event_id", type_=Integer))
    return select(true()).select_from(key).scalar_subquery()


_EVENT = Event.__table__
#: built once: the event's lock (PostgreSQL), taken on every registration; registering may pipeline it with its count.
#: The advisory lock first, then the row: a waiting lock is not overtaken by sign-ups that share the event.
EVENT_ROW_LOCK = select(_EVENT.c.id).where(
    _EVENT.c.id == bindparam("event_id"), _queued("pg_advisory_xact_lock")).with_for_update(of=_EVENT)
#: the same lock shared: sign-ups that hold it run side by side; they wait for the lock above, and it for them
EVENT_LOCK_SHARED = select(_EVENT.c.id).where(_EVENT.c.id == bindparam("event_id"), _queued("pg_advisory_xact_lock_shared"))


def get_event(slug: str) -> Event | None:
    """The event with this slug, or None."""
    return db.session.scalar(select(Event).where(Event.slug == slug))


def create_event(
    *,
    slug: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    meeting_url: str | None = None,
    capacity: int | None = None,
    draft: bool = False,
    **details,
) -> Event:
    """Add a new event, published at once or (`draft`) a draft. Raises ValueError with a Dutch message on bad input."""
    if ends_at <= starts_at:
        raise ValueError("Het einde moet na het begin liggen.")
    if capacity is not None and capacity < 1:
        raise ValueError("Het aantal plaatsen moet minstens 1 zijn.")
    if slug_taken(slug):
        raise ValueError(f"Er is al een bijeenkomst met de naam {slug!r}.")
    config = current_app.config
    details.setdefault("roles", list(config["EVENT_DEFAULT_ROLES"]))
    details.setdefault("reminder_days_before", config["REMINDER_DAYS_BEFORE"])
    details.setdefault("reminder_local_time", config["REMINDER_LOCAL_TIME"])
    details.setdefault("join_link_minutes_before", config["JOIN_LINK_MINUTES_BEFORE"])
    details.setdefault("followup_minutes_after", config["FOLLOWUP_MINUTES_AFTER"])
    event = Event(
        slug=slug,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        meeting_url=meeting_url,
        capacity=capacity,
        published_at=None if draft else utcnow(),
        **details,
    )
    db.session.add(event)
    db.session.flush()
    return event


def move_event(event: Event, starts_at: datetime, ends_at: datetime, *, now: datetime | None = None) -> int:
    """Give the event a new time: planned mail moves along, registrants are told.

    Returns how many registrants get the update.
    """
    now = now or utcnow()
    if ends_at <= starts_at:
        raise ValueError("Het einde moet na het begin liggen.")
    if event.cancelled_at is not None:
        raise ValueError("Deze bijeenkomst is geannuleerd.")
    if (starts_at, ends_at) == (event.starts_at, event.ends_at):
        return 0
    lock_event(event)
    previous = event.starts_at, event.ends_at
    event.starts_at, event.ends_at = starts_at, ends_at
    event.version += 1
    db.session.flush()
    skip_unsent_scheduled(event.id, "niet verstuurd: de bijeenkomst is verplaatst")
    told = event_moved.send(event, now=now, previous_starts_at=previous[0], previous_ends_at=previous[1])
    return sum(count for _, count in told)


def cancel_event(event: Event, *, now: datetime | None = None) -> int:
    """Cancel the event and tell everyone registered. Returns how many are told."""
    now = now or utcnow()
    if event.cancelled_at is not None:
        return 0
    lock_event(event)
    event.cancelled_at = now
    event.version += 1
    db.session.flush()
    skip_unsent_scheduled(event.id, "niet verstuurd: de bijeenkomst gaat niet door")
    told = sum(count for _, count in event_cancelled.send(event, now=now))
    event_changed.send(event, what=["cancelled_at"])
    return told


def publish_event(event: Event, *, now: datetime | None = None) -> bool:
    """Make a draft public: listed, its page and calendar file open, registration as its dates say.

    Returns False when it was published already.
    """
    if not event.is_draft():
        return False
    if event.cancelled_at is not None:
        raise ValueError("Een geannuleerde bijeenkomst kan niet worden gepubliceerd.")
    event.published_at = now or utcnow()
    db.session.flush()
    event_changed.send(event, what=["published_at"])
    return True


def close_registration(event: Event, *, now: datetime | None = None) -> bool:
    """Close registration now, whatever the closing date says. Returns False when it was closed already.

    Raises ValueError with a Dutch message for a meeting that is over or cancelled.
    """
    now = now or utcnow()
    if event.cancelled_at is not None or now >= event.ends_at:
        raise ValueError("Deze bijeenkomst is afgelopen of geannuleerd: er valt niets te sluiten.")
    if event.registration_closed_at is not None:
        return False
    lock_event(event)  # registering reads the phase under this lock: nobody gets in after this commits
    event.registration_closed_at = now
    db.session.flush()
    return True


def reopen_registration(event: Event, *, now: datetime | None = None) -> bool:
    """Open registration again after it was closed by hand or by its closing date, until the start.

    Returns False when there was nothing to reopen. Raises ValueError with a
    Dutch message once the meeting has started or was cancelled.
    """
    now = now or utcnow()
    if event.cancelled_at is not None or now >= event.starts_at:
        raise ValueError("Heropenen kan alleen voor een bijeenkomst die nog moet beginnen.")
    closing_date_passed = event.registration_closes_at is not None and now >= event.registration_closes_at
    if event.registration_closed_at is None and not closing_date_passed:
        return False
    event.registration_closed_at = None
    if closing_date_passed:
        event.registration_closes_at = None
    db.session.flush()
    return True


SCHEDULE_FIELDS = (
    "reminder_days_before",
    "reminder_local_time",
    "join_link_minutes_before",
    "followup_minutes_after",
    "followup_joined_text",
    "followup_missed_text",
    "recording_url",
)


def set_schedule(event: Event, **changes) -> None:
    """Change the event's mail schedule. Raises ValueError with a Dutch message."""
    unknown = set(changes) - set(SCHEDULE_FIELDS)
    if unknown:
        raise ValueError(f"Onbekende instelling: {', '.join(sorted(unknown))}")
    days = changes.get("reminder_days_before", event.reminder_days_before)
    if days is not None and not 0 <= days <= 30:
        raise ValueError("De herinnering kan 0 tot 30 dagen vooraf.")
    clock = changes.get("reminder_local_time", event.reminder_local_time)
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", clock or ""):
        raise ValueError("Geef het tijdstip van de herinnering als UU:MM, bijvoorbeeld 10:00.")
    if not 0 <= changes.get("join_link_minutes_before", event.join_link_minutes_before) <= 24 * 60:
        raise ValueError("De deelnamelink kan 0 tot 1440 minuten voor de start.")
    if not 0 <= changes.get("followup_minutes_after", event.followup_minutes_after) <= 14 * 24 * 60:
        raise ValueError("De nabericht kan 0 tot 14 dagen na afloop.")
    for name, value in changes.items():
        setattr(event, name, value)
    db.session.flush()

