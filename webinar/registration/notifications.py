"""The e-mails a registration causes, queued in the outbox."""

from __future__ import annotations

from datetime import datetime

from ..mailing.services import queue_mail, queue_mails
from .models import Registration


def _mail(kind: str, registration: Registration, key: str) -> dict:
    return {
        "kind": kind,
        "recipient": registration.email,
        "dedupe_key": f"{kind}:{registration.id}:{key}",
        "event_id": registration.event_id,
        "registration_id": registration.id,
    }


def _queue(kind: str, registration: Registration, key: str) -> bool:
    return queue_mail(**_mail(kind, registration, key))


def _registered_mail(registration: Registration) -> dict:
    kind = "confirmation" if registration.status.value == "confirmed" else "waitlisted"
    return _mail(kind, registration, str(registration.signups))


def notify_registered(registration: Registration) -> bool:
    """Confirmation with calendar file, or the waiting-list notice."""
    return queue_mail(**_registered_mail(registration))


def notify_registered_many(registrations: list[Registration]) -> None:
    """notify_registered for many registrations at once, in one statement."""
    queue_mails([_registered_mail(registration) for registration in registrations])


def notify_registered_again(registration: Registration, now: datetime) -> bool:
    """The manage link again, for someone who registered twice (once an hour at most)."""
    return _queue("manage_link", registration, now.strftime("%Y%m%dT%H"))


def notify_promoted(registration: Registration) -> bool:
    """A place came free: the waiting person is now confirmed."""
    return _queue("promoted", registration, str(registration.signups))


def notify_cancelled(registration: Registration) -> bool:
    """Confirms that the registration was cancelled."""
    return _queue("cancelled", registration, str(registration.signups))


def notify_links_requested(registration: Registration, now: datetime) -> bool:
    """Manage and join links again, asked for on the event page (once an hour at most)."""
    return _queue("lost_link", registration, now.strftime("%Y%m%dT%H"))
