"""Personal link tokens: /r/<token> to manage a registration, /j/<token> to join. Only hashes are stored."""

from __future__ import annotations

from sqlalchemy import Integer, String, insert, select

from ..database import UTCDateTime, as_arrays, unnested, utcnow
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


_TABLE = AccessToken.__table__
#: a token's columns as store_tokens gives them, with their types
_COLUMNS = {"registration_id": Integer(), "purpose": _TABLE.c.purpose.type, "token_hash": String(),
            "created_at": UTCDateTime()}
_NEW = unnested("new_token", _COLUMNS)
#: PostgreSQL: the batch's tokens from one array per column
_STORE_FROM_ARRAYS = insert(_TABLE).from_select(list(_COLUMNS), select(*(_NEW.c[name] for name in _COLUMNS)))


def store_tokens(rows: list[dict]) -> None:
    """Store the tokens a batch collected, in one call.

    On SQLite a plain INSERT executed for all rows (the driver's executemany,
    one prepared statement); on PostgreSQL one INSERT ... SELECT from an
    array per column, where psycopg's executemany spent some 20 µs of Python
    on every row. Either cost less CPU than one INSERT of many VALUES with
    RETURNING, whose ids nobody reads.
    """
    if not rows:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_STORE_FROM_ARRAYS, as_arrays(rows, _COLUMNS))
    else:
        db.session.execute(insert(_TABLE), rows)


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
