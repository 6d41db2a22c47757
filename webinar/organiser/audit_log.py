"""The audit log page: who did what, in Dutch, filtered by person, meeting and kind, fifty to a page."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request
from sqlalchemy import Select, select

from ..audit import ACTION_LABELS, AuditEntry, action_label
from ..events.models import Event
from ..extensions import db
from ..forms import search_words
from . import bp
from .models import Organiser
from .queries import page_number
from .roles import AUDIT_VIEW, requires

PER_PAGE = 50


@dataclass(frozen=True)
class AuditFilters:
    """The log's filters as the query string gives them (wie=address, bijeenkomst=id, soort=code)."""

    wie: str = ""
    bijeenkomst: str = ""
    soort: str = ""

    @classmethod
    def from_args(cls, args) -> AuditFilters:
        event = args.get("bijeenkomst", "")
        kind = args.get("soort", "")
        return cls(wie=search_words(args.get("wie"), 254).lower(), bijeenkomst=event if event.isdigit() else "",
                   soort=kind if kind in ACTION_LABELS else "")

    def as_args(self) -> dict[str, str]:
        return {name: value for name, value in vars(self).items() if value}

    def query(self) -> Select:
        query = select(AuditEntry).order_by(AuditEntry.id.desc())
        if self.wie:
            query = query.where(AuditEntry.organiser_email == self.wie)
        if self.bijeenkomst:
            query = query.where(AuditEntry.event_id == int(self.bijeenkomst))
        if self.soort:
            query = query.where(AuditEntry.action == self.soort)
        return query


def _people() -> list[tuple[str, str]]:
    """(address, how the log names them) of everyone in the log, by name; gone accounts by their address."""
    names = dict(db.session.execute(select(Organiser.email, Organiser.name)).all())
    addresses = db.session.scalars(select(AuditEntry.organiser_email).distinct()).all()
    return sorted(((address, names.get(address) or address) for address in addresses),
                  key=lambda person: person[1].lower())


@bp.get("/audit")
@requires(AUDIT_VIEW)
def audit_log():
    """What organisers did, newest first, with filters and pages."""
    filters = AuditFilters.from_args(request.args)
    query = filters.query()
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    if page.pages and page.page > page.pages:
        page = db.paginate(query, page=page.pages, per_page=PER_PAGE, error_out=False)
    events = db.session.scalars(select(Event).order_by(Event.starts_at.desc())).all()
    people = _people()
    return render_template(
        "organiser/audit.html", page=page, filters=filters, people=people, names=dict(people),
        events=events, titles={event.id: event.title for event in events},
        kinds=sorted(ACTION_LABELS.items(), key=lambda kind: kind[1]), action_label=action_label,
    )
