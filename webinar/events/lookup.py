"""Finding the event a page is about: by the slug in its URL, or the 404 page."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from .models import Event


def event_or_404(slug: str) -> Event:
    """The event with this slug, or the 404 page."""
    return db.first_or_404(select(Event).where(Event.slug == slug))
