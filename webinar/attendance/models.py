"""Who joined a meeting, and how we know."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime
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
