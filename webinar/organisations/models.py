"""Organisations as the organiser corrected them, and the keys that map registrations and requests to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class Organisation(db.Model):
    """An organisation an organiser corrected or merged; the rest are grouped by key alone."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the name shown in every report
    name: Mapped[str] = mapped_column(String(200))
    #: one of ORGANISATION_TYPES, or "" (onbekend)
    organisation_type: Mapped[str] = mapped_column(String(50), default="")
    #: normal form ("12AB01"), or ""
    brin: Mapped[str] = mapped_column(String(6), default="")
    #: a key of SECTORS, or "": then the sector its registrations and requests give
    sector: Mapped[str] = mapped_column(String(10), default="")
    #: for a school: its board
    board_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    keys: Mapped[list[OrganisationKey]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", passive_deletes=True,
        order_by="OrganisationKey.key",
    )


class OrganisationKey(db.Model):
    """One key ("brin:12AB01" or "naam:obs de linde") that belongs to an organisation."""

    __tablename__ = "organisation_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    #: a registration or request whose BRIN (or, without one, whose name) has this key belongs here
    key: Mapped[str] = mapped_column(String(220), unique=True)

    organisation: Mapped[Organisation] = relationship(back_populates="keys")
