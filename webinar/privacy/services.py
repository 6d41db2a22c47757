"""Removing registrants' personal data: after their event, or when they ask. Services flush, never commit.

Personal data lives in the registration, its personal-link tokens, its outbox
rows (recipient, errors), its attendance record, and in audit entries that
name the person; and in the event's walk-ins (people in a meeting report
without a registration, with the report's name and address), which go with the
event's other personal data and are kept as a count. Import reports themselves
are never stored, and login attempts only hold organisers' addresses, so
neither needs anything here.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, or_, select

from ..attendance.models import Attendance, WalkIn
from ..attendance.presence import present_at_least, presence_minimum
from ..audit import AuditEntry
from ..database import utcnow
from ..events.models import Event
from ..events.services import lock_event
from ..extensions import db
from ..mailing.models import OutgoingMail
from ..organisations.keys import match_key
from ..registration.capacity import Phase, registration_phase
from ..registration.models import AccessToken, Registration
from ..registration.services import promote_waitlisted
from .models import WALK_IN, EventStatistic

#: what a name or address in an audit entry becomes
REMOVED = "[verwijderd]"
#: the search words an export was filtered on (see organiser.exports.describe)
_SEARCH = re.compile(r"\bq=[^,]*")


@dataclass
class Erased:
    """How many rows of each kind were removed or cleaned."""

    registrations: int = 0
    tokens: int = 0
    mails: int = 0
    attendance: int = 0
    walk_ins: int = 0
    audit_entries: int = 0

    def __str__(self) -> str:
        removed = ", ".join(
            f"{count} {one if count == 1 else many}"
            for count, one, many in (
                (self.registrations, "aanmelding", "aanmeldingen"),
                (self.tokens, "persoonlijke link", "persoonlijke links"),
                (self.mails, "e-mail", "e-mails"),
                (self.attendance, "aanwezigheid", "aanwezigheden"),
                (self.walk_ins, "regel van niet-aangemelde", "regels van niet-aangemelden"),
            )
        )
        return f"{removed} verwijderd; {self.audit_entries} auditregel(s) zonder namen"


def purge_after(event: Event, days: int) -> datetime:
    """When the event's personal data is due for removal: `days` after its end or cancellation."""
    over = min(event.ends_at, event.cancelled_at or event.ends_at)
    return over + timedelta(days=days)


def events_due(now: datetime, days: int) -> list[Event]:
    """Events whose personal data is due for removal and not (all) removed yet."""
    cutoff = now - timedelta(days=days)
    left = or_(exists().where(Registration.event_id == Event.id), exists().where(WalkIn.event_id == Event.id))
    return list(
        db.session.scalars(
            select(Event)
            .where(
                or_(Event.ends_at <= cutoff, Event.cancelled_at <= cutoff),
                or_(Event.personal_data_purged_at.is_(None), left),
            )
            .order_by(Event.ends_at, Event.id)
        )
    )


def purge_event(event: Event, now: datetime | None = None) -> Erased:
    """Keep the event's counts, then remove every registrant's personal data. Safe to repeat."""
    lock_event(event)
    keep_counts(event)
    erased = erase_registrations(event, Registration.event_id == event.id, whole_event=True)
    erased.walk_ins += _delete(WalkIn, WalkIn.event_id == event.id)
    if event.personal_data_purged_at is None:
        event.personal_data_purged_at = now or utcnow()
    db.session.flush()
    return erased


#: what an anonymous count is kept by, besides the event
COUNTED_BY = ("status", "role", "organisation_type", "joined", "sector", "organisation_key", "organisation_name",
              "present")


def keep_counts(event: Event) -> None:
    """Add the event's registrations to its anonymous counts: by status, role, organisation type, sector and
    organisation (its key and name, no personal data), whether they joined and were present the minimum."""
    rows = db.session.execute(
        select(Registration.status, Registration.role, Registration.organisation_type, Registration.sector,
               Registration.organisation, Registration.brin, Attendance)
        .outerjoin(Attendance, Attendance.registration_id == Registration.id)
        .where(Registration.event_id == event.id).order_by(Registration.id)
    ).all()
    minimum = presence_minimum(event)
    # The role is one of the event's choices or "Anders" (see DetailsForm); its free text is not counted.
    groups = Counter(
        (status.value, role, kind or "", attendance is not None, sector, match_key(name, brin),
         " ".join(name.split())[:200], present_at_least(attendance, event, minimum))
        for status, role, kind, sector, name, brin, attendance in rows
    )
    kept = {tuple(getattr(row, name) for name in COUNTED_BY): row for row in db.session.scalars(
        select(EventStatistic).where(EventStatistic.event_id == event.id))}
    walk_ins = db.session.scalar(
        select(func.count(WalkIn.id)).where(WalkIn.event_id == event.id, WalkIn.registration_id.is_(None)))
    if walk_ins:
        groups[WALK_IN, "", "", True, "", "", "", False] += walk_ins
    for values, count in groups.items():
        row = kept.get(values)
        if row is None:
            row = EventStatistic(event_id=event.id, count=0, **dict(zip(COUNTED_BY, values)))
            db.session.add(row)
        row.count += count
    db.session.flush()


def erase_own_registration(registration: Registration, *, now: datetime | None = None) -> list[Registration]:
    """A registrant's own request: remove them everywhere; a freed place goes to the waiting list.

    Returns the people promoted.
    """
    now = now or utcnow()
    event = registration.event
    lock_event(event)
    erase_registrations(event, Registration.id == registration.id)
    if registration_phase(event, now) in (Phase.ended, Phase.cancelled) or now >= event.starts_at:
        return []
    return promote_waitlisted(event)


def erase_registrations(event: Event, condition, *, whole_event: bool = False) -> Erased:
    """Delete the event's registrations matching `condition` and every row about them."""
    people = db.session.execute(
        select(Registration.email, Registration.email_normalized, Registration.first_name,
               Registration.tussenvoegsel, Registration.last_name, Registration.organisation)
        .where(Registration.event_id == event.id, condition)
    ).all()
    if not people:
        return Erased()
    ids = select(Registration.id).where(Registration.event_id == event.id, condition)
    addresses = [person.email_normalized for person in people]
    erased = Erased(audit_entries=scrub_audit(event, people, every_search=whole_event))
    erased.tokens = _delete(AccessToken, AccessToken.registration_id.in_(ids))
    # Report lines linked to these registrants name them too.
    erased.walk_ins = _delete(WalkIn, WalkIn.registration_id.in_(ids))
    erased.attendance = _delete(Attendance, Attendance.registration_id.in_(ids))
    erased.mails = _delete(OutgoingMail, or_(
        OutgoingMail.registration_id.in_(ids),
        and_(OutgoingMail.event_id == event.id, func.lower(OutgoingMail.recipient).in_(addresses)),
    ))
    erased.registrations = db.session.execute(
        delete(Registration).where(Registration.event_id == event.id, condition)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    return erased


def _delete(model, condition) -> int:
    return db.session.execute(
        delete(model).where(condition).execution_options(synchronize_session=False)
    ).rowcount


def _identifying(people, *, first_names: bool = False) -> re.Pattern | None:
    """A pattern for every address, name and organisation of these people, longest first, as whole words.

    The audit log names a registrant with their organisation ('Jan de Vries (Stichting Primair)').
    """
    words = set()
    for person in people:
        full = " ".join(p for p in (person.first_name, person.tussenvoegsel, person.last_name) if p)
        words |= {person.email, person.email_normalized, full, f"{person.first_name} {person.last_name}",
                  person.last_name, person.organisation or ""}
        if first_names:
            words.add(person.first_name)
    words = sorted((w.strip() for w in words if len(w.strip()) >= 2), key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(rf"(?<!\w){re.escape(w)}(?!\w)" for w in words), re.IGNORECASE)


def scrub_audit(event: Event, people, *, every_search: bool = False) -> int:
    """Replace these people's names and addresses in the event's audit entries, and export searches
    that name them (with `every_search`: all export searches). Returns how many entries changed."""
    pattern = _identifying(people)
    # A first name alone is too common to replace everywhere, but a search for it points at the person.
    named = _identifying(people, first_names=True)

    def search(match: re.Match) -> str:
        return f"q={REMOVED}" if every_search or (named and named.search(match.group())) else match.group()

    changed = 0
    for entry in db.session.scalars(select(AuditEntry).where(AuditEntry.event_id == event.id)):
        summary = pattern.sub(REMOVED, entry.summary) if pattern else entry.summary
        if entry.action.startswith("export."):
            summary = _SEARCH.sub(search, summary)
        if summary != entry.summary:
            entry.summary = summary
            changed += 1
    db.session.flush()
    return changed
