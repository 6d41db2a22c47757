"""Attendance through the API: who joined, and reading a Teams or Zoom report as the organiser's page does."""

from __future__ import annotations

import binascii
from base64 import b64decode

from sqlalchemy import select

from ..attendance.models import Attendance
from ..attendance.report_files import parse_report
from ..attendance.services import other_day
from ..attendance.walk_ins import count_walk_ins
from ..dutch import local
from ..extensions import db
from ..organiser.attendance_import import store_report
from ..organiser.roles import ATTENDANCE_EDIT, EVENTS_VIEW
from ..registration.models import Registration
from . import bp
from .auth import current_token, needs
from .common import documented, event_or_problem
from .problems import problem
from .schemas import AttendanceList, ReportResult, ReportUpload


@bp.get("/events/<slug>/attendance")
@bp.response(200, AttendanceList)
@documented()
@needs(EVENTS_VIEW)
def list_attendance(slug: str):
    """Who joined: one line per registrant, by registration id; and how many came without registering."""
    event = event_or_problem(slug)
    found = db.session.scalars(select(Attendance).join(Registration).where(Registration.event_id == event.id)
                               .order_by(Attendance.registration_id))
    items = [{"registration_id": row.registration_id, "first_joined_at": row.first_joined_at,
              "last_joined_at": row.last_joined_at, "join_count": row.join_count,
              "minutes_present": row.minutes_present, "source": row.source.value} for row in found]
    return {"items": items, "walk_ins": count_walk_ins(event)}


@bp.post("/events/<slug>/attendance/report")
@bp.arguments(ReportUpload)
@bp.response(200, ReportResult)
@documented(409, 422)
@needs(ATTENDANCE_EDIT)
def import_report(values: dict, slug: str):
    """Read a Teams or Zoom attendance report (CSV, base64). Reading the same report again changes nothing.

    A report of another day than the meeting's is refused (409) unless `other_day_ok` is true.
    """
    event = event_or_problem(slug)
    try:
        data = b64decode(values["report"], validate=True)
    except (binascii.Error, ValueError):
        return problem(422, errors=[{"field": "report", "message": "Dit is geen geldige base64-tekst."}])
    report = parse_report(data, meeting_date=local(event.starts_at).date())
    if report.error:
        return problem(422, errors=[{"field": "report", "message": report.error}])
    day = other_day(event, report)
    if day and not values.get("other_day_ok"):
        return problem(409, f"Het rapport is van {day:%d-%m-%Y}, niet van de dag van de bijeenkomst. "
                            "Stuur other_day_ok: true mee om het toch in te lezen.")
    result, walk_ins = store_report(event, report, current_token().organiser, day)
    db.session.commit()
    return {"matched": len(result.matched), "not_confirmed": len(result.not_confirmed), "walk_ins": len(walk_ins),
            "failed": len(result.failed), "other_day": day}
