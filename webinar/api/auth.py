"""Who is calling the API: a personal bearer token, never a cookie; what it may do: its scopes and its owner's role."""

from __future__ import annotations

from functools import wraps

from flask import abort, g, request

from ..database import begin_write, utcnow
from ..extensions import db
from ..organiser.roles import ALL_PERMISSIONS, may
from .models import ApiToken
from .services import token_for

#: methods that only read; every other method needs the "write" scope
READING = ("GET", "HEAD", "OPTIONS")


def bearer_secret() -> str | None:
    """The token in `Authorization: Bearer <token>`, or None."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def authenticate() -> None:
    """Before every API request: find the token (401 without a usable one) and check its scope (403).

    PATCH starts its write transaction here, before the token is read, as every POST does app-wide.
    """
    if request.method not in READING + ("POST",) and not db.session().in_transaction():
        begin_write()
    secret = bearer_secret()
    token = token_for(secret, now=utcnow()) if secret else None
    if token is None:
        abort(401)
    scope = "read" if request.method in READING else "write"
    if scope not in token.scopes:
        abort(403, f"Dit token heeft geen toestemming om te {'lezen' if scope == 'read' else 'wijzigen'}.")
    g.api_token = token


def current_token() -> ApiToken:
    """The token of this API request."""
    return g.api_token


def needs(permission: str):
    """A view decorator: 403 unless the token's owner's role has the permission (organiser.roles.may)."""
    if permission not in ALL_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not may(current_token().organiser, permission):
                abort(403, "De rol van de eigenaar van dit token staat deze actie niet toe.")
            return view(*args, **kwargs)

        guarded.required_permissions = frozenset({permission})
        return guarded

    return decorate
