"""Who gets a certificate of attendance, and what it says. Only reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..attendance.models import Attendance
from ..attendance.presence import minutes_present
from ..extensions import db
from ..registration.models import Registration, RegistrationStatus
from .statement import Statement


def certificate_statement(registration: Registration, now: datetime) -> Statement | None:
    """What the registrant's certificate says, or None when they get none.

    A certificate is for a confirmed registrant of an event that has it
    switched on, ran (not cancelled) and has ended, who was present at least
    the event's minimum (attendance/presence.py counts the minutes).
    """
    event = registration.event
    if not event.certificate_enabled or event.cancelled_at is not None or now < event.ends_at:
        return None
    if registration.status != RegistrationStatus.confirmed:
        return None
    attendance = db.session.scalar(select(Attendance).where(Attendance.registration_id == registration.id))
    minutes = minutes_present(attendance, event)
    if minutes < event.certificate_min_minutes():
        return None
    return Statement(registration.full_name, event.title, event.starts_at, event.length_minutes(), minutes)
