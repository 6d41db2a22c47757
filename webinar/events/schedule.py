"""An event's planned messages: reminder, join link and follow-ups, as moments of its schedule.

The moments are offsets from the event's start or end (see the Event's
`reminder_at`, `join_opens_at` and `followup_at`), so moving the event moves
them. Who gets each message is the registration domain's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from .models import Event

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


def _reminder(event: Event) -> Moment | None:
    reminder = event.reminder_at()
    return None if reminder is None else Moment("reminder", reminder, event.starts_at)


def _join_link(event: Event) -> Moment:
    return Moment("join_link", event.join_opens_at(), event.ends_at)


def _followup(kind: str, text: str, event: Event) -> Moment | None:
    if not getattr(event, text).strip():
        return None
    followup = event.followup_at()
    return Moment(kind, followup, followup + FOLLOWUP_USEFUL)


#: each planned kind's moment for an event (None: the event sends none), in the order they come
_MOMENTS = {
    "reminder": _reminder,
    "join_link": _join_link,
    "followup_joined": partial(_followup, "followup_joined", "followup_joined_text"),
    "followup_missed": partial(_followup, "followup_missed", "followup_missed_text"),
}


def planned(event: Event) -> list[Moment]:
    """The event's planned messages, in order."""
    return [moment for moment in (make(event) for make in _MOMENTS.values()) if moment is not None]


def useful_until(event: Event, kind: str) -> datetime | None:
    """When a planned message of this kind stops being of use (only this kind's moment is worked out:
    the worker asks it for every message it sends)."""
    make = _MOMENTS.get(kind)
    moment = make(event) if make is not None else None
    return None if moment is None else moment.until
