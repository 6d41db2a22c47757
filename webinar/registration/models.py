"""Registration and the hashed personal-link tokens that point at it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..events.models import Event
from ..extensions import db


ORGANISATION_TYPES = [
    "Schoolbestuur",
    "School",
    "Gemeente",
    "Samenwerkingsverband",
    "Anders",
]
#: the sector a registrant may give (optional), key -> label; support requests use the first three keys too
SECTORS = {
    "po": "Primair onderwijs (po)",
    "vo": "Voortgezet onderwijs (vo)",
    "so_vso": "(Voortgezet) speciaal onderwijs (so/vso)",
    "meerdere": "Meerdere sectoren",
}
#: shown for a registration without a sector
UNKNOWN_SECTOR = "Onbekend"
#: the type for which a board name is asked
SCHOOL = "School"
#: shown for a registration from before the type was asked ("" in the database)
UNKNOWN_TYPE = "Onbekend"


class RegistrationStatus(enum.Enum):
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    cancelled = "cancelled"


STATUS_LABELS = {
    RegistrationStatus.confirmed: "Aangemeld",
    RegistrationStatus.waitlisted: "Op de wachtlijst",
    RegistrationStatus.cancelled: "Afgemeld",
}


class TokenPurpose(enum.Enum):
    manage = "manage"
    join = "join"


class Registration(db.Model):
    """One person's registration for one event."""

    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("event_id", "email_normalized", name="uq_registration_event_email"),
        Index("ix_registration_event_status", "event_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    #: confirmed, waitlisted or cancelled
    status: Mapped[RegistrationStatus] = mapped_column(
        Enum(RegistrationStatus, name="registration_status", native_enum=False, length=20)
    )
    first_name: Mapped[str] = mapped_column(String(100))
    #: "van", "de", "van den": kept apart so lists sort on the last name
    tussenvoegsel: Mapped[str] = mapped_column(String(30), default="")
    last_name: Mapped[str] = mapped_column(String(100))
    #: the address as given (domain in lower case)
    email: Mapped[str] = mapped_column(String(254))
    #: the address in lower case; unique per event
    email_normalized: Mapped[str] = mapped_column(String(254))
    organisation: Mapped[str] = mapped_column(String(200))
    #: school board, school, municipality, ... (see ORGANISATION_TYPES); "" on rows from before it was asked
    organisation_type: Mapped[str] = mapped_column(String(50), default="")
    #: the organisation's BRIN code as given, normal form ("12AB" or "12AB01"), or ""
    brin: Mapped[str] = mapped_column(String(6), default="")
    #: for a school: the name of its board (bestuur) as given, or ""
    board_name: Mapped[str] = mapped_column(String(200), default="")
    #: a key of SECTORS, or "" (not given)
    sector: Mapped[str] = mapped_column(String(10), default="")
    #: one of the event's roles, or "Anders"
    role: Mapped[str] = mapped_column(String(100))
    #: the registrant's own description when the role is "Anders"
    role_other: Mapped[str] = mapped_column(String(100), default="")
    #: an optional question for the speakers
    question: Mapped[str] = mapped_column(Text, default="")
    #: when the registrant acknowledged the privacy statement
    privacy_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: how often this person signed up (again after cancelling); keys their e-mails
    signups: Mapped[int] = mapped_column(Integer, default=1)
    #: when the person last became confirmed or waitlisted (orders the waiting list)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when a message to this address came back as undeliverable ("adres onbereikbaar"); cleared when the
    #: address changes
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the reason the recipient's server gave, e.g. "550 5.1.1 user unknown"
    unreachable_reason: Mapped[str] = mapped_column(Text, default="")

    event: Mapped[Event] = relationship(lazy="joined")

    @property
    def full_name(self) -> str:
        """'Mieke van den Berg'."""
        return " ".join(p for p in (self.first_name, self.tussenvoegsel, self.last_name) if p)

    @property
    def role_label(self) -> str:
        """The role, with the free text for 'Anders'."""
        if self.role_other:
            return f"{self.role}: {self.role_other}"
        return self.role

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def organisation_type_label(self) -> str:
        return self.organisation_type or UNKNOWN_TYPE

    @property
    def sector_label(self) -> str:
        return SECTORS.get(self.sector, UNKNOWN_SECTOR)

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.status.value}>"


class AccessToken(db.Model):
    """The SHA-256 of one personal link. A registration may have several."""

    __tablename__ = "access_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    #: manage (/r/) or join (/j/)
    purpose: Mapped[TokenPurpose] = mapped_column(
        Enum(TokenPurpose, name="token_purpose", native_enum=False, length=20)
    )
    #: hex SHA-256 of the token in the link
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship(lazy="joined")


class ConfirmedTally(db.Model):
    """How many of an event's registrations are confirmed, kept by the database itself.

    Triggers on `registration` (migration 0019) add and take away as rows are
    inserted, change status or event, or are deleted, in the same transaction,
    whichever code or statement does it; so the sum of an event's rows is
    always what counting its confirmed registrations would give, at the cost
    of reading a handful of rows however large the event. A transaction
    writes only the row of its own `slot` (on PostgreSQL its server
    process's number modulo SLOTS, on SQLite 0): sign-ups on different
    connections that run side by side do not wait for each other's commit.
    A slot may go below zero (a place given back on another connection than
    the one that took it); only the sum means anything.
    """

    __tablename__ = "event_confirmed"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    confirmed: Mapped[int] = mapped_column(Integer)

    #: how many rows an event has at most on PostgreSQL
    SLOTS = 16


def confirmed_of(event_id):
    """The confirmed registrations of the event with id `event_id` (a column or parameter), as a scalar subquery.

    Read from ConfirmedTally: a few rows, where counting the registrations reads
    one index entry (and, on a table just written to, one row) per registration.
    """
    return (select(func.coalesce(func.sum(ConfirmedTally.confirmed), 0))
            .where(ConfirmedTally.event_id == event_id).scalar_subquery())
