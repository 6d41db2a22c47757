"""Recording joins. Services flush, never commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..database import dialect_insert
from ..events.models import Event
from ..extensions import db
from ..registration.models import Registration
from .models import Attendance, AttendanceSource


def join_opens_at(event: Event) -> datetime:
    """When the join link starts to lead to the meeting: when its e-mail is due."""
    return event.starts_at - timedelta(minutes=event.join_link_minutes_before)


def record_join(registration: Registration, now: datetime) -> None:
    """Count a click on the join link; two clicks at once are both counted."""
    statement = dialect_insert(Attendance).values(
        registration_id=registration.id,
        first_joined_at=now,
        last_joined_at=now,
        join_count=1,
        source=AttendanceSource.link,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[Attendance.registration_id],
        set_={
            "last_joined_at": now,
            "join_count": Attendance.join_count + 1,
        },
    )
    db.session.execute(statement)
