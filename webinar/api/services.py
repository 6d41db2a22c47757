"""API tokens: making one (shown once), finding the one a request carries, revoking it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ..audit import audit
from ..database import utcnow
from ..extensions import db
from ..organiser.models import Organiser
from ..tokens import hash_token, new_token
from .models import SCOPES, ApiToken

#: every token starts with this, so that secret scanners and people recognise it
TOKEN_PREFIX = "wbn_"
#: the longest a token may live
MAX_DAYS = 366


@dataclass(frozen=True)
class NewToken:
    """A token just made: the row, and the secret itself (shown once, never stored)."""

    row: ApiToken
    secret: str


def create_token(organiser: Organiser, name: str, scopes: list[str], days: int,
                 *, now: datetime | None = None) -> NewToken:
    """Make a personal token for `organiser`. ValueError (in Dutch) on a bad name, scope or lifetime."""
    now = now or utcnow()
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("Geef het token een naam van hoogstens 100 tekens.")
    if not scopes or not set(scopes) <= set(SCOPES):
        raise ValueError("Kies wat het token mag: lezen, wijzigen of beide.")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"Een token is 1 tot {MAX_DAYS} dagen geldig.")
    secret = TOKEN_PREFIX + new_token()
    row = ApiToken(organiser_id=organiser.id, name=name, token_hash=hash_token(secret),
                   prefix=secret[:12], scopes=[scope for scope in SCOPES if scope in scopes],
                   expires_at=now + timedelta(days=days), created_at=now)
    db.session.add(row)
    db.session.flush()
    audit(organiser, "api_token.create",
          f"API-token {row.name!r} ({row.prefix}…, {', '.join(row.scopes)}) tot {row.expires_at:%Y-%m-%d}")
    return NewToken(row, secret)


def revoke_token(organiser: Organiser, token: ApiToken, *, now: datetime | None = None) -> bool:
    """Revoke one of the organiser's own tokens. False when it was revoked already."""
    if token.organiser_id != organiser.id:
        raise PermissionError("not the owner")
    if token.revoked_at is not None:
        return False
    token.revoked_at = now or utcnow()
    db.session.flush()
    audit(organiser, "api_token.revoke", f"API-token {token.name!r} ({token.prefix}…) ingetrokken")
    return True


def tokens_of(organiser: Organiser) -> list[ApiToken]:
    """The organiser's tokens, newest first."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.organiser_id == organiser.id).order_by(ApiToken.id.desc())))


def token_for(secret: str, *, now: datetime | None = None) -> ApiToken | None:
    """The usable token with this secret, or None (unknown, revoked, expired, or its account inactive)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or not token.usable(now or utcnow()):
        return None
    return token
