"""Finding the event a page is about: by the slug in its URL, or the 404 page."""

from __future__ import annotations

from flask import abort
from sqlalchemy import Row, bindparam, select

from ..extensions import db
from .models import Event

#: built once: every public page and form looks its event up by slug
_BY_SLUG = select(Event).where(Event.slug == bindparam("slug"))
_VALUES_BY_SLUG = select(Event.__table__).where(Event.__table__.c.slug == bindparam("slug"))


def event_or_404(slug: str) -> Event:
    """The event with this slug, or the 404 page."""
    event = db.session.execute(_BY_SLUG, {"slug": slug}).scalar()
    if event is None:
        abort(404)
    return event


def event_values_or_404(slug: str) -> Row:
    """The stored values of the event with this slug, or the 404 page.

    A row of the event table (attributes named after its columns), read on
    the session's connection without building an object: for the
    registration POST, which needs the event's id and roles, and its full
    object only to show the page again.
    """
    found = db.session.connection().execute(_VALUES_BY_SLUG, {"slug": slug}).first()
    if found is None:
        abort(404)
    return found
