"""Public event pages: the list and the calendar file (one event's page is registration's)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template
from sqlalchemy import select

from ..database import utcnow
from ..extensions import db
from .ics import build_calendar
from .lookup import published_event_or_404
from .models import Event
from .services import status_words

bp = Blueprint("events", __name__)


@bp.get("/")
def index():
    """Upcoming published events, the next first, each with its status ("vol", "gesloten", ...)."""
    now = utcnow()
    events = db.session.scalars(
        select(Event)
        .where(Event.ends_at > now, Event.cancelled_at.is_(None), Event.published_at.is_not(None))
        .order_by(Event.starts_at)
    ).all()
    return render_template("events/index.html", events=events, statuses=status_words(events, now))


@bp.get("/events/<slug>.ics")
def calendar(slug: str):
    """The event as a calendar file (published events only)."""
    event = published_event_or_404(slug)
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
