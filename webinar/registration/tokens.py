"""Personal link tokens: /r/<token> to manage a registration, /j/<token> to join. Only hashes are stored."""

from __future__ import annotations

from sqlalchemy import insert, select

from ..database import utcnow
from ..extensions import db
from ..mailing.kinds import Batch
from ..tokens import hash_token, new_token
from .models import AccessToken, Registration, TokenPurpose


def _row(registration: Registration, purpose: TokenPurpose, token: str) -> dict:
    return {"registration_id": registration.id, "purpose": purpose, "token_hash": hash_token(token)}


def issue_token(registration: Registration, purpose: TokenPurpose) -> str:
    """A new personal link token for the registration, added to the session; only its hash is kept."""
    token = new_token()
    db.session.add(AccessToken(**_row(registration, purpose, token)))
    return token


def issue_batch_token(batch: Batch, registration: Registration, purpose: TokenPurpose) -> str:
    """A new token for an e-mail of the batch; stored with the batch's others in one INSERT."""
    token = new_token()
    batch.keep(store_tokens, _row(registration, purpose, token) | {"created_at": utcnow()})
    return token


def store_tokens(rows: list[dict]) -> None:
    """Store the tokens a batch collected, in one call.

    A plain INSERT executed for all rows (the driver's executemany: one
    prepared statement on SQLite, a pipeline on PostgreSQL) cost less CPU
    than one INSERT of many VALUES with RETURNING, whose ids nobody reads.
    """
    if rows:
        db.session.execute(insert(AccessToken.__table__), rows)


def registration_for_token(token: str, purpose: TokenPurpose) -> Registration | None:
    """The registration a personal link points at, or None."""
    if not token or len(token) > 100:
        return None
    access = db.session.scalar(
        select(AccessToken).where(
            AccessToken.token_hash == hash_token(token),
            AccessToken.purpose == purpose,
        )
    )
    return access.registration if access else None
