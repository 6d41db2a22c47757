"""An event's planned messages: reminder, join link and follow-ups, as moments of its schedule.

The moments are offsets from the event's start or end (see the Event's
`reminder_at`, `join_opens_at` and `followup_at`), so moving the event moves
them. Who gets each message is the registration domain's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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


def planned(event: Event) -> list[Moment]:
    """The event's planned messages, in order."""
    moments = []
    reminder = event.reminder_at()
    if reminder is not None:
        moments.append(Moment("reminder", reminder, event.starts_at))
    moments.append(Moment("join_link", event.join_opens_at(), event.ends_at))
    followup = event.followup_at()
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
