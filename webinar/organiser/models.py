"""Organiser accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import UTCDateTime, utcnow
from ..extensions import db

MIN_PASSWORD_LENGTH = 12


class Organiser(db.Model):
    """A person who runs events in the organiser area."""

    __tablename__ = "organiser"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: login name, stored in lower case
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    #: scrypt hash (werkzeug)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def set_password(self, password: str) -> None:
        """Hash and keep a new password."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"Een wachtwoord heeft minstens {MIN_PASSWORD_LENGTH} tekens.")
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        """Whether the password matches."""
        return check_password_hash(self.password_hash, password)
