"""Queueing mail in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..database import utcnow
from ..extensions import db
from .models import MailStatus, OutgoingMail


def queue_mail(
    kind: str,
    *,
    recipient: str,
    dedupe_key: str,
    event_id: int | None = None,
    registration_id: int | None = None,
    due_at: datetime | None = None,
) -> bool:
    """Queue one e-mail; a second call with the same key queues nothing.

    Returns whether a row was added. Nothing is sent until the worker runs,
    and nothing at all if the caller's transaction rolls back.
    """
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(OutgoingMail)
        .values(
            kind=kind,
            dedupe_key=dedupe_key,
            recipient=recipient,
            event_id=event_id,
            registration_id=registration_id,
            status=MailStatus.pending,
            due_at=due_at or utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(OutgoingMail.id)
    )
    return db.session.execute(statement).scalar() is not None
