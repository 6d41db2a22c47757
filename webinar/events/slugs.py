"""Link names ("slugs"): made from the title, unique, and the old ones kept so that old links keep working."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select

from ..extensions import db
from .models import Event, FormerSlug

#: the longest link name (the column's length)
SLUG_MAX = 80
#: what a link name looks like: lower-case letters and digits, single hyphens between them
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
#: letters that do not fall apart into a base letter and an accent
_LETTERS = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "þ": "th", "&": " en "})


def slugify(text: str) -> str:
    """'Café & Één-op-één: de ĳsbreker' -> 'cafe-en-een-op-een-de-ijsbreker' (accents folded, lower case, hyphens).

    An apostrophe joins ("HRM'ers" -> "hrmers"); the result is cut at a hyphen to fit SLUG_MAX.
    """
    folded = unicodedata.normalize("NFKD", text.lower().translate(_LETTERS))
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    plain = re.sub(r"['’‘`´]", "", plain)
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX + 1].rsplit("-", 1)[0] if "-" in slug[:SLUG_MAX] else slug[:SLUG_MAX]
    return slug.strip("-") or "bijeenkomst"


def slug_taken(slug: str, event: Event | None = None) -> bool:
    """Whether another event has this link name, now or before (its old links lead there)."""
    current = db.session.scalar(select(Event.id).where(Event.slug == slug))
    former = db.session.scalar(select(FormerSlug.event_id).where(FormerSlug.slug == slug))
    own = event.id if event is not None else None
    return (current is not None and current != own) or (former is not None and former != own)


def unique_slug(text: str, event: Event | None = None) -> str:
    """A free link name made from `text`: the slug itself, else with -2, -3, ... added."""
    base = slugify(text)
    slug, number = base, 2
    while slug_taken(slug, event):
        suffix = f"-{number}"
        slug = base[:SLUG_MAX - len(suffix)].rstrip("-") + suffix
        number += 1
    return slug


def rename(event: Event, slug: str) -> str | None:
    """Give the event a new link name; returns the old one, or None when nothing changed.

    Raises ValueError with a Dutch message when the name is not valid or taken.
    A published event keeps its old name as a former slug, so links already
    sent lead to the new one; a draft's old name was never public.
    """
    if slug == event.slug:
        return None
    if len(slug) > SLUG_MAX or not SLUG_PATTERN.fullmatch(slug):
        raise ValueError("Gebruik voor de link alleen kleine letters, cijfers en streepjes.")
    if slug_taken(slug, event):
        raise ValueError(f"De link /events/{slug} is al in gebruik. Kies een andere naam.")
    old = event.slug
    own_former = db.session.scalar(select(FormerSlug).where(FormerSlug.slug == slug))
    if own_former is not None:  # back to a name it had before: that one is current again
        db.session.delete(own_former)
    if not event.is_draft():
        db.session.add(FormerSlug(slug=old, event_id=event.id))
    event.slug = slug
    db.session.flush()
    return old


def current_slug(former: str) -> str | None:
    """The link name now of the event that had `former` as its name, or None."""
    return db.session.scalar(
        select(Event.slug).join(FormerSlug, FormerSlug.event_id == Event.id).where(FormerSlug.slug == former)
    )
