"""Planned messages: reminder, join link and follow-ups, as moments of an event.

Nothing is stored per registrant in advance. Each worker pass runs
`schedule_due`, an idempotent sweep: for every moment that has come and is
still of use, it queues the message for everyone it is meant for who does not
have it yet (the outbox key is registration, kind and event version). So a
late registrant gets what they missed that still makes sense, waitlisted and
cancelled people get nothing, and moving an event moves every message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select

from ..attendance.models import Attendance
from ..attendance.services import join_opens_at
from ..dutch import AMSTERDAM, local
from ..events.models import Event
from ..extensions import db
from ..registration.models import Registration, RegistrationStatus
from .services import queue_for_registrations

#: how long after its moment a follow-up is still worth sending
FOLLOWUP_USEFUL = timedelta(days=7)


@dataclass(frozen=True)
class Moment:
    """One planned message of an event."""

    kind: str
    #: when it is due
    at: datetime
    #: after this it is of no use and is not sent
    until: datetime


def reminder_at(event: Event) -> datetime | None:
    """N days before the start at the reminder's local time, or None when off."""
    if event.reminder_days_before is None:
        return None
    hour, minute = (int(part) for part in event.reminder_local_time.split(":"))
    day = local(event.starts_at).date() - timedelta(days=event.reminder_days_before)
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM)
    return moment if moment < event.starts_at else None


def followup_at(event: Event) -> datetime:
    """When the follow-ups are due."""
    return event.ends_at + timedelta(minutes=event.followup_minutes_after)


def planned(event: Event) -> list[Moment]:
    """The event's planned messages, in order."""
    moments = []
    reminder = reminder_at(event)
    if reminder is not None:
        moments.append(Moment("reminder", reminder, event.starts_at))
    moments.append(Moment("join_link", join_opens_at(event), event.ends_at))
    followup = followup_at(event)
    if event.followup_joined_text.strip():
        moments.append(Moment("followup_joined", followup, followup + FOLLOWUP_USEFUL))
    if event.followup_missed_text.strip():
        moments.append(Moment("followup_missed", followup, followup + FOLLOWUP_USEFUL))
    return moments


def useful_until(event: Event, kind: str) -> datetime | None:
    """When a planned message of this kind stops being of use."""
    for moment in planned(event):
        if moment.kind == kind:
            return moment.until
    return None


def audience(moment: Moment):
    """Which registrations a planned message is for."""
    confirmed = Registration.status == RegistrationStatus.confirmed
    joined = exists().where(Attendance.registration_id == Registration.id)
    if moment.kind == "reminder":
        # Someone who registered after the reminder moment just had their confirmation.
        return and_(confirmed, Registration.registered_at < moment.at)
    if moment.kind == "followup_joined":
        return and_(confirmed, joined)
    if moment.kind == "followup_missed":
        return and_(confirmed, ~joined)
    return confirmed


def schedule_due(now: datetime) -> int:
    """Queue every planned message whose moment has come. Returns rows added."""
    events = db.session.scalars(
        select(Event).where(
            Event.cancelled_at.is_(None),
            # Follow-ups may come some time after the end; planned() decides exactly.
            Event.ends_at > now - timedelta(days=30),
        )
    ).all()
    added = 0
    for event in events:
        for moment in planned(event):
            if moment.at <= now < moment.until:
                added += queue_for_registrations(event, moment.kind, audience(moment), due_at=moment.at)
    return added
