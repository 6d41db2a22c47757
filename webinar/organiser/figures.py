"""Figures for an event's dashboard."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from ..attendance.models import Attendance
from ..attendance.walk_ins import count_walk_ins
from ..dutch import local
from ..events.models import Event
from ..registration.capacity import places_left
from ..extensions import db
from ..mailing.models import MailStatus, OutgoingMail
from ..privacy.models import WALK_IN, EventStatistic
from ..registration.models import Registration, RegistrationStatus


@dataclass
class EventStats:
    """Counts for one event."""

    by_status: Counter = field(default_factory=Counter)
    joined: int = 0
    #: attended without registering (walk-ins from a report), apart from `joined`
    walk_ins: int = 0
    places_left: int | None = None
    #: registrations whose address mail came back from
    unreachable: int = 0
    #: confirmed registrations per role and per organisation type
    by_role: list[tuple[str, int]] = field(default_factory=list)
    by_organisation_type: list[tuple[str, int]] = field(default_factory=list)
    #: (day, registrations up to and including that day), cancelled ones included
    cumulative: list[tuple[date, int]] = field(default_factory=list)
    #: (kind, status, count)
    mail: list[tuple[str, str, int]] = field(default_factory=list)


def _grouped(event: Event, column, kept: list[EventStatistic]) -> list[tuple[str, int]]:
    """Confirmed registrations per value of `column`, with the counts kept after a purge."""
    counts = Counter(dict(db.session.execute(
        select(column, func.count(Registration.id))
        .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.confirmed)
        .group_by(column)
    ).all()))
    for row in kept:
        if row.status == RegistrationStatus.confirmed.value:
            counts[getattr(row, column.key)] += row.count
    return sorted(((value or "Onbekend", count) for value, count in counts.items() if count),
                  key=lambda item: (-item[1], item[0]))


def kept_counts(event: Event) -> list[EventStatistic]:
    """The anonymous counts of registrations kept when the event's personal data was removed."""
    return list(db.session.scalars(
        select(EventStatistic).where(EventStatistic.event_id == event.id, EventStatistic.status != WALK_IN)))


def walk_in_total(event: Event) -> int:
    """Walk-ins: those in a report without a registration, now and as counted before a purge."""
    kept = db.session.scalar(select(func.sum(EventStatistic.count)).where(
        EventStatistic.event_id == event.id, EventStatistic.status == WALK_IN))
    return count_walk_ins(event) + (kept or 0)


def event_stats(event: Event) -> EventStats:
    """Everything the dashboard shows, in a handful of queries."""
    stats = EventStats(places_left=places_left(event))
    for status, count in db.session.execute(
        select(Registration.status, func.count(Registration.id))
        .where(Registration.event_id == event.id)
        .group_by(Registration.status)
    ):
        stats.by_status[status.value] = count
    stats.joined = db.session.scalar(
        select(func.count(Attendance.id)).join(Registration).where(Registration.event_id == event.id)
    )
    stats.walk_ins = walk_in_total(event)
    stats.unreachable = db.session.scalar(select(func.count(Registration.id)).where(
        Registration.event_id == event.id, Registration.unreachable_at.is_not(None)))
    kept = kept_counts(event)
    for row in kept:
        stats.by_status[row.status] += row.count
        stats.joined += row.count if row.joined else 0
    stats.by_role = _grouped(event, Registration.role, kept)
    stats.by_organisation_type = _grouped(event, Registration.organisation_type, kept)
    days = Counter(
        local(created).date()
        for created in db.session.scalars(
            select(Registration.created_at).where(Registration.event_id == event.id)
        )
    )
    total = 0
    for day in sorted(days):
        total += days[day]
        stats.cumulative.append((day, total))
    stats.mail = [
        (kind, status.value, count)
        for kind, status, count in db.session.execute(
            select(OutgoingMail.kind, OutgoingMail.status, func.count(OutgoingMail.id))
            .where(OutgoingMail.event_id == event.id)
            .group_by(OutgoingMail.kind, OutgoingMail.status)
            .order_by(OutgoingMail.kind)
        )
    ]
    return stats


def failed_mail(event: Event, limit: int = 100) -> list[OutgoingMail]:
    """The event's failed e-mails with their errors, newest first."""
    return list(
        db.session.scalars(
            select(OutgoingMail)
            .where(OutgoingMail.event_id == event.id, OutgoingMail.status == MailStatus.failed)
            .order_by(OutgoingMail.id.desc())
            .limit(limit)
        )
    )
