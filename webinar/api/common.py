"""What the API's route modules share: finding what a URL names, auditing a write, documenting errors."""

from __future__ import annotations

from flask import abort

from ..audit import audit
from ..events.models import Event
from ..events.services import get_event
from . import bp
from .auth import current_token

#: the errors every operation may answer (problem details)
COMMON_ERRORS = (401, 403, 404, 429)


def documented(*statuses: int):
    """Document the error responses an operation may give (each as application/problem+json)."""
    from http import HTTPStatus

    def decorate(view):
        for status in sorted(set(COMMON_ERRORS + statuses), reverse=True):
            view = bp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorate


def event_or_problem(slug: str) -> Event:
    """The event with this slug (a draft too), or a 404 problem."""
    event = get_event(slug)
    if event is None:
        abort(404, "Er is geen bijeenkomst met deze naam.")
    return event


def audit_api(action: str, summary: str, event: Event | None = None) -> None:
    """Audit a write made through the API, naming the token that made it."""
    token = current_token()
    audit(token.organiser, action, f"{summary} (API-token {token.name!r}, {token.prefix}…)", event)
