"""Who joined a meeting, and how we know."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..registration.models import Registration


class AttendanceSource(enum.Enum):
    link = "link"  # a click on the personal join link
    report = "report"  # an uploaded Teams or Zoom attendance report
    manual = "manual"  # entered by an organiser


class Attendance(db.Model):
    """One registrant's attendance at their event."""

    __tablename__ = "attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), unique=True
    )
    #: first and last time the person joined
    first_joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: how often the join link was used
    join_count: Mapped[int] = mapped_column(Integer, default=1)
    #: minutes present, when a meeting report says so
    minutes_present: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[AttendanceSource] = mapped_column(
        Enum(AttendanceSource, name="attendance_source", native_enum=False, length=20),
        default=AttendanceSource.link,
    )

    registration: Mapped[Registration] = relationship()


class WalkIn(db.Model):
    """Someone in a meeting report who matched no registration: attendance without a registration.

    Counted apart from registrants ("niet aangemeld, wel aanwezig"). When an
    organiser links the line to a registrant (someone who joined with another
    address or device), `registration_id` is set: the minutes then count as that
    registrant's attendance, the line no longer counts as a walk-in, and reading
    the same report again finds the link instead of a new walk-in.
    """

    __tablename__ = "walk_in"
    __table_args__ = (UniqueConstraint("event_id", "key", name="uq_walk_in_event_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    #: who this is in the event's reports: the address in lower case, else "naam:" and the name folded
    key: Mapped[str] = mapped_column(String(340))
    #: the name and address as the report gives them ("" when it gives none)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    #: first and last join by the report (UTC); None when the report has no times
    first_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: minutes present by the report; None when it does not say
    minutes_present: Mapped[int | None] = mapped_column(Integer)
    #: the registrant an organiser linked this line to; None while it is a walk-in
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    #: when a report first brought this line in
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration | None] = relationship()
