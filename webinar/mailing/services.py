"""Queueing mail in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from ..database import dialect_insert, utcnow
from ..extensions import db
from .kinds import scheduled_kinds
from .models import MailStatus, OutgoingMail


def queue_mail(
    kind: str,
    *,
    recipient: str,
    dedupe_key: str,
    event_id: int | None = None,
    registration_id: int | None = None,
    invitation_id: int | None = None,
    broadcast_id: int | None = None,
    support_request_id: int | None = None,
    due_at: datetime | None = None,
) -> bool:
    """Queue one e-mail; a second call with the same key queues nothing.

    Returns whether a row was added. Nothing is sent until the worker runs,
    and nothing at all if the caller's transaction rolls back.
    """
    statement = (
        dialect_insert(OutgoingMail)
        .values(
            kind=kind,
            dedupe_key=dedupe_key,
            recipient=recipient,
            event_id=event_id,
            registration_id=registration_id,
            invitation_id=invitation_id,
            broadcast_id=broadcast_id,
            support_request_id=support_request_id,
            status=MailStatus.pending,
            due_at=due_at or utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(OutgoingMail.id)
    )
    return db.session.execute(statement).scalar() is not None


def queue_mails(mails: list[dict]) -> None:
    """Queue many e-mails in one statement: each dict holds queue_mail's arguments (the same keys in each).

    Keys already queued are skipped, as with queue_mail.
    """
    if not mails:
        return
    now = utcnow()
    rows = [{"status": MailStatus.pending, "due_at": now} | mail for mail in mails]
    connection = db.session.connection()
    statement = _QUEUE.get(connection.dialect.name)
    if statement is None:
        # The table, not the class: a plain INSERT, without the ORM's bulk machinery.
        statement = _QUEUE[connection.dialect.name] = dialect_insert(OutgoingMail.__table__).on_conflict_do_nothing()
    connection.execute(statement, rows)


#: queue_mails' statement per database dialect, built once
_QUEUE = {}


def skip_unsent_scheduled(event_id: int, reason: str) -> int:
    """Mark the event's planned but unsent messages skipped (the event moved or was cancelled)."""
    result = db.session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.event_id == event_id,
            OutgoingMail.kind.in_(scheduled_kinds()),
            OutgoingMail.status == MailStatus.pending,
        )
        .values(status=MailStatus.skipped, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
