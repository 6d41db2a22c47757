"""Finding the event a page is about: by the slug in its URL, or the 404 page."""

from __future__ import annotations

from flask import abort
from sqlalchemy import bindparam, select

from ..extensions import db
from .models import Event

#: built once: every public page and form looks its event up by slug
_BY_SLUG = select(Event).where(Event.slug == bindparam("slug"))


def event_or_404(slug: str) -> Event:
    """The event with this slug, or the 404 page."""
    event = db.session.execute(_BY_SLUG, {"slug": slug}).scalar()
    if event is None:
        abort(404)
    return event
