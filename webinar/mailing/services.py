"""Queueing mail in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, String, cast, literal, select, update

from ..database import UTCDateTime, dialect_insert, utcnow
from ..events.models import Event
from ..extensions import db
from ..registration.models import Registration
from .models import MailStatus, OutgoingMail

#: kinds planned from the event's schedule; moving the event makes unsent ones stale
SCHEDULED_KINDS = ("reminder", "join_link", "followup_joined", "followup_missed")


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
    db.session.execute(dialect_insert(OutgoingMail).on_conflict_do_nothing(), rows)


def queue_for_registrations(event: Event, kind: str, condition, *, due_at: datetime, **columns) -> int:
    """Queue one `kind` mail for each of the event's registrations matching `condition`.

    The key carries the event version, so running it again queues nothing and
    a moved event gets its messages anew. `columns` are further values per row
    (SQL expressions). Returns how many rows were added.
    """
    key = literal(f"{kind}:", String) + cast(Registration.id, String) + literal(f":v{event.version}", String)
    rows = select(Registration.id).where(Registration.event_id == event.id, condition)
    return queue_from_select(rows, kind=kind, key=key, event=event, due_at=due_at,
                             event_version=literal(event.version), **columns)


def queue_from_select(rows: Select, *, kind: str, key, event: Event, due_at: datetime, **columns) -> int:
    """One INSERT ... SELECT: an outbox row per registration in `rows`; keys already queued are skipped."""
    values = {
        "kind": literal(kind, String),
        "dedupe_key": key,
        "event_id": literal(event.id),
        "registration_id": Registration.id,
        "recipient": Registration.email,
        "status": literal(MailStatus.pending, OutgoingMail.__table__.c.status.type),
        "due_at": literal(due_at, UTCDateTime),
        "attempts": literal(0),
        "last_error": literal("", String),
        "message_id": literal("", String),
        "created_at": literal(utcnow(), UTCDateTime),
        **columns,
    }
    statement = (
        dialect_insert(OutgoingMail)
        .from_select(list(values), rows.with_only_columns(*(value.label(name) for name, value in values.items())))
        .on_conflict_do_nothing()
        .returning(OutgoingMail.id)
    )
    return len(db.session.execute(statement).all())


def skip_unsent_scheduled(event: Event, reason: str) -> int:
    """Mark the event's planned but unsent messages skipped (the event moved or was cancelled)."""
    result = db.session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.event_id == event.id,
            OutgoingMail.kind.in_(SCHEDULED_KINDS),
            OutgoingMail.status == MailStatus.pending,
        )
        .values(status=MailStatus.skipped, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
