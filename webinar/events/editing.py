"""Organisers editing events: changes that ripple into registrations (through signals) and mail."""

from __future__ import annotations

from ..extensions import db
from .models import Event
from .services import SCHEDULE_FIELDS, capacity_changed, create_event, move_event, set_schedule


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
    return changed


def duplicate_event(event: Event, slug: str) -> Event:
    """A copy of the event under a new slug, without registrations, not cancelled."""
    copy = {name: getattr(event, name) for name in EVENT_TEXT_FIELDS + SCHEDULE_FIELDS}
    copy["title"] = f"{event.title} (kopie)"
    return create_event(
        slug=slug, starts_at=event.starts_at, ends_at=event.ends_at,
        capacity=event.capacity, **{k: v for k, v in copy.items() if k != "roles"}, roles=list(event.roles),
    )
