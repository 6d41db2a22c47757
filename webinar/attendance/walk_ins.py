"""Walk-ins: people in a meeting report who matched no registration. Services flush, never commit.

Each report row that matches nobody by address is kept as a WalkIn of the
event, one per person (by address, else by name), so that the same report read
twice keeps one line. The organiser may link such a line to a registrant: the
report's times and minutes then count as that registrant's attendance, and the
link is remembered, so that the next import of the report records them again
for that registrant (see services.match_report).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, update

from ..events.models import Event
from ..extensions import db
from ..registration.models import Registration, RegistrationStatus
from .models import Attendance, AttendanceSource, WalkIn
from .names import Candidates, Person, name_forms, name_key
from .report_files import ReportRow


def walk_in_key(row: ReportRow) -> str:
    """Who a report row is, for the walk-ins of one event: the address, else the folded name."""
    return row.email.strip().lower() or "naam:" + name_key(row.name)[:330]


def as_report_row(walk_in: WalkIn) -> ReportRow:
    """The walk-in as the report row it came from."""
    return ReportRow(walk_in.name, walk_in.email, walk_in.first_joined_at, walk_in.last_joined_at,
                     walk_in.minutes_present)


def linked_registrations(event: Event) -> dict[str, Registration]:
    """The event's linked walk-in lines: key -> the registrant they were linked to."""
    return {
        walk_in.key: walk_in.registration
        for walk_in in db.session.scalars(
            select(WalkIn).where(WalkIn.event_id == event.id, WalkIn.registration_id.is_not(None)))
    }


def record_walk_ins(event: Event, rows: list[ReportRow], matched: list[tuple[Registration, ReportRow]] = ()
                    ) -> list[WalkIn]:
    """Keep the report's unmatched rows as the event's walk-ins (a known one gets the report's figures).

    A walk-in whose line now matches a registrant (who registered after an
    earlier import) becomes that registrant's line: it is no walk-in any more.
    """
    known = {walk_in.key: walk_in for walk_in in db.session.scalars(select(WalkIn).where(WalkIn.event_id == event.id))}
    for registration, row in matched:
        walk_in = known.get(walk_in_key(row))
        if walk_in is not None and walk_in.registration_id is None:
            walk_in.registration_id = registration.id
    recorded = []
    for row in rows:
        key = walk_in_key(row)
        if key == "naam:":
            continue
        walk_in = known.get(key)
        if walk_in is None:
            walk_in = known[key] = WalkIn(event_id=event.id, key=key)
            db.session.add(walk_in)
        walk_in.name, walk_in.email = row.name[:200], row.email[:320]
        walk_in.first_joined_at, walk_in.last_joined_at = row.first_joined_at, row.last_joined_at
        walk_in.minutes_present = row.minutes
        recorded.append(walk_in)
    db.session.flush()
    return recorded


def walk_ins_of(event: Event, words: str = "") -> list[WalkIn]:
    """The event's walk-ins (not linked to a registrant), by name; `words` searches name and address."""
    query = select(WalkIn).where(WalkIn.event_id == event.id, WalkIn.registration_id.is_(None))
    for word in words.lower().split()[:10]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(WalkIn.name).like(pattern, escape="\\"),
                                func.lower(WalkIn.email).like(pattern, escape="\\")))
    return list(db.session.scalars(query.order_by(func.lower(WalkIn.name), WalkIn.id)))


def count_walk_ins(event: Event) -> int:
    """How many walk-ins the event has (lines not linked to a registrant)."""
    return db.session.scalar(
        select(func.count(WalkIn.id)).where(WalkIn.event_id == event.id, WalkIn.registration_id.is_(None)))


@dataclass(frozen=True)
class Suggested:
    """A registrant as a suggestion shows them."""

    id: int
    full_name: str
    email: str


def suggestions(event: Event, walk_ins: list[WalkIn]) -> dict[int, list[tuple[Suggested, str]]]:
    """For each walk-in (by id): the confirmed registrants its name may belong to, best first, with why."""
    if not walk_ins:
        return {}
    # Plain rows, not objects: a meeting may have a thousand registrants.
    candidates = Candidates([
        (Suggested(id, " ".join(part for part in (first, tussenvoegsel, last) if part), email),
         Person.of(first, tussenvoegsel, last))
        for id, first, tussenvoegsel, last, email in db.session.execute(
            select(Registration.id, Registration.first_name, Registration.tussenvoegsel, Registration.last_name,
                   Registration.email)
            .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.confirmed)
            .order_by(Registration.id))
    ])
    return {walk_in.id: candidates.suggest(name_forms(walk_in.name, walk_in.email)) for walk_in in walk_ins}


def link_walk_in(walk_in: WalkIn, registration: Registration) -> None:
    """Count a walk-in's report line as the registrant's attendance, keeping its times and minutes.

    Someone already in the report under their own address (two devices) keeps
    the larger number of minutes.
    """
    row = as_report_row(walk_in)
    attendance = db.session.scalar(select(Attendance).where(Attendance.registration_id == registration.id))
    if attendance is None:
        attendance = Attendance(registration_id=registration.id, join_count=0,
                                first_joined_at=row.first_joined_at or registration.event.starts_at,
                                last_joined_at=row.last_joined_at or row.first_joined_at
                                or registration.event.starts_at)
        db.session.add(attendance)
    else:
        if row.first_joined_at and (attendance.source == AttendanceSource.manual
                                    or row.first_joined_at < attendance.first_joined_at):
            attendance.first_joined_at = row.first_joined_at
        if row.last_joined_at and (attendance.source == AttendanceSource.manual
                                   or row.last_joined_at > attendance.last_joined_at):
            attendance.last_joined_at = row.last_joined_at
    if row.minutes is not None:
        known = attendance.minutes_present if attendance.source == AttendanceSource.report else None
        attendance.minutes_present = max(row.minutes, known or 0)
    attendance.source = AttendanceSource.report
    walk_in.registration_id = registration.id
    db.session.flush()


def unlink_walk_ins(registration: Registration) -> int:
    """Make the report lines linked to this registrant walk-ins again; returns how many."""
    return db.session.execute(
        update(WalkIn).where(WalkIn.registration_id == registration.id).values(registration_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount
