"""Organisers editing events: changes that ripple into registrations (through signals) and mail."""

from __future__ import annotations

from datetime import datetime

from ..extensions import db
from .models import Event
from .services import SCHEDULE_FIELDS, capacity_changed, create_event, event_changed, move_event, set_schedule
from .slugs import unique_slug


EVENT_TEXT_FIELDS = (
    "title", "summary", "body", "audience", "practical", "meeting_url",
    "contact_name", "contact_email", "contact_phone", "registration_opens_at",
    "registration_closes_at", "roles", "certificate_enabled", "certificate_min_percent",
)


def update_event(event: Event, values: dict) -> list[str]:
    """Apply an organiser's changes; returns the names of the fields that changed.

    A new time moves the event (planned mail moves, registrants are told); more
    places promote people from the waiting list.
    """
    changed = [name for name in EVENT_TEXT_FIELDS if name in values and getattr(event, name) != values[name]]
    for name in changed:
        setattr(event, name, values[name])
    schedule = {name: values[name] for name in SCHEDULE_FIELDS if name in values and getattr(event, name) != values[name]}
    set_schedule(event, **schedule)
    changed += list(schedule)
    if "capacity" in values and values["capacity"] != event.capacity:
        event.capacity = values["capacity"]
        changed.append("capacity")
        capacity_changed.send(event)  # registration fills the new places from the waiting list
    starts, ends = values.get("starts_at", event.starts_at), values.get("ends_at", event.ends_at)
    if (starts, ends) != (event.starts_at, event.ends_at):
        move_event(event, starts, ends)
        changed.append("starts_at/ends_at")
    db.session.flush()
    if changed:
        event_changed.send(event, what=changed)
    return changed


#: what a copy takes over as it is: texts, roles, places, contact, mail schedule and follow-ups, certificate
COPIED_FIELDS = tuple(name for name in EVENT_TEXT_FIELDS + SCHEDULE_FIELDS if name not in (
    "title", "meeting_url", "recording_url", "registration_opens_at", "registration_closes_at"))


def duplicate_event(event: Event, *, title: str, starts_at: datetime, ends_at: datetime,
                    meeting_url: str | None) -> Event:
    """A draft copy of the event at a new time, with its own link name and meeting link, without registrations.

    The registration window keeps its distance to the start; a recording
    belongs to the original meeting and is not copied.
    """
    shift = starts_at - event.starts_at
    copied = {name: getattr(event, name) for name in COPIED_FIELDS}
    copied["roles"] = list(event.roles)
    for name in ("registration_opens_at", "registration_closes_at"):
        moment = getattr(event, name)
        copied[name] = moment + shift if moment is not None else None
    return create_event(
        slug=unique_slug(title), title=title, starts_at=starts_at, ends_at=ends_at, meeting_url=meeting_url,
        capacity=event.capacity, draft=True, **copied,
    )
