"""Events through the API: list, get, create (a draft), change, cancel."""

from __future__ import annotations



from ..database import utcnow
from ..events.editing import update_event
from ..events.models import Event
from ..events.services import cancel_event, create_event
from ..events.slugs import rename, unique_slug
from ..extensions import db
from ..links import external_url
from ..organiser.event_setup import EventRow, event_rows
from ..organiser.forms import EventForm
from ..organiser.roles import EVENTS_EDIT, EVENTS_VIEW
from ..organiser.views import _fill, _fill_defaults, _form_values
from . import bp
from .auth import needs
from .common import audit_api, documented, event_or_problem
from .forms import checked, form_data
from .problems import problem
from .schemas import CancelResult, EventChange, EventCreate, EventList, EventOut

_COPIED = ("slug", "title", "summary", "body", "audience", "practical", "starts_at", "ends_at",
           "registration_opens_at", "registration_closes_at", "capacity", "roles", "contact_name",
           "contact_email", "contact_phone", "cancelled_at")


def event_json(row: EventRow) -> dict:
    """One event as the API shows it (never its meeting link: that is only reached through join links)."""
    event = row.event
    found = {name: getattr(event, name) for name in _COPIED}
    found.update(status=row.status, registered=row.registered, waiting=row.waiting, places_left=row.places_left,
                 draft=event.is_draft(), url=external_url("registration.show", slug=event.slug))
    return found


def _row(event: Event) -> EventRow:
    return next(row for row in event_rows(utcnow()) if row.event.id == event.id)


@bp.get("/events")
@bp.response(200, EventList)
@documented()
@needs(EVENTS_VIEW)
def list_events():
    """Every event with its figures: the upcoming ones first, then the past, latest first."""
    return {"items": [event_json(row) for row in event_rows(utcnow())]}


@bp.get("/events/<slug>")
@bp.response(200, EventOut)
@documented()
@needs(EVENTS_VIEW)
def get_event(slug: str):
    """One event."""
    return event_json(_row(event_or_problem(slug)))


@bp.post("/events")
@bp.arguments(EventCreate)
@bp.response(201, EventOut)
@documented(409, 422)
@needs(EVENTS_EDIT)
def create(values: dict):
    """Create an event, as a draft (concept) until it is published; the organiser's form checks it."""
    blank = EventForm(formdata=None, meta={"csrf": False})
    _fill_defaults(blank)
    form, refused = checked(EventForm, form_data(blank, values))
    if refused:
        return refused
    settings = _form_values(form)
    try:
        event = create_event(slug=form.slug.data or unique_slug(settings["title"]), draft=True, **settings)
    except ValueError as error:
        db.session.rollback()
        return problem(422, errors=[{"field": "slug", "message": str(error)}])
    audit_api("event.create", f"bijeenkomst {event.slug} aangemaakt (concept)", event)
    db.session.commit()
    return event_json(_row(event))


@bp.patch("/events/<slug>")
@bp.arguments(EventChange)
@bp.response(200, EventOut)
@documented(409, 422)
@needs(EVENTS_EDIT)
def change(values: dict, slug: str):
    """Change an event: only the fields sent. A new time moves planned mail and tells registrants."""
    event = event_or_problem(slug)
    current = EventForm(formdata=None, meta={"csrf": False})
    _fill(current, event)
    form, refused = checked(EventForm, form_data(current, values))
    if refused:
        return refused
    try:
        old_slug = rename(event, form.slug.data or unique_slug(form.title.data, event))
        changed = update_event(event, _form_values(form))
    except ValueError as error:
        db.session.rollback()
        return problem(422, errors=[{"field": None, "message": str(error)}])
    if old_slug is not None:
        audit_api("event.slug", f"link gewijzigd van /events/{old_slug} naar /events/{event.slug}", event)
    if changed:
        audit_api("event.edit", "gewijzigd: " + ", ".join(changed), event)
    db.session.commit()
    return event_json(_row(event))


@bp.post("/events/<slug>/cancel")
@bp.response(200, CancelResult)
@documented()
@needs(EVENTS_EDIT)
def cancel(slug: str):
    """Cancel an event; everyone registered is told. Cancelling again changes nothing."""
    event = event_or_problem(slug)
    if event.cancelled_at is not None:
        return {"event": event_json(_row(event)), "told": 0}
    told = cancel_event(event)
    audit_api("event.cancel", f"geannuleerd; {told} aangemelden krijgen bericht", event)
    db.session.commit()
    return {"event": event_json(_row(event)), "told": told}
