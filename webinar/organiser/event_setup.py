"""Setting events up: the list with figures and status, publishing a draft, duplicating, closing and reopening."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..audit import audit
from ..database import utcnow
from ..dutch import AMSTERDAM, date as datum
from ..events.editing import duplicate_event
from ..events.lookup import event_or_404
from ..events.models import Event
from ..events.preview import preview_token
from ..events.services import close_registration, publish_event, reopen_registration
from ..extensions import db
from ..forms import button_or_400
from ..links import external_url
from ..mailing.heartbeat import mail_health
from ..privacy.models import EventStatistic
from ..registration.capacity import counts_by_status, free_places, status_label
from ..registration.models import RegistrationStatus
from . import bp
from .forms import DuplicateForm
from .roles import EVENTS_EDIT, EVENTS_VIEW, front_door, requires


@bp.context_processor
def _preview_links():
    return {"preview_url": lambda event: external_url("registration.preview", token=preview_token(event))}


@dataclass(frozen=True)
class EventRow:
    """One line of the organiser's list of events."""

    event: Event
    registered: int
    waiting: int
    #: None: no limit
    places_left: int | None
    #: "concept", "open", "vol", "gesloten", "afgelopen", "geannuleerd" (or "nog niet open")
    status: str


def event_rows(now: datetime) -> list[EventRow]:
    """Every event with its figures: the upcoming ones first (the next at the top), then the past, latest first."""
    events = db.session.scalars(select(Event)).all()
    counts = counts_by_status(events)
    for kept in db.session.scalars(select(EventStatistic)):  # counts kept after the personal data went
        by_status = counts.setdefault(kept.event_id, {})
        status = RegistrationStatus(kept.status)
        by_status[status] = by_status.get(status, 0) + kept.count
    rows = []
    for event in events:
        registered = counts.get(event.id, {}).get(RegistrationStatus.confirmed, 0)
        free = free_places(event, registered)
        rows.append(EventRow(event, registered, counts.get(event.id, {}).get(RegistrationStatus.waitlisted, 0),
                             free, status_label(event, now, free)))
    upcoming = sorted((row for row in rows if row.event.ends_at > now), key=lambda row: row.event.starts_at)
    past = sorted((row for row in rows if row.event.ends_at <= now), key=lambda row: row.event.starts_at,
                  reverse=True)
    return upcoming + past


@bp.get("/")
@front_door
@requires(EVENTS_VIEW)
def events():
    """All events with registered, waiting, places left and status; the next meeting first."""
    now = utcnow()
    return render_template("organiser/events.html", rows=event_rows(now), mail=mail_health(now))


def _copy_title(title: str) -> str:
    return title.removesuffix(" (kopie)")


@bp.route("/events/<slug>/dupliceren", methods=["GET", "POST"])
@requires(EVENTS_VIEW, EVENTS_EDIT)
def copy_event(slug: str):
    """Copy an event as a draft: asks for the new date, time and meeting link first."""
    event = event_or_404(slug)
    form = DuplicateForm()
    if request.method == "GET":
        form.title.data = _copy_title(event.title)
    if form.validate_on_submit():
        copy = duplicate_event(
            event, title=form.title.data,
            starts_at=form.starts_at.data.replace(tzinfo=AMSTERDAM), ends_at=form.ends_at.data.replace(tzinfo=AMSTERDAM),
            meeting_url=form.meeting_url.data or None,
        )
        audit(current_user, "event.duplicate",
              f"Kopie van {event.title} ({datum(event.starts_at)}) gemaakt als concept op {datum(copy.starts_at)}", copy)
        db.session.commit()
        flash("Kopie gemaakt als concept. Controleer de gegevens en publiceer de bijeenkomst als alles klopt.",
              "success")
        return redirect(url_for(".dashboard", slug=copy.slug))
    status = 422 if request.method == "POST" else 200
    return render_template("organiser/duplicate.html", form=form, event=event), status


def _state_change(slug: str, change, action: str, summary: str, done: str, not_needed: str):
    """Apply `change` to the event (a button's POST), audit it, and go back to its overview."""
    event = event_or_404(slug)
    button_or_400()
    try:
        changed = change(event)
    except ValueError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".dashboard", slug=event.slug))
    if changed:
        audit(current_user, action, summary, event)
        db.session.commit()
    flash(done if changed else not_needed, "success" if changed else "error")
    return redirect(url_for(".dashboard", slug=event.slug))


@bp.post("/events/<slug>/publiceren")
@requires(EVENTS_VIEW, EVENTS_EDIT)
def publish(slug: str):
    """Make a draft public: listed on the home page, open for registration as its dates say."""
    return _state_change(slug, publish_event, "event.publish", "Gepubliceerd",
                         "De bijeenkomst is gepubliceerd en staat nu op de publieke lijst.",
                         "De bijeenkomst was al gepubliceerd.")


@bp.post("/events/<slug>/sluiten")
@requires(EVENTS_VIEW, EVENTS_EDIT)
def close(slug: str):
    """Close registration now, before the closing date."""
    return _state_change(slug, close_registration, "event.close", "Registratie gesloten",
                         "De registratie is gesloten: nieuwe aanmeldingen zijn niet meer mogelijk.",
                         "De registratie was al gesloten.")


@bp.post("/events/<slug>/heropenen")
@requires(EVENTS_VIEW, EVENTS_EDIT)
def reopen(slug: str):
    """Open registration again (until the start), after closing by hand or by its date."""
    return _state_change(slug, reopen_registration, "event.reopen", "Registratie heropend",
                         "De registratie is weer open, tot de start van de bijeenkomst.",
                         "De registratie was niet gesloten.")
