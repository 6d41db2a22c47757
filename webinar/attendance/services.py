"""Recording joins. Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from blinker import Namespace
from sqlalchemy import case, delete, or_, select
from sqlalchemy.orm import lazyload

from ..database import dialect_insert
from ..dutch import local
from ..events.models import Event
from ..extensions import db
from ..registration.models import Registration, RegistrationStatus
from .models import Attendance, AttendanceSource
from .report_files import Report, ReportRow
from .walk_ins import linked_registrations, unlink_walk_ins, walk_in_key


#: sent after attendance was recorded (a join, a report, by hand), with `event_id` and `ids` (registration ids)
attendance_recorded = Namespace().signal("attendance-recorded")


def _recorded(event_id: int, ids: list[int]) -> None:
    if ids and attendance_recorded.receivers:
        attendance_recorded.send(None, event_id=event_id, ids=ids)


def record_join(registration: Registration, now: datetime) -> None:
    """Count a click on the join link; two clicks at once are both counted."""
    statement = dialect_insert(Attendance).values(
        registration_id=registration.id,
        first_joined_at=now,
        last_joined_at=now,
        join_count=1,
        source=AttendanceSource.link,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[Attendance.registration_id],
        set_={
            "last_joined_at": now,
            "join_count": Attendance.join_count + 1,
        },
    )
    db.session.execute(statement)
    _recorded(registration.event_id, [registration.id])


# Reports and entries by hand. Rules, so no source overwrites what another knows:
# - join_count counts clicks on the join link only; a report or an organiser
#   never changes it (a row they create starts at 0);
# - a report sets minutes_present and source "report"; the earliest join wins
#   (a link click before the report's first join stays first);
# - an entry by hand knows no times: it stores the event's start as a stand-in,
#   which any report replaces.


def record_report_rows(event: Event, lines: list[tuple[Registration, ReportRow]]) -> None:
    """Record a meeting report's lines for registrants (see the rules above), a statement per kind of line."""
    groups: dict[tuple[bool, bool], list[dict]] = {}
    for registration, row in lines:
        first = row.first_joined_at or event.starts_at
        groups.setdefault((row.minutes is not None, row.first_joined_at is not None), []).append({
            "registration_id": registration.id,
            "first_joined_at": first,
            "last_joined_at": row.last_joined_at or first,
            "join_count": 0,
            "minutes_present": row.minutes,
            "source": AttendanceSource.report,
        })
    for (has_minutes, has_times), values in groups.items():
        db.session.execute(_report_upsert(has_minutes, has_times), values)
    _recorded(event.id, [registration.id for registration, _ in lines])


def _report_upsert(has_minutes: bool, has_times: bool):
    statement = dialect_insert(Attendance.__table__)
    new = statement.excluded
    by_hand = Attendance.source == AttendanceSource.manual
    changes: dict = {"source": AttendanceSource.report}
    if has_minutes:
        changes["minutes_present"] = new.minutes_present
    if has_times:
        earlier = or_(by_hand, new.first_joined_at < Attendance.first_joined_at)
        later = or_(by_hand, new.last_joined_at > Attendance.last_joined_at)
        changes["first_joined_at"] = case((earlier, new.first_joined_at), else_=Attendance.first_joined_at)
        changes["last_joined_at"] = case((later, new.last_joined_at), else_=Attendance.last_joined_at)
    return statement.on_conflict_do_update(index_elements=[Attendance.registration_id], set_=changes)


def has_report_data(attendance: Attendance | None) -> bool:
    """Whether the record holds more than a mark by hand: a report's times and minutes, or link clicks."""
    return attendance is not None and (attendance.source != AttendanceSource.manual or attendance.join_count > 0)


def set_attendance_by_hand(registration: Registration, present: bool) -> bool:
    """Mark a registrant present (if not already) or absent; True if changed.

    Absent forgets all we knew, and a report line linked to them becomes a walk-in again.
    """
    if not present:
        unlink_walk_ins(registration)
        result = db.session.execute(delete(Attendance).where(Attendance.registration_id == registration.id))
        return result.rowcount > 0
    starts = registration.event.starts_at
    statement = dialect_insert(Attendance).values(
        registration_id=registration.id,
        first_joined_at=starts,
        last_joined_at=starts,
        join_count=0,
        source=AttendanceSource.manual,
    )
    statement = statement.on_conflict_do_nothing(index_elements=[Attendance.registration_id])
    # RETURNING, not rowcount: an ORM insert on PostgreSQL reports rowcount -1.
    changed = db.session.execute(statement.returning(Attendance.id)).first() is not None
    if changed:
        _recorded(registration.event_id, [registration.id])
    return changed


@dataclass
class ImportResult:
    """What importing a report did with each of its rows."""

    #: to be recorded, and recorded: (registration, report row)
    matched: list = field(default_factory=list)
    #: the address belongs to a cancelled or waitlisted registration: not recorded
    not_confirmed: list = field(default_factory=list)
    #: no registration with this address (or no address at all): recorded as walk-ins
    unknown: list = field(default_factory=list)
    #: matched, but not recorded because storing failed: (registration, report row)
    failed: list = field(default_factory=list)
    #: the walk-ins the unknown rows became (see walk_ins.py)
    walk_ins: list = field(default_factory=list)

    @property
    def unmatched_count(self) -> int:
        return len(self.not_confirmed) + len(self.unknown)


def report_day(report: Report) -> date | None:
    """The day of the meeting the report is about (Amsterdam), if it says."""
    return local(report.started_at).date() if report.started_at else None


def other_day(event: Event, report: Report) -> date | None:
    """The report's day when it is not the event's (the organiser is warned), else None."""
    day = report_day(report)
    return day if day is not None and day != local(event.starts_at).date() else None


def match_report(event: Event, report: Report) -> ImportResult:
    """Match the report's people to the event's registrations, in one query per kind.

    By e-mail in any case, else by a link an organiser made before from the same
    line (see walk_ins.py). Only reads: `record_report_rows` records the matched
    lines, `record_walk_ins` the rest.
    """
    registrations = {
        registration.email_normalized: registration
        for registration in db.session.scalars(
            # Not joined to the event for each row: all of them belong to this one.
            select(Registration).where(Registration.event_id == event.id).options(lazyload(Registration.event)))
    }
    linked = linked_registrations(event)
    result = ImportResult()
    for row in report.rows:
        registration = registrations.get(row.email.strip().lower()) if row.email else None
        registration = registration or linked.get(walk_in_key(row))
        if registration is None:
            result.unknown.append(row)
        elif registration.status != RegistrationStatus.confirmed:
            result.not_confirmed.append((registration, row))
        else:
            result.matched.append((registration, row))
    return result
