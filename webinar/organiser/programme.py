"""The programme overview: figures across the meetings of a period, for the contact person's reports.

A registration counts once per meeting; every breakdown counts the same
registrations, so each adds up to the totals. Meetings whose personal data
was purged count from the anonymous counts kept at the purge
(`privacy.models.EventStatistic`), which hold everything a breakdown needs
but who the person was: repeat attendees are counted over the other meetings.
Everything is read in a handful of queries, whatever the number of meetings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from ..attendance.models import Attendance
from ..attendance.presence import present_at_least, presence_minimum
from ..dutch import AMSTERDAM
from ..events.models import Event
from ..extensions import db
from ..organisations.grouping import (
    KEPT, REGISTRATION, Member, OrganisationGroup, group_members, kept_keys, support_members,
)
from ..privacy.models import WALK_IN, EventStatistic
from ..registration.models import SECTORS, UNKNOWN_SECTOR, UNKNOWN_TYPE, Registration

#: the figures of every row, in this order: (key, column heading)
MEASURES = [
    ("aangemeld", "Aangemeld"), ("wachtlijst", "Wachtlijst"), ("afgemeld", "Afgemeld"),
    ("deelgenomen", "Deelgenomen"), ("aanwezig", "Minimaal aanwezig"),
]
STATUS_MEASURES = {"confirmed": "aangemeld", "waitlisted": "wachtlijst", "cancelled": "afgemeld"}
#: the earliest and latest year a period may touch
FIRST_YEAR, LAST_YEAR = 2000, 2100


class PeriodError(ValueError):
    """The period asked for cannot be used; the message says why, in Dutch."""


@dataclass(frozen=True)
class Period:
    """From one day to another, both included, in Amsterdam time."""

    start: date
    end: date

    def bounds(self) -> tuple[datetime, datetime]:
        """[the start's midnight, the midnight after the end) in Amsterdam, as UTC moments."""
        first = datetime.combine(self.start, time(), AMSTERDAM)
        after = datetime.combine(self.end + timedelta(days=1), time(), AMSTERDAM)
        return first.astimezone(timezone.utc), after.astimezone(timezone.utc)

    def as_args(self) -> dict[str, str]:
        return {"van": self.start.isoformat(), "tot": self.end.isoformat()}

    def text(self) -> str:
        """'01-08-2026 t/m 31-07-2027'."""
        return f"{self.start:%d-%m-%Y} t/m {self.end:%d-%m-%Y}"


def school_year(today: date) -> Period:
    """The school year that holds `today`: 1 August to 31 July."""
    first = today.year if today.month >= 8 else today.year - 1
    return Period(date(first, 8, 1), date(first + 1, 7, 31))


def _day(value: str, what: str) -> date:
    """'2027-05-25' (a date field) or '25-05-2027' as a date; PeriodError otherwise."""
    text = value.strip()
    try:
        if len(text.split("-")[0]) == 4:
            day = date.fromisoformat(text)
        else:
            day_text, month, year = text.split("-")
            day = date(int(year), int(month), int(day_text))
    except ValueError:
        raise PeriodError(f"De {what} ‘{text[:20]}’ is geen datum. Schrijf haar als dd-mm-jjjj, "
                          "bijvoorbeeld 01-08-2026.") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise PeriodError(f"Kies een {what} tussen {FIRST_YEAR} en {LAST_YEAR}.")
    return day


def period_from_args(args, today: date) -> Period:
    """The period of ?van=&tot= (either may be left out: the current school year's day); PeriodError if wrong."""
    default = school_year(today)
    start = _day(args["van"], "begindatum") if args.get("van", "").strip() else default.start
    end = _day(args["tot"], "einddatum") if args.get("tot", "").strip() else default.end
    if start > end:
        raise PeriodError("De begindatum ligt na de einddatum. Kies een begindatum op of vóór de einddatum.")
    return Period(start, end)


@dataclass
class Counts:
    """Registrations by status, how many joined, how many were present at least the minimum."""

    values: Counter = field(default_factory=Counter)

    def add(self, status: str, joined: bool, present: bool, weight: int = 1) -> None:
        self.values[STATUS_MEASURES[status]] += weight
        self.values["deelgenomen"] += weight if joined else 0
        self.values["aanwezig"] += weight if present else 0

    def __getitem__(self, measure: str) -> int:
        return self.values[measure]

    def row(self) -> list[int]:
        """The figures in MEASURES order."""
        return [self.values[key] for key, _ in MEASURES]

    @property
    def registrations(self) -> int:
        return sum(self.values[measure] for measure in STATUS_MEASURES.values())


@dataclass
class EventFigures:
    event: Event
    counts: Counts = field(default_factory=Counts)
    #: the minutes that count as present (see attendance.presence.presence_minimum)
    minimum: int = 0


@dataclass
class Programme:
    """Everything the overview shows for a period."""

    period: Period
    events: list[EventFigures]
    #: cancelled meetings in the period, apart: (event, registrations); they are in no other figure
    cancelled: list[tuple[Event, int]]
    totals: Counts
    by_role: list[tuple[str, Counts]]
    by_type: list[tuple[str, Counts]]
    by_sector: list[tuple[str, Counts]]
    #: organisations with registrations in the period, with how many support requests they sent in it
    by_organisation: list[tuple[OrganisationGroup, Counts]]
    #: (number of meetings, people who joined that many), from 2 up
    repeat: list[tuple[int, int]]
    #: organisations that joined a meeting and asked for support in the period
    both: list[tuple[OrganisationGroup, Counts]]
    support_requests: int

    @property
    def purged(self) -> list[EventFigures]:
        """The meetings whose personal data is gone: counted in totals, not in repeat attendees."""
        return [figures for figures in self.events if figures.event.personal_data_purged_at]


@dataclass(frozen=True)
class Unit:
    """A registration, or a kept count of several, as the overview counts it."""

    member: Member
    role: str
    joined: bool
    present: bool
    #: the normalised address; None for kept counts
    email: str | None = None


def _registration_units(events: dict[int, EventFigures]) -> list[Unit]:
    """The meetings' registrations with their attendance, in one query."""
    rows = db.session.execute(
        select(Registration.id, Registration.organisation, Registration.brin, Registration.organisation_type,
               Registration.board_name, Registration.event_id, Registration.status, Registration.sector,
               Registration.role, Registration.email_normalized, Attendance)
        .outerjoin(Attendance, Attendance.registration_id == Registration.id)
        .where(Registration.event_id.in_(list(events))).order_by(Registration.id)
    ).all()
    units = []
    for row in rows:
        figures = events[row.event_id]
        member = Member(REGISTRATION, row.id, row.organisation, row.brin, row.organisation_type, row.board_name,
                        row.event_id, row.status.value, row.sector)
        units.append(Unit(member, row.role, row.Attendance is not None,
                          present_at_least(row.Attendance, figures.event, figures.minimum), row.email_normalized))
    return units


def _kept_units(event_ids: list[int]) -> list[Unit]:
    """The anonymous counts kept for purged meetings, each as one unit weighing its count.

    Walk-ins are not registrations and are left out, as they are while the meeting's data is kept."""
    units = []
    for kept in db.session.scalars(select(EventStatistic).where(EventStatistic.event_id.in_(event_ids),
                                                                EventStatistic.status != WALK_IN)
                                   .order_by(EventStatistic.id)):
        brin = kept.organisation_key.removeprefix("brin:") if kept.organisation_key.startswith("brin:") else ""
        member = Member(KEPT, kept.id, kept.organisation_name, brin, kept.organisation_type, "", kept.event_id,
                        kept.status, kept.sector, kept.count)
        units.append(Unit(member, kept.role, kept.joined, kept.present))
    return units


def _sorted(counts: dict[str, Counts], order: list[str] | None = None) -> list[tuple[str, Counts]]:
    """Most registered first (then most registrations, then by name), or in the order given."""
    if order is not None:
        return [(label, counts[label]) for label in order if label in counts]
    return sorted(counts.items(), key=lambda item: (-item[1]["aangemeld"], -item[1].registrations, item[0]))


def _repeat(units: list[Unit]) -> list[tuple[int, int]]:
    """How many people joined 2, 3, ... meetings, by normalised address."""
    meetings: dict[str, set[int]] = defaultdict(set)
    for unit in units:
        if unit.email is not None and unit.joined:
            meetings[unit.email].add(unit.member.event_id)
    people = Counter(len(ids) for ids in meetings.values() if len(ids) >= 2)
    return sorted(people.items())


def programme(period: Period) -> Programme:
    """The overview's figures for the period's published meetings (by start) and support requests (by receipt)."""
    first, after = period.bounds()
    found = db.session.scalars(select(Event).where(Event.starts_at >= first, Event.starts_at < after,
                                                   Event.published_at.is_not(None))
                               .order_by(Event.starts_at, Event.id)).all()
    events = {event.id: EventFigures(event, minimum=presence_minimum(event))
              for event in found if event.cancelled_at is None}
    units = _registration_units(events) + _kept_units(list(events))
    support = support_members(first, after)
    groups = group_members([unit.member for unit in units] + support, kept_keys())
    group_of = {(member.source, member.id): group for group in groups for member in group.members}
    totals, roles, kinds, sectors = Counts(), defaultdict(Counts), defaultdict(Counts), defaultdict(Counts)
    organisations: dict[str, Counts] = defaultdict(Counts)
    for unit in units:
        member, group = unit.member, group_of[unit.member.source, unit.member.id]
        tallies = [totals, events[member.event_id].counts, roles[unit.role],
                   kinds[group.type_of(member) or UNKNOWN_TYPE],
                   sectors[SECTORS.get(group.sector_of(member), UNKNOWN_SECTOR)]]
        if member.source == REGISTRATION or member.name:  # counts kept before organisations were kept have none
            tallies.append(organisations[group.ref])
        for counts in tallies:
            counts.add(member.status, unit.joined, unit.present, member.count)
    by_organisation = [(group, organisations[group.ref]) for group in groups if group.ref in organisations]
    by_organisation.sort(key=lambda item: (-item[1]["aangemeld"], -item[1].registrations, item[0].name))
    return Programme(
        period=period, events=list(events.values()),
        cancelled=_cancelled([event for event in found if event.cancelled_at is not None]),
        totals=totals, by_role=_sorted(roles), by_type=_sorted(kinds),
        by_sector=_sorted(sectors, [*SECTORS.values(), UNKNOWN_SECTOR]), by_organisation=by_organisation,
        repeat=_repeat(units),
        both=[(group, counts) for group, counts in by_organisation if counts["deelgenomen"] and
              group.support_request_ids],
        support_requests=len({member.id for member in support}),
    )


def _cancelled(events: list[Event]) -> list[tuple[Event, int]]:
    """The cancelled meetings with their registrations (kept counts included), in two queries."""
    if not events:
        return []
    ids = [event.id for event in events]
    counts = Counter(dict(db.session.execute(
        select(Registration.event_id, func.count(Registration.id)).where(Registration.event_id.in_(ids))
        .group_by(Registration.event_id)).all()))
    counts.update(dict(db.session.execute(
        select(EventStatistic.event_id, func.sum(EventStatistic.count)).where(EventStatistic.event_id.in_(ids))
        .group_by(EventStatistic.event_id)).all()))
    return [(event, counts[event.id]) for event in events]
