"""Anonymous counts that outlive the registrations they were counted from."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

#: the status of the count of walk-ins (in a report without a registration; no role or type)
WALK_IN = "walk_in"


class EventStatistic(db.Model):
    """How many of an event's registrations had one combination of status, role, organisation type, sector,
    organisation, and whether they joined and were present at least the minimum."""

    __tablename__ = "event_statistic"
    __table_args__ = (
        UniqueConstraint(
            "event_id", "status", "role", "organisation_type", "joined", "sector", "organisation_key",
            "organisation_name", "present", name="uq_event_statistic_group",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    #: the registration status at the purge: confirmed, waitlisted or cancelled; or WALK_IN
    status: Mapped[str] = mapped_column(String(20))
    #: one of the event's roles or "Anders" (the free-text description is not kept)
    role: Mapped[str] = mapped_column(String(100))
    #: school board, school, ...; empty when not given
    organisation_type: Mapped[str] = mapped_column(String(50))
    #: whether these registrants joined the meeting
    joined: Mapped[bool] = mapped_column(Boolean)
    #: the registration's own sector (a key of SECTORS), or ""
    sector: Mapped[str] = mapped_column(String(10), default="")
    #: the key the registration was matched to its organisation by: "brin:12AB01" or "naam:obs de linde"
    organisation_key: Mapped[str] = mapped_column(String(220), default="")
    #: the organisation's name as given, spaces tidied (a school's name is no personal data)
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    #: whether present at least the minimum (see attendance.presence.presence_minimum)
    present: Mapped[bool] = mapped_column(Boolean, default=False)
    #: how many registrations
    count: Mapped[int] = mapped_column(Integer)
