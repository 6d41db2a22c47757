"""The mail worker: claim due rows, send them over one connection, mark each.

Several workers may run at once. A claim is committed before any SMTP traffic
and carries a lease (`claimed_until`); rows of a worker that died are claimed
again once the lease runs out, so nothing is lost. Temporary failures (4xx,
connection trouble) are retried with backoff; permanent ones (5xx) fail at once.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_mail import Message
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import joinedload

from ..database import begin_write, is_sqlite, utcnow
from ..extensions import db, mail
from .models import MailStatus, OutgoingMail
from .rendering import Obsolete, render_mail
from .schedules import schedule_due

log = logging.getLogger(__name__)

#: minutes to wait before the next try after the 1st, 2nd, ... temporary failure
BACKOFF_MINUTES = (1, 5, 15, 60)


@dataclass
class PassResult:
    """What one pass of the worker did."""

    #: planned messages (reminders, join links, follow-ups) queued by this pass
    scheduled: int = 0
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    #: the mail server could not be reached or dropped the connection
    connection_error: str = ""
    errors: list[str] = field(default_factory=list)


def _due(now: datetime):
    waiting = and_(
        OutgoingMail.status == MailStatus.pending,
        OutgoingMail.due_at <= now,
        or_(OutgoingMail.next_attempt_at.is_(None), OutgoingMail.next_attempt_at <= now),
    )
    abandoned = and_(OutgoingMail.status == MailStatus.sending, OutgoingMail.claimed_until < now)
    return or_(waiting, abandoned)


def claim_due(now: datetime, limit: int, lease_seconds: int) -> list[int]:
    """Claim up to `limit` due rows for this worker and commit the claim."""
    db.session.rollback()
    begin_write()
    query = select(OutgoingMail.id).where(_due(now)).order_by(OutgoingMail.due_at, OutgoingMail.id)
    query = query.limit(limit)
    if not is_sqlite():
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id.in_(ids), _due(now))
            .values(
                status=MailStatus.sending,
                claimed_until=now + timedelta(seconds=lease_seconds),
                attempts=OutgoingMail.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids


def _mark(row_id: int, **values) -> None:
    begin_write()
    db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == row_id, OutgoingMail.status == MailStatus.sending)
        .values(claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


@dataclass(frozen=True)
class Ready:
    """A claimed row, rendered and ready to send."""

    row_id: int
    attempts: int
    message: Message


def _retry_or_fail(item: Ready, error: str, now: datetime, result: PassResult) -> None:
    if item.attempts > len(BACKOFF_MINUTES):
        _mark(item.row_id, status=MailStatus.failed, last_error=error)
        result.failed += 1
        return
    wait = timedelta(minutes=BACKOFF_MINUTES[item.attempts - 1])
    _mark(item.row_id, status=MailStatus.pending, next_attempt_at=now + wait, last_error=error)
    result.retried += 1


def _prepare(ids: list[int], now: datetime, result: PassResult) -> list[Ready]:
    """Render the claimed rows; mark the ones that no longer make sense."""
    begin_write()
    rows = db.session.scalars(
        select(OutgoingMail)
        .options(joinedload(OutgoingMail.registration))
        .where(OutgoingMail.id.in_(ids))
        .order_by(OutgoingMail.id)
    ).all()
    ready, unsent = [], []
    for row in rows:
        try:
            message = render_mail(row, now)
        except Obsolete as reason:
            unsent.append((row.id, MailStatus.skipped, f"niet verstuurd: {reason}"))
            continue
        if message.has_bad_headers():
            # A line break in an address or subject would add headers; sending
            # would raise and stop the whole batch, so this row fails alone.
            unsent.append((row.id, MailStatus.failed, "niet verstuurd: regeleinde in adres of onderwerp"))
            continue
        row.recipient = message.recipients[0]
        row.message_id = message.msgId
        ready.append(Ready(row.id, row.attempts, message))
    db.session.commit()
    for row_id, status, reason in unsent:
        _mark(row_id, status=status, last_error=reason)
        if status == MailStatus.failed:
            result.failed += 1
        else:
            result.skipped += 1
    return ready


def _smtp_reply(error: smtplib.SMTPException) -> tuple[int, str]:
    """The server's reply code and text, e.g. (550, "5.1.1 no such user")."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = min(error.recipients.values())
    else:
        code, text = getattr(error, "smtp_code", 0), getattr(error, "smtp_error", b"")
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return code, text


def send_claimed(ids: list[int], now: datetime, result: PassResult) -> None:
    """Send claimed rows over one SMTP connection and record each outcome."""
    ready = _prepare(ids, now, result)
    pending = list(ready)
    try:
        with mail.connect() as connection:
            while pending:
                item = pending[0]
                try:
                    connection.send(item.message)
                except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as error:
                    pending.pop(0)
                    _refused(item, error, now, result)
                    continue
                pending.pop(0)
                _mark(item.row_id, status=MailStatus.sent, sent_at=utcnow(), last_error="")
                result.sent += 1
    except (OSError, smtplib.SMTPException) as error:
        result.connection_error = f"{type(error).__name__}: {error}"
        log.warning("mail server unreachable: %s", result.connection_error)
        for item in pending:
            _retry_or_fail(item, result.connection_error, now, result)


def _refused(item: Ready, error: smtplib.SMTPException, now: datetime, result: PassResult) -> None:
    """The server answered with an error: 5xx fails for good, 4xx is tried again."""
    code, reply = _smtp_reply(error)
    text = f"{code} {reply}"
    result.errors.append(text)
    if code >= 500:
        _mark(item.row_id, status=MailStatus.failed, last_error=text)
        result.failed += 1
    else:
        _retry_or_fail(item, text, now, result)


def send_due(now: datetime | None = None, limit: int | None = None) -> PassResult:
    """One pass: send everything that is due now, batch by batch."""
    config = current_app.config
    result = PassResult()
    db.session.rollback()
    begin_write()
    result.scheduled = schedule_due(now or utcnow())
    db.session.commit()
    while True:
        moment = now or utcnow()
        ids = claim_due(moment, limit or config["MAIL_BATCH_SIZE"], config["MAIL_CLAIM_SECONDS"])
        if not ids:
            return result
        result.claimed += len(ids)
        send_claimed(ids, moment, result)
        if result.connection_error:
            return result
