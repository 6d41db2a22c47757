"""Forgotten passwords: a single-use link by e-mail, asked for by the organiser or sent by an administrator."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..database import utcnow
from ..extensions import db
from ..mailing.models import MailStatus
from ..mailing.services import queue_mail, queue_mails
from .models import Organiser, PasswordReset
from .services import end_sessions, find_by_token, find_organiser

#: no second link to the same organiser within this time (the first still works): no mail flood
QUIET_TIME = timedelta(minutes=2)
#: why a request sent nothing (no active account with the address, or a link went out minutes ago)
NO_LINK = "niet verstuurd: geen account, of kort geleden al een link"


def request_reset(email: str, valid: timedelta, now: datetime | None = None) -> PasswordReset | None:
    """Queue a reset link for the organiser with this address; None (and nothing sent) for anyone else.

    The caller answers the same either way, so the page tells nobody whether an account exists.
    """
    now = now or utcnow()
    organiser = find_organiser(email)
    recent = db.session.scalar(
        select(PasswordReset.id).where(PasswordReset.organiser_id == (organiser.id if organiser else None),
                                       PasswordReset.created_at > now - QUIET_TIME, PasswordReset.used_at.is_(None)))
    if organiser is None or not organiser.active or recent is not None:
        # As much work as a link that goes out (a row written, then the caller's commit), so that the time of
        # the answer does not tell whether the account exists either. The row keeps no address.
        queue_mails([{"kind": "password_reset", "recipient": "", "dedupe_key": f"password_reset:none:{uuid.uuid4().hex}",
                      "status": MailStatus.skipped, "last_error": NO_LINK}])
        return None
    return _queue_reset(organiser, None, valid, now)


def send_reset(administrator: Organiser, organiser: Organiser, valid: timedelta,
               now: datetime | None = None) -> PasswordReset:
    """An administrator sends an organiser a reset link. ValueError (Dutch) for an inactive account."""
    if not organiser.active:
        raise ValueError(f"Het account van {organiser.email} is uitgeschakeld.")
    return _queue_reset(organiser, administrator, valid, now or utcnow())


def _queue_reset(organiser: Organiser, administrator: Organiser | None, valid: timedelta,
                 now: datetime) -> PasswordReset:
    reset = PasswordReset(organiser_id=organiser.id, requested_by_id=administrator.id if administrator else None,
                          created_at=now, expires_at=now + valid)
    db.session.add(reset)
    db.session.flush()
    queue_mail("password_reset", recipient=organiser.email, dedupe_key=f"password_reset:{reset.id}")
    return reset


def open_reset(token: str, now: datetime | None = None) -> PasswordReset | None:
    """The reset for a link, if it is unused, not expired, and its account active."""
    now = now or utcnow()
    reset = find_by_token(PasswordReset, token)
    if reset is None or reset.used_at or reset.expires_at <= now or not reset.organiser.active:
        return None
    return reset


def use_reset(reset: PasswordReset, password: str, now: datetime | None = None) -> Organiser:
    """Set the new password (WeakPassword in Dutch if it breaks the rule); every link and session ends."""
    now = now or utcnow()
    organiser = reset.organiser
    organiser.set_password(password)
    db.session.execute(update(PasswordReset).where(PasswordReset.organiser_id == organiser.id,
                                                   PasswordReset.used_at.is_(None)).values(used_at=now))
    organiser.failed_logins = 0
    end_sessions(organiser)
    return organiser
