"""Organiser accounts, invitations, login attempts and broadcasts."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from . import passwords
from .roles import DEFAULT_ROLE


class Organiser(UserMixin, db.Model):
    """A person who runs events in the organiser area."""

    __tablename__ = "organiser"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: login name, stored in lower case
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    #: scrypt hash (werkzeug)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: what the account may do: see roles.PERMISSIONS
    role: Mapped[str] = mapped_column(String(20), default=DEFAULT_ROLE, server_default=DEFAULT_ROLE)
    #: raised on logout and password change: every older session stops working
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    #: failed logins in a row; the account is locked for a while after too many
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the base32 secret of the authenticator app (RFC 6238); None: no two-factor authentication
    #: the authenticator secret, encrypted (two_factor.seal): "fernet:" and a Fernet token
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    #: when two-factor authentication was switched on (None: off)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the time step of the last code accepted: a code is never accepted twice
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    #: wrong codes in a row; the account is locked (locked_until) after too many
    failed_codes: Mapped[int] = mapped_column(Integer, default=0)

    def get_id(self) -> str:
        """The session's user id carries the session version."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def label(self) -> str:
        return self.name or self.email

    def set_password(self, password: str) -> None:
        """Hash and keep a new password; WeakPassword (in Dutch) if it breaks the rule."""
        passwords.check_new_password(password, email=self.email or "", name=self.name or "")
        self.password_hash = passwords.hash_password(password)

    def check_password(self, password: str) -> bool:
        """Whether the password matches."""
        return passwords.check_password(self.password_hash, password)


class LoginAttempt(db.Model):
    """One login attempt, for rate limits per address."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_address_at", "address", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the client's IP address
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invitation(db.Model):
    """A single-use invitation for a new organiser."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    #: hex SHA-256 of the token in the link (set when the e-mail is sent)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    #: the role the new account gets
    role: Mapped[str] = mapped_column(String(20), default=DEFAULT_ROLE, server_default=DEFAULT_ROLE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invited_by: Mapped[Organiser | None] = relationship()


class Broadcast(db.Model):
    """A message an organiser wrote to a group of an event's registrants."""

    __tablename__ = "broadcast"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    #: the recipients' roles ([]: every role)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: the registration statuses it goes to: "confirmed", "waitlisted" or both
    statuses: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["confirmed"])
    #: the recipients' organisation types ([]: every type)
    organisation_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: "ja": only who joined the meeting, "nee": only who did not, "": both
    joined: Mapped[str] = mapped_column(String(3), default="")
    subject: Mapped[str] = mapped_column(String(200))
    #: the text, with placeholders such as {voornaam} and {deelnamelink}
    body: Mapped[str] = mapped_column(Text)
    #: when it goes out
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: how many e-mails were queued
    recipients: Mapped[int] = mapped_column(Integer, default=0)

    created_by: Mapped[Organiser | None] = relationship()


class PasswordReset(db.Model):
    """A single-use link to choose a new password, sent by e-mail."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organiser.id", ondelete="CASCADE"), index=True)
    #: hex SHA-256 of the token in the link (set when the e-mail is sent)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: the administrator who sent it (None: the organiser asked for it)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organiser: Mapped[Organiser] = relationship(foreign_keys=[organiser_id])
    requested_by: Mapped[Organiser | None] = relationship(foreign_keys=[requested_by_id])


class RecoveryCode(db.Model):
    """A single-use code that stands in for the authenticator app once."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organiser.id", ondelete="CASCADE"), index=True)
    #: hex SHA-256 of the code (80 random bits)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OrganiserSession(db.Model):
    """A logged-in browser: the Flask session carries its key, so it can be listed and ended."""

    __tablename__ = "organiser_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organiser.id", ondelete="CASCADE"), index=True)
    #: hex SHA-256 of the key in the session cookie
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the browser's User-Agent, shortened
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    #: the client's IP address at login
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: when it was logged out or ended from elsewhere
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
