"""Organiser sessions kept on the server: each logged-in browser is a row, so it can be listed and ended."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from ..database import utcnow
from ..extensions import db
from ..tokens import hash_token, new_token
from .models import Organiser, OrganiserSession

#: "last seen" is written at most this often, not on every page
TOUCH_EVERY = timedelta(minutes=1)
#: a session row (browser and address) is deleted this long after it was last used
KEPT = timedelta(days=30)


def open_session(organiser: Organiser, user_agent: str, address: str, now: datetime | None = None) -> str:
    """A new session row; the key for the session cookie (only its hash is stored).

    The organiser's rows unused for KEPT go: browsers and addresses are not kept longer than useful.
    """
    now = now or utcnow()
    db.session.execute(delete(OrganiserSession).where(OrganiserSession.organiser_id == organiser.id,
                                                      OrganiserSession.last_seen_at < now - KEPT))
    key = new_token()
    db.session.add(OrganiserSession(organiser_id=organiser.id, key_hash=hash_token(key), user_agent=user_agent[:300],
                                    address=address[:64], created_at=now, last_seen_at=now))
    db.session.flush()
    return key


def find_session(organiser: Organiser, key: str | None) -> OrganiserSession | None:
    """The organiser's session with this key, if it was not ended."""
    if not key:
        return None
    row = db.session.scalar(select(OrganiserSession).where(OrganiserSession.key_hash == hash_token(key)))
    if row is None or row.organiser_id != organiser.id or row.ended_at is not None:
        return None
    return row


def needs_touch(row: OrganiserSession, now: datetime) -> bool:
    """Whether "last seen" is old enough to be written again."""
    return now - row.last_seen_at >= TOUCH_EVERY


def touch(session_id: int, now: datetime) -> None:
    """Record that the session was used now."""
    db.session.execute(update(OrganiserSession).where(OrganiserSession.id == session_id).values(last_seen_at=now))


def end_session(key: str | None, now: datetime | None = None) -> None:
    """End the session with this key (logging out)."""
    if key:
        db.session.execute(update(OrganiserSession).where(OrganiserSession.key_hash == hash_token(key),
                                                          OrganiserSession.ended_at.is_(None))
                           .values(ended_at=now or utcnow()))


def end_all_sessions(organiser: Organiser, keep: OrganiserSession | None = None, now: datetime | None = None) -> int:
    """End the organiser's sessions (all but `keep`); how many were open."""
    statement = update(OrganiserSession).where(OrganiserSession.organiser_id == organiser.id,
                                               OrganiserSession.ended_at.is_(None))
    if keep is not None:
        statement = statement.where(OrganiserSession.id != keep.id)
    return db.session.execute(statement.values(ended_at=now or utcnow())).rowcount


def active_sessions(organiser: Organiser, idle: timedelta, longest: timedelta,
                    now: datetime | None = None) -> list[OrganiserSession]:
    """The organiser's sessions that still work: not ended, not idle too long, not older than allowed."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(OrganiserSession)
        .where(OrganiserSession.organiser_id == organiser.id, OrganiserSession.ended_at.is_(None),
               OrganiserSession.last_seen_at > now - idle, OrganiserSession.created_at > now - longest)
        .order_by(OrganiserSession.last_seen_at.desc())
    ))
