"""The audit log: who did what in the organiser area, and when. Every domain writes to it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .database import UTCDateTime, utcnow
from .extensions import db


class AuditEntry(db.Model):
    """Who did what in the organiser area, and when."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("organiser.id", ondelete="SET NULL"), index=True
    )
    #: kept when the account is gone
    organiser_email: Mapped[str] = mapped_column(String(254))
    #: e.g. "event.edit", "export.xlsx", "message.send"
    action: Mapped[str] = mapped_column(String(60))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"), index=True)
    #: what changed, in words
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Actor(Protocol):
    """Whoever acted: an organiser (the log needs only the id and the address)."""

    id: int
    email: str


class Subject(Protocol):
    """What the action was about: an event."""

    id: int


def audit(organiser: Actor, action: str, summary: str = "", event: Subject | None = None) -> AuditEntry:
    """Record an organiser action; the entry (not yet flushed)."""
    entry = AuditEntry(
        organiser_id=organiser.id,
        organiser_email=organiser.email,
        action=action,
        event_id=event.id if event else None,
        summary=summary,
    )
    db.session.add(entry)
    return entry
