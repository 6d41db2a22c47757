"""Planned messages to registrants: reminder, join link and follow-ups, queued by a sweep.

Nothing is stored per registrant in advance. Each worker pass runs
`schedule_due`, an idempotent sweep: for every moment of an event's schedule
(events/schedule.py) that has come and is still of use, it queues the message
for everyone it is meant for who does not have it yet (the outbox key is
registration, kind and event version). So a late registrant gets what they
missed that still makes sense, waitlisted and cancelled people get nothing, and
moving an event moves every message. It lives here, not in registration,
because the follow-ups depend on who joined.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select

from ..events.models import Event
from ..events.schedule import Moment, planned
from ..extensions import db
from ..mailing.kinds import register_sweep
from ..registration.models import Registration, RegistrationStatus
from ..registration.notifications import queue_for_registrations
from .models import Attendance


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


register_sweep(schedule_due)
