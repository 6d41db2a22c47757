"""Support requests and the schools they are for."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..registration.models import SECTORS as REGISTRATION_SECTORS
from .costs import Estimate, estimate


class SupportStatus(enum.Enum):
    new = "new"
    in_progress = "in_progress"
    adviser_assigned = "adviser_assigned"
    planned = "planned"
    done = "done"
    declined = "declined"


STATUS_LABELS = {
    SupportStatus.new: "Nieuw",
    SupportStatus.in_progress: "In behandeling",
    SupportStatus.adviser_assigned: "Adviseur toegewezen",
    SupportStatus.planned: "Ingepland",
    SupportStatus.done: "Afgerond",
    SupportStatus.declined: "Afgewezen",
}
#: statuses after which the request is closed, and purged some time later
CLOSED_STATUSES = (SupportStatus.done, SupportStatus.declined)

#: a school's sector: those a registrant chooses from, but "meerdere"
SECTORS = {key: REGISTRATION_SECTORS[key] for key in ("po", "vo", "so_vso")}
#: why a school belongs to the target group; "none" is sent anyway and marked for review
REASONS = {
    "onvoldoende": "Oordeel inspectie: onvoldoende",
    "zeer_zwak": "Oordeel inspectie: zeer zwak",
    "risico": "De school ziet zelf een aantoonbaar risico",
    "none": "Geen van deze",
}
#: reasons that come with the date of the inspection's judgement
JUDGEMENT_REASONS = ("onvoldoende", "zeer_zwak")
HELP_TYPES = {
    "schoolscan": "Ondersteuning bij de schoolscan",
    "stappenplan": "Ondersteuning bij het stappenplan",
    "toetsen": "Later traject: toetsen",
    "determineren": "Later traject: determineren",
    "pedagogiek": "Later traject: (digitaal) pedagogisch en didactisch handelen",
    "differentieren": "Later traject: differentiëren",
    "afstandsonderwijs": "Later traject: afstandsonderwijs",
    "schoolleiding": "Later traject: ondersteuning van de schoolleiding bij verbetertrajecten",
    "coaching": "Later traject: training of coaching van de schoolleiding",
    "teamtraining": "Later traject: training van teams of vakgroepen",
}


class SupportRequest(db.Model):
    """A request for an adviser's help, for one school or for several schools of a board."""

    __tablename__ = "support_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: random key of the filled-in form: sending it twice stores one request
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    requester_name: Mapped[str] = mapped_column(String(200))
    #: the requester's position, e.g. "directeur" or "bestuurder"
    requester_position: Mapped[str] = mapped_column(String(200))
    requester_email: Mapped[str] = mapped_column(String(254))
    requester_phone: Mapped[str] = mapped_column(String(50))
    #: set when a board asks for several schools at once
    board_name: Mapped[str] = mapped_column(String(200), default="")
    #: keys of HELP_TYPES, comma-separated
    help_types: Mapped[str] = mapped_column(String(500), default="")
    #: the request in the requester's own words
    help_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SupportStatus] = mapped_column(
        Enum(SupportStatus, name="support_status", native_enum=False, length=20),
        default=SupportStatus.new, index=True,
    )
    #: a school gave no target-group reason: an organiser decides
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the adviser who takes it on (a name; advisers have no account)
    adviser: Mapped[str] = mapped_column(String(200), default="")
    #: the organisers' own notes, never shown to the requester
    notes: Mapped[str] = mapped_column(Text, default="")
    #: a note to the requester, shown in the latest status e-mail
    status_note: Mapped[str] = mapped_column(Text, default="")
    privacy_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: when it became done or declined; purged SUPPORT_PURGE_DAYS later
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: raised on each status change; part of the status e-mail's outbox key
    status_version: Mapped[int] = mapped_column(Integer, default=0)

    schools: Mapped[list[SupportSchool]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="SupportSchool.position",
        passive_deletes=True,
    )

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def organisation(self) -> str:
        """The board, or else the (first) school."""
        return self.board_name or (self.schools[0].name if self.schools else "")

    @property
    def help_labels(self) -> list[str]:
        return [HELP_TYPES[key] for key in self.help_types.split(",") if key in HELP_TYPES]

    @property
    def estimate(self) -> Estimate:
        return estimate(school.half_days for school in self.schools)


class SupportSchool(db.Model):
    """One school a request is for, with why it belongs to the target group."""

    __tablename__ = "support_school"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_request.id", ondelete="CASCADE"), index=True)
    #: order on the form, from 0
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    #: BRIN code with optional vestiging number, upper case: "12AB" or "12AB01"
    brin: Mapped[str] = mapped_column(String(6))
    #: a key of SECTORS
    sector: Mapped[str] = mapped_column(String(10))
    #: a key of REASONS
    reason: Mapped[str] = mapped_column(String(20))
    #: the date of the inspection's judgement (onvoldoende, zeer zwak)
    judgement_date: Mapped[date | None] = mapped_column(Date)
    #: the risk the school sees, in its own words
    risk_description: Mapped[str] = mapped_column(Text, default="")
    #: requested effort in half-days, 1 to 16
    half_days: Mapped[int] = mapped_column(Integer)

    request: Mapped[SupportRequest] = relationship(back_populates="schools")

    @property
    def sector_label(self) -> str:
        return SECTORS.get(self.sector, self.sector)

    @property
    def reason_label(self) -> str:
        return REASONS.get(self.reason, self.reason)

    @property
    def in_target_group(self) -> bool:
        return self.reason != "none"
