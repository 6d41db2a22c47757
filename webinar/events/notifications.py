"""E-mails an event change causes for everyone registered, queued in the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, literal, select
from sqlalchemy.orm import aliased

from ..database import UTCDateTime
from ..mailing.models import MailStatus, OutgoingMail
from ..mailing.services import queue_for_registrations
from ..registration.models import Registration, RegistrationStatus
from .models import Event

_REGISTERED = Registration.status.in_([RegistrationStatus.confirmed, RegistrationStatus.waitlisted])


def notify_event_moved(event: Event, now: datetime, previous_starts_at: datetime, previous_ends_at: datetime) -> int:
    """The new time and the one it replaces, with a calendar file of the same UID and a higher SEQUENCE."""
    return queue_for_registrations(
        event, "event_moved", _REGISTERED, due_at=now,
        previous_starts_at=_time_last_told("previous_starts_at", previous_starts_at),
        previous_ends_at=_time_last_told("previous_ends_at", previous_ends_at),
    )


def _time_last_told(column: str, before_this_move: datetime):
    """Per registration: the time its earliest unsent new-time mail replaces, else the time before this move."""
    # When the event moves twice before the first new-time mail went out, that mail is never sent (it is
    # stale), so the registrant still knows the time from before the first move.
    unsent = aliased(OutgoingMail)
    earlier = (
        select(getattr(unsent, column))
        .where(unsent.registration_id == Registration.id, unsent.kind == "event_moved",
               unsent.status == MailStatus.pending, getattr(unsent, column).is_not(None))
        .order_by(unsent.id)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(earlier, literal(before_this_move, UTCDateTime))


def notify_event_cancelled(event: Event, now: datetime) -> int:
    """The cancellation, with a METHOD:CANCEL calendar file."""
    return queue_for_registrations(event, "event_cancelled", _REGISTERED, due_at=now)
