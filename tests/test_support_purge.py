"""Support requests: closed requests are purged after the configured time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from helpers import NOW, make_request, stored
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.support.models import SupportRequest, SupportSchool, SupportStatus
from webinar.support.services import purge_closed_requests


# -- the purge ----------------------------------------------------------------------------


def test_closed_requests_are_purged_after_the_configured_time(app, frozen):
    app.config["SUPPORT_PURGE_DAYS"] = 180
    done_long_ago = make_request("a" * 32)
    done_long_ago.status_note = "Uw school krijgt een adviseur uit de regio."
    declined_long_ago = make_request("b" * 32)
    done_recently = make_request("c" * 32)
    open_long_ago = make_request("d" * 32)
    for request, status, days in ((done_long_ago, SupportStatus.done, 181),
                                  (declined_long_ago, SupportStatus.declined, 180),
                                  (done_recently, SupportStatus.done, 179)):
        request.status, request.closed_at = status, NOW - timedelta(days=days)
    open_long_ago.created_at = NOW - timedelta(days=900)
    db.session.commit()
    kept = {done_recently.id, open_long_ago.id}

    assert purge_closed_requests(NOW) == 2
    db.session.commit()
    assert {request.id for request in stored()} == kept
    assert set(db.session.scalars(select(SupportSchool.request_id))) == kept
    assert set(db.session.scalars(select(OutgoingMail.support_request_id))) == kept  # their mail goes too
    notes = set(db.session.scalars(select(SupportRequest.status_note)))
    assert "Uw school krijgt een adviseur uit de regio." not in notes  # the note to the requester goes with it
    assert purge_closed_requests(NOW) == 0
