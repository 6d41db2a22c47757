"""Finding the event a page is about: by the slug in its URL, or the 404 page."""

from __future__ import annotations

from flask import abort
from sqlalchemy import Row, bindparam, select

from ..extensions import db
from .models import Event

#: built once: every public page and form looks its event up by slug
_BY_SLUG = select(Event).where(Event.slug == bindparam("slug"))
#: what a registration form needs of its event: the id, and the roles to choose from
_ID_AND_ROLES_BY_SLUG = select(Event.__table__.c.id, Event.__table__.c.roles).where(
    Event.__table__.c.slug == bindparam("slug"))


def event_or_404(slug: str) -> Event:
    """The event with this slug, or the 404 page."""
    event = db.session.execute(_BY_SLUG, {"slug": slug}).scalar()
    if event is None:
        abort(404)
    return event


def event_id_and_roles_or_404(slug: str) -> Row:
    """The id and roles of the event with this slug (a row with those two attributes), or the 404 page.

    For the registration POST: read on the session's connection without
    building an object (the phase and places are read under the lock).
    """
    found = db.session.connection().execute(_ID_AND_ROLES_BY_SLUG, {"slug": slug}).first()
    if found is None:
        abort(404)
    return found
