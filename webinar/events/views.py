"""Public event pages: the list, one event with its form, the calendar file."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template
from sqlalchemy import select

from ..database import utcnow
from ..extensions import db
from ..registration.forms import LostLinkForm, RegistrationForm
from .ics import build_calendar, google_calendar_url, office_calendar_url, outlook_calendar_url
from .lookup import event_or_404
from .models import Event
from .services import Phase, places_left, registration_phase

bp = Blueprint("events", __name__)


def render_event_page(
    event: Event,
    form: RegistrationForm | None = None,
    status: int = 200,
    lost_form: LostLinkForm | None = None,
):
    """The event page with its registration form (or why there is none)."""
    free = places_left(event)
    phase = registration_phase(event, utcnow(), free)
    if form is None and phase in (Phase.open, Phase.full):
        form = RegistrationForm(event)
    if lost_form is None and phase not in (Phase.ended, Phase.cancelled):
        lost_form = LostLinkForm()
    page = render_template(
        "events/show.html",
        event=event,
        phase=phase,
        Phase=Phase,
        places_left=free,
        form=form,
        lost_form=lost_form,
        google_url=google_calendar_url(event),
        outlook_url=outlook_calendar_url(event),
        office_url=office_calendar_url(event),
    )
    return page, status


@bp.get("/")
def index():
    """Upcoming events."""
    events = db.session.scalars(
        select(Event)
        .where(Event.ends_at > utcnow(), Event.cancelled_at.is_(None))
        .order_by(Event.starts_at)
    ).all()
    return render_template("events/index.html", events=events)


@bp.get("/events/<slug>")
def show(slug: str):
    """One event: what, when, for whom, and the form."""
    return render_event_page(event_or_404(slug))


@bp.get("/events/<slug>.ics")
def calendar(slug: str):
    """The event as a calendar file."""
    event = event_or_404(slug)
    method = "CANCEL" if event.cancelled_at else "PUBLISH"
    return Response(
        build_calendar(event, method=method),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{event.slug}.ics"'},
    )


@bp.get("/privacy")
def privacy():
    """What is stored about registrants, why, and for how long."""
    return render_template("privacy.html", dagen=current_app.config["PRIVACY_PURGE_DAYS"])


@bp.get("/favicon.ico")
def favicon():
    """The site's icon, where browsers look for it without being told."""
    return current_app.send_static_file("favicon.ico")
