"""E-mails an event change causes for everyone registered, queued in the outbox."""

from __future__ import annotations

from datetime import datetime

from ..mailing.services import queue_for_registrations
from ..registration.models import Registration, RegistrationStatus
from .models import Event

_REGISTERED = Registration.status.in_([RegistrationStatus.confirmed, RegistrationStatus.waitlisted])


def notify_event_moved(event: Event, now: datetime) -> int:
    """The new time, with a calendar file of the same UID and a higher SEQUENCE."""
    return queue_for_registrations(event, "event_moved", _REGISTERED, due_at=now)


def notify_event_cancelled(event: Event, now: datetime) -> int:
    """The cancellation, with a METHOD:CANCEL calendar file."""
    return queue_for_registrations(event, "event_cancelled", _REGISTERED, due_at=now)
