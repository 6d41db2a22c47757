"""Finding the event a page is about: by the slug in its URL, or the 404 page.

Public pages find published events only: a draft has no public page. A link
name an event had before leads, permanently, to the same page under its name now.
"""

from __future__ import annotations

from collections import namedtuple
from typing import NoReturn

from flask import abort, redirect, request, url_for
from sqlalchemy import bindparam, select

from ..database import rows_on_driver
from ..extensions import db
from .models import Event
from .slugs import current_slug

#: built once: the organiser's pages look their event up by slug, drafts included
_BY_SLUG = select(Event).where(Event.slug == bindparam("slug"))
#: built once: every public page and form looks its published event up by slug
_PUBLISHED_BY_SLUG = _BY_SLUG.where(Event.published_at.is_not(None))
#: what a registration form needs of its event: the id, and the roles to choose from
_ID_AND_ROLES_BY_SLUG = select(Event.__table__.c.id, Event.__table__.c.roles).where(
    Event.__table__.c.slug == bindparam("slug"), Event.__table__.c.published_at.is_not(None))
_IdAndRoles = namedtuple("_IdAndRoles", ("id", "roles"))


def not_found(slug: str) -> NoReturn:
    """The page under the event's name now when `slug` is a name it had before; else the 404 page.

    A GET is moved permanently (301); a form posted to the old address is sent on as it is (308).
    """
    moved_to = current_slug(slug)
    if moved_to is None:
        abort(404)
    location = url_for(request.endpoint, **{**(request.view_args or {}), "slug": moved_to})
    if request.query_string:  # as it came, repeated arguments too
        location += "?" + request.query_string.decode("latin-1")
    abort(redirect(location, 301 if request.method in ("GET", "HEAD") else 308))


def event_or_404(slug: str) -> Event:
    """The event with this slug, a draft too (for organisers); or the 404 page."""
    event = db.session.execute(_BY_SLUG, {"slug": slug}).scalar()
    if event is None:
        not_found(slug)
    return event


def published_event_or_404(slug: str) -> Event:
    """The published event with this slug, or the 404 page (also for a draft)."""
    event = db.session.execute(_PUBLISHED_BY_SLUG, {"slug": slug}).scalar()
    if event is None:
        not_found(slug)
    return event


def event_id_and_roles_or_404(slug: str) -> _IdAndRoles:
    """The id and roles of the published event with this slug (a row with those two attributes), or the 404 page.

    For the registration POST: read on the session's driver connection
    without building an object (database.rows_on_driver; the phase and
    places are read under the lock).
    """
    found = rows_on_driver(db.session.connection(), _ID_AND_ROLES_BY_SLUG, {"slug": slug})
    if not found:
        not_found(slug)
    return _IdAndRoles(*found[0])
