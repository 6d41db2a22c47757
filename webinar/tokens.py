"""Random tokens for personal links. Only their SHA-256 is ever stored."""

import hashlib
import secrets


def new_token() -> str:
    """A URL-safe token carrying 256 random bits."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 of a token, as stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
