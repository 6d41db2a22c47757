"""The preview link of a draft: a signed token that shows the event's page before it is published.

An organiser shares it with a colleague who has no account. The token is the
event's id signed with the app's secret key, so it needs no storage and
cannot be made up; it stops showing the draft once the event is published
(then it leads to the public page).
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..extensions import db
from .models import Event

#: keeps these signatures apart from every other use of the secret key
_SALT = "event-preview"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def preview_token(event: Event) -> str:
    """The token in the event's preview link."""
    return _serializer().dumps([event.id, event.ics_uid])


def event_for_preview(token: str) -> Event | None:
    """The event a preview token was made for, or None for a token that is not genuine."""
    if not token or len(token) > 200:
        return None
    try:
        event_id, uid = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    event = db.session.get(Event, event_id) if isinstance(event_id, int) else None
    return event if event is not None and event.ics_uid == uid else None
