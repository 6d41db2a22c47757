"""What an organiser may do to one registration: add by hand, promote past the limit.

Cancelling and changing details reuse the registrant's own services
(cancel_registration, update_details). Like those, these flush and never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..attendance.models import Attendance
from ..database import utcnow
from ..events.models import Event
from ..events.services import lock_event
from ..extensions import db
from ..registration.capacity import Phase, confirmed_count, registration_phase
from ..registration.models import Registration, RegistrationStatus
from ..registration.notifications import notify_promoted
from ..registration.services import (
    Details,
    EmailTaken,
    RegistrationClosed,
    find_registration,
    register_many,
    registrations_changed,
)

#: phases in which nothing about registrations should change any more
_FINISHED_PHASES = (Phase.ended, Phase.cancelled)


def who(registration: Registration) -> str:
    """The registrant as the audit log names them: 'Jan de Vries (Stichting Primair)'.

    Name and organisation leave the log with the registration (privacy.services.scrub_audit).
    """
    organisation = (registration.organisation or "").strip()
    return f"{registration.full_name} ({organisation})" if organisation else registration.full_name


def changes_allowed(event: Event, now: datetime | None = None) -> bool:
    """Whether organisers may still add, cancel or promote: not after the end or a cancellation."""
    return registration_phase(event, now or utcnow()) not in _FINISHED_PHASES


def add_registration(event: Event, details: Details, *, now: datetime | None = None) -> Registration:
    """Register a person on an organiser's behalf, also before opening and after closing.

    Raises EmailTaken when the address is already registered (or waiting), and
    RegistrationClosed when the event is over or cancelled. A full event puts
    the person on the waiting list, as the public form would.
    """
    now = now or utcnow()
    lock_event(event)
    if not changes_allowed(event, now):
        raise RegistrationClosed()
    existing = find_registration(event, details.email)
    if existing is not None and existing.status != RegistrationStatus.cancelled:
        raise EmailTaken()
    reuse = {existing.email_normalized: existing} if existing else {}
    return register_many(event, [details], now=now, reuse=reuse)[0]


def promote(registration: Registration) -> bool:
    """Give a waiting person a place, even when that goes past the limit. False if not waiting."""
    lock_event(registration.event)
    db.session.refresh(registration)
    if registration.status != RegistrationStatus.waitlisted:
        return False
    registration.status = RegistrationStatus.confirmed
    db.session.flush()
    notify_promoted(registration)
    registrations_changed.send("promoted", event_id=registration.event_id, ids=[registration.id])
    return True


def places_over(event: Event) -> int:
    """How many confirmed registrations there are beyond the limit (0 when within it)."""
    if event.capacity is None:
        return 0
    return max(confirmed_count(event) - event.capacity, 0)


def attendance_of(registration: Registration) -> Attendance | None:
    """The registrant's attendance, if they joined."""
    return db.session.scalar(select(Attendance).where(Attendance.registration_id == registration.id))


def joined_ids(registration_ids: list[int]) -> set[int]:
    """Which of these registrations joined the meeting."""
    if not registration_ids:
        return set()
    return set(
        db.session.scalars(
            select(Attendance.registration_id).where(Attendance.registration_id.in_(registration_ids))
        )
    )


def roles_in_use(event: Event) -> list[str]:
    """The event's roles, then any other role registrations carry (roles may have changed since)."""
    stored = db.session.scalars(
        select(Registration.role).where(Registration.event_id == event.id).distinct()
    )
    offered = event.role_choices()
    return offered + sorted(set(stored) - set(offered))
