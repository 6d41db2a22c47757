"""Attendance: marking registrants present or absent by hand."""

from __future__ import annotations

from sqlalchemy import select

from helpers import (
    ANNA,
    BRAM,
    ZOOM_REPORT,
    amsterdam_at as at,
    attendance_counts as counts,
    attendance_of,
    mark_attendance as mark,
    register_attendee as register,
    upload_report as upload,
)
from webinar.attendance.models import AttendanceSource
from webinar.extensions import db
from webinar.audit import AuditEntry
from webinar.registration.models import RegistrationStatus


# ---------------------------------------------------------------- by hand


def test_marking_present_and_absent_by_hand(organiser_client, event):
    anna = register(organiser_client, event, ANNA)
    response = mark(organiser_client, event, anna, "ja")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/aanwezigheid#aanmelding-{anna.id}")
    row = attendance_of(anna)
    assert (row.source, row.join_count, row.minutes_present) == (AttendanceSource.manual, 0, None)
    page = organiser_client.get(f"/organiser/events/{event.slug}/aanwezigheid").get_data(as_text=True)
    assert "Anna van den Berg staat op aanwezig." in page and "met de hand" in page
    assert "1 van de 1 aangemelden namen deel." in page

    # Present again changes nothing; a report then brings its times.
    mark(organiser_client, event, anna, "ja")
    upload(organiser_client, event, ZOOM_REPORT)
    row = attendance_of(anna)
    assert (row.source, row.first_joined_at, row.minutes_present) == (AttendanceSource.report, at(15, 58, 12), 73)

    # With a report's data, absent asks first (see test_attendance_walk_ins.py); confirmed, it forgets.
    asked = mark(organiser_client, event, anna, "nee")
    assert asked.headers["Location"].endswith(f"/aanwezigheid/{anna.id}/niet-aanwezig")
    assert attendance_of(anna) is not None
    confirmed = organiser_client.post(f"/organiser/events/{event.slug}/aanwezigheid/{anna.id}",
                                      data={"aanwezig": "nee", "bevestigd": "ja"})
    assert confirmed.status_code == 302
    assert attendance_of(anna) is None
    db.session.rollback()
    actions = db.session.scalars(select(AuditEntry.summary).where(AuditEntry.action == "attendance.manual")).all()
    who = f"{anna.full_name} ({anna.organisation})"
    assert actions == [f"{who} met de hand op aanwezig gezet", f"{who} met de hand op niet aanwezig gezet"]


def test_by_hand_refuses_what_does_not_fit(organiser_client, event):
    anna = register(organiser_client, event, ANNA)
    bram = register(organiser_client, event, BRAM, first_name="Bram", tussenvoegsel="", last_name="Smit",
                    status=RegistrationStatus.waitlisted)
    assert mark(organiser_client, event, anna, "misschien").status_code == 400
    assert mark(organiser_client, event, bram, "ja").status_code == 409
    other = organiser_client.post("/organiser/events/bestaat-niet/aanwezigheid/1", data={"aanwezig": "ja"})
    assert other.status_code == 404
    missing = organiser_client.post(f"/organiser/events/{event.slug}/aanwezigheid/999999", data={"aanwezig": "ja"})
    assert missing.status_code == 404
    assert counts()[0] == 0
