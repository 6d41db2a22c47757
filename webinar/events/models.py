"""The Event model."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, utcnow
from ..dutch import AMSTERDAM, local
from ..extensions import db

DEFAULT_ROLES = [
    "Schoolbestuurder",
    "Schoolleider",
    "HRM'er",
    "Beleidsadviseur gemeente",
]
#: the presence that earns a certificate, as a percentage of the meeting's length, unless the organiser sets another
DEFAULT_CERTIFICATE_PERCENT = 75
#: the role whose choice asks for a free-text description
OTHER_ROLE = "Anders"


def _new_uid() -> str:
    return f"{uuid.uuid4()}@webinar"


class Event(db.Model):
    """An online meeting or webinar that people register for."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the name in the public URL, /events/<slug>
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    #: the title as shown everywhere
    title: Mapped[str] = mapped_column(String(200))
    #: one or two sentences for the top of the page and the calendar entry
    summary: Mapped[str] = mapped_column(Text, default="")
    #: the longer description; blank lines separate paragraphs
    body: Mapped[str] = mapped_column(Text, default="")
    #: who the meeting is for
    audience: Mapped[str] = mapped_column(Text, default="")
    #: practical information: format, price, what happens after registering
    practical: Mapped[str] = mapped_column(Text, default="")
    #: start, in UTC
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: end, in UTC
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: registration opens at (None: open now)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: registration closes at (None: at the start)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: places; None means no limit
    capacity: Mapped[int | None] = mapped_column(Integer)
    #: where people join; secret, only reached through personal join links
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    #: the organiser's contact person, shown on the page
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    #: the roles a registrant chooses from ("Anders" is always offered too)
    roles: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_ROLES))
    #: calendar UID, stable for the life of the event
    ics_uid: Mapped[str] = mapped_column(String(100), unique=True, default=_new_uid)
    #: reminder this many days before the start (None: no reminder)
    reminder_days_before: Mapped[int | None] = mapped_column(Integer)
    #: ... at this local (Amsterdam) time, "HH:MM"
    reminder_local_time: Mapped[str] = mapped_column(String(5), default="10:00")
    #: the personal join link goes out this many minutes before the start
    join_link_minutes_before: Mapped[int] = mapped_column(Integer, default=30)
    #: follow-ups go out this many minutes after the end
    followup_minutes_after: Mapped[int] = mapped_column(Integer, default=60)
    #: follow-up for those who joined; empty means none is sent
    followup_joined_text: Mapped[str] = mapped_column(Text, default="")
    #: follow-up for those who did not join; empty means none is sent
    followup_missed_text: Mapped[str] = mapped_column(Text, default="")
    #: recording or slides, shown after the end and in follow-ups
    recording_url: Mapped[str | None] = mapped_column(String(500))
    #: those present long enough get a certificate of attendance ("bewijs van deelname")
    certificate_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: ... when present at least this percentage of the meeting's length
    certificate_min_percent: Mapped[int] = mapped_column(Integer, default=DEFAULT_CERTIFICATE_PERCENT)
    #: raised on every change of time; the calendar SEQUENCE
    version: Mapped[int] = mapped_column(Integer, default=0)
    #: when an organiser published the event; None while it is a draft ("concept"): not listed, no
    #: public page, no registration, only a preview link
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: set when an organiser closed registration by hand ("Registratie nu sluiten"); None when open
    registration_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: set when the organisers cancel the event
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when `flask privacy purge` removed the registrants' personal data; counts remain
    personal_data_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def role_choices(self) -> list[str]:
        """The roles offered, ending with 'Anders'."""
        return [r for r in self.roles if r != OTHER_ROLE] + [OTHER_ROLE]

    def closes_at(self) -> datetime:
        """When registration closes: closed by hand, the closing date, or the start (the first of them)."""
        closes = self.registration_closes_at or self.starts_at
        if self.registration_closed_at is not None:
            return min(closes, self.registration_closed_at)
        return closes

    def is_draft(self) -> bool:
        """Not yet published: only organisers and holders of the preview link see it."""
        return self.published_at is None

    def reminder_at(self) -> datetime | None:
        """N days before the start at the reminder's local time, or None when off."""
        if self.reminder_days_before is None:
            return None
        hour, minute = (int(part) for part in self.reminder_local_time.split(":"))
        day = local(self.starts_at).date() - timedelta(days=self.reminder_days_before)
        moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM)
        return moment if moment < self.starts_at else None

    def join_opens_at(self) -> datetime:
        """When the join link starts to lead to the meeting: when its e-mail is due."""
        return self.starts_at - timedelta(minutes=self.join_link_minutes_before)

    def followup_at(self) -> datetime:
        """When the follow-ups are due."""
        return self.ends_at + timedelta(minutes=self.followup_minutes_after)

    def length_minutes(self) -> int:
        """The meeting's length in whole minutes."""
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def certificate_min_minutes(self) -> int:
        """The minutes present that earn a certificate: the percentage of the length, rounded up."""
        return self.percent_of_length(self.certificate_min_percent)

    def percent_of_length(self, percent: int) -> int:
        """That percentage of the meeting's length in whole minutes, rounded up."""
        return -(-self.length_minutes() * percent // 100)

    def paragraphs(self, field: str) -> list[str]:
        """A text field split into paragraphs on blank lines."""
        text = getattr(self, field) or ""
        return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]

    def __repr__(self) -> str:
        return f"<Event {self.slug}>"


class FormerSlug(db.Model):
    """A link name an event had when it was public: its old links (in e-mails sent) lead to its page now."""

    __tablename__ = "event_former_slug"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the old name in the URL, /events/<slug>; never used again by another event
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
