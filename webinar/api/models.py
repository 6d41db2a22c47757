"""Personal API tokens: an organiser's key to the JSON API, stored only as a hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..organiser.models import Organiser

#: what a token may be used for: reading (GET) and changing (POST, PATCH)
SCOPES = {"read": "Lezen", "write": "Wijzigen"}


class ApiToken(db.Model):
    """A personal API token: it acts as its organiser, within its scopes and the organiser's role."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organiser.id", ondelete="CASCADE"), index=True)
    #: the organiser's own name for it, e.g. "CRM-koppeling"
    name: Mapped[str] = mapped_column(String(100))
    #: hex SHA-256 of the token; the token itself is shown once and never stored
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the first characters of the token, so that its owner can tell tokens apart
    prefix: Mapped[str] = mapped_column(String(12))
    #: a subset of SCOPES
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: after this moment the token no longer works
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: set when its owner revoked it
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organiser: Mapped[Organiser] = relationship(lazy="joined")

    def usable(self, now: datetime) -> bool:
        """Whether the token works now: not revoked, not expired, its account active."""
        return self.revoked_at is None and now < self.expires_at and self.organiser.active

    @property
    def state(self) -> str:
        """'ingetrokken', 'verlopen' or 'actief', for the token list."""
        if self.revoked_at is not None:
            return "ingetrokken"
        return "verlopen" if utcnow() >= self.expires_at else "actief"
