"""The outbox: every e-mail the service sends is first a row here."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class MailStatus(enum.Enum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    skipped = "skipped"
    #: sent, and then returned by the recipient's server: the address does not work
    bounced = "bounced"

    @property
    def label(self) -> str:
        """What organisers read, in Dutch."""
        return MAIL_STATUS_LABELS[self]


MAIL_STATUS_LABELS = {
    MailStatus.pending: "In de wachtrij",
    MailStatus.sending: "Wordt verstuurd",
    MailStatus.sent: "Verstuurd",
    MailStatus.failed: "Mislukt",
    MailStatus.skipped: "Overgeslagen",
    MailStatus.bounced: "Onbestelbaar",
}


class OutgoingMail(db.Model):
    """One e-mail to one recipient, queued in the transaction that caused it."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        Index("ix_outgoing_mail_due", "status", "due_at"),
        # a bounce names the returned message by its Message-ID when its envelope address was lost
        Index("ix_outgoing_mail_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: which template pair renders it: confirmation, waitlisted, promoted, ...
    kind: Mapped[str] = mapped_column(String(40))
    #: never the same message twice: e.g. "confirmation:42:1"
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), index=True)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    #: for an organiser invitation
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    #: for a message an organiser wrote to a group of registrants
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcast.id", ondelete="CASCADE"), index=True
    )
    #: for a support request (confirmation, notice to the project lead, status change)
    support_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("support_request.id", ondelete="CASCADE"), index=True
    )
    #: for scheduled mail: the event version it was planned for (stale after a move)
    event_version: Mapped[int | None] = mapped_column(Integer)
    #: for a new-time mail: the start and end the registrant last knew (before this move, or before
    #: an earlier move whose mail they never got)
    previous_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the address at queue time; a registration's current address wins at send time
    recipient: Mapped[str] = mapped_column(String(254))
    status: Mapped[MailStatus] = mapped_column(
        Enum(MailStatus, name="mail_status", native_enum=False, length=20),
        default=MailStatus.pending,
    )
    #: not to be sent before this moment
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: delivery attempts so far
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: after a temporary failure: not to be tried again before this moment
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: while sending: the worker's claim runs out at this moment
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the last SMTP or connection error
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: the Message-ID of the sent message
    message_id: Mapped[str] = mapped_column(String(250), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: when it was marked sent, with its group: at most about MAIL_MARK_SECONDS after the server accepted it
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # By class name: mailing knows no feature; each class is mapped by its own domain.
    event = relationship("Event")
    registration = relationship("Registration")
    invitation = relationship("Invitation")
    broadcast = relationship("Broadcast")
    support_request = relationship("SupportRequest")

    def __repr__(self) -> str:
        return f"<OutgoingMail {self.id} {self.kind} {self.status.value}>"


class MailWorker(db.Model):
    """A mail worker process as it last reported itself: one row per host and process id."""

    __tablename__ = "mail_worker"
    __table_args__ = (UniqueConstraint("host", "pid", name="uq_mail_worker_host_pid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the machine's name
    host: Mapped[str] = mapped_column(String(255))
    #: the process id on that machine
    pid: Mapped[int] = mapped_column(Integer)
    #: its first pass
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the end of its latest pass: it is alive while this is recent
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: messages its latest pass sent
    last_sent: Mapped[int] = mapped_column(Integer, default=0)
    #: messages sent by all its passes
    total_sent: Mapped[int] = mapped_column(Integer, default=0)
    #: why its latest pass failed (the mail server or the database unreachable), or ""
    last_error: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<MailWorker {self.host}:{self.pid}>"
