"""The personal join link /j/<token>: the meeting URL only inside the join window."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template

from ..database import utcnow
from ..extensions import db
from ..registration.models import RegistrationStatus, TokenPurpose
from ..registration.tokens import registration_for_token
from .services import record_join

bp = Blueprint("attendance", __name__)


@bp.get("/j/<token>")
def join(token: str):
    """Before the window: when it opens. In it: record the join and go. After: it ended."""
    registration = registration_for_token(token, TokenPurpose.join)
    if registration is None:
        abort(404, description="token")
    event = registration.event
    now = utcnow()
    opens = event.join_opens_at()
    state = None
    if event.cancelled_at is not None:
        state = "cancelled_event"
    elif registration.status == RegistrationStatus.cancelled:
        state = "cancelled"
    elif registration.status == RegistrationStatus.waitlisted:
        state = "waitlisted"
    elif now >= event.ends_at:
        state = "ended"
    elif now < opens:
        state = "early"
    elif not event.meeting_url:
        state = "no_url"
    if state:
        return render_template("attendance/join.html", state=state, event=event, opens=opens)
    record_join(registration, now)
    db.session.commit()
    return redirect(event.meeting_url, code=303)
