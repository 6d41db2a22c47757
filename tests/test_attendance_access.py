"""Attendance pages are for organisers only."""

from __future__ import annotations

import io

import pytest

from helpers import (
    ANNA,
    BRAM,
    ZOOM_REPORT,
    attendance_counts as counts,
    attendance_of,
    register_attendee as register,
)
from webinar.attendance.models import AttendanceSource
from webinar.attendance.services import set_attendance_by_hand
from webinar.extensions import db


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "", None),
        ("POST", "/rapport", "upload"),
        ("POST", "/{id}", {"aanwezig": "nee"}),
        ("POST", "/{id}", {"aanwezig": "ja"}),
    ],
    ids=["page", "import", "absent", "present"],
)
def test_anonymous_visitors_are_sent_to_log_in_and_change_nothing(client, event, method, path, data):
    anna = register(client, event, ANNA)
    bram = register(client, event, BRAM, first_name="Bram", tussenvoegsel="", last_name="Smit")
    set_attendance_by_hand(anna, True)
    db.session.commit()
    before = counts()
    target = bram if data == {"aanwezig": "ja"} else anna
    url = f"/organiser/events/{event.slug}/aanwezigheid" + path.format(id=target.id)
    if data == "upload":
        response = client.post(url, data={"report": (io.BytesIO(ZOOM_REPORT), "rapport.csv")},
                               content_type="multipart/form-data")
    else:
        response = client.open(url, method=method, data=data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/organiser/login")
    assert counts() == before
    assert attendance_of(anna).source == AttendanceSource.manual
    assert attendance_of(bram) is None
