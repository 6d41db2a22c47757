"""Turning an outbox row into an e-mail: one template pair per kind."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template
from flask_mail import Message

from ..events.ics import build_calendar, google_calendar_url, outlook_calendar_url
from ..links import external_url
from ..registration.models import RegistrationStatus, TokenPurpose
from ..registration.services import issue_token
from .models import OutgoingMail


@dataclass(frozen=True)
class MailKind:
    """How one kind of e-mail is written and when it still makes sense."""

    subject: str
    #: the registration statuses for which sending still makes sense
    statuses: tuple[RegistrationStatus, ...]
    #: attach the event's calendar file
    calendar: bool = False


_LIVE = (RegistrationStatus.confirmed, RegistrationStatus.waitlisted)

KINDS: dict[str, MailKind] = {
    "confirmation": MailKind(
        "Aanmelding bevestigd: {title}", (RegistrationStatus.confirmed,), calendar=True
    ),
    "waitlisted": MailKind("U staat op de wachtlijst: {title}", (RegistrationStatus.waitlisted,)),
    "promoted": MailKind(
        "Er is een plaats vrij: u bent aangemeld voor {title}",
        (RegistrationStatus.confirmed,),
        calendar=True,
    ),
    "manage_link": MailKind("Uw aanmelding voor {title}", _LIVE),
    "cancelled": MailKind("Afmelding bevestigd: {title}", (RegistrationStatus.cancelled,)),
}


class Obsolete(Exception):
    """The message no longer makes sense (e.g. a confirmation after cancelling)."""


def render_mail(row: OutgoingMail) -> Message:
    """Build the message for an outbox row, minting the personal links it carries."""
    kind = KINDS[row.kind]
    registration = row.registration
    if registration is None or registration.status not in kind.statuses:
        raise Obsolete(row.kind)
    event = registration.event
    context = {
        "event": event,
        "registration": registration,
        "event_url": external_url("events.show", slug=event.slug),
        "manage_url": external_url(
            "registration.manage", token=issue_token(registration, TokenPurpose.manage)
        ),
        "google_url": google_calendar_url(event),
        "outlook_url": outlook_calendar_url(event),
    }
    message = Message(
        subject=kind.subject.format(title=event.title),
        recipients=[registration.email],
        body=render_template(f"email/{row.kind}.txt", **context),
        html=render_template(f"email/{row.kind}.html", **context),
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers={"Auto-Submitted": "auto-generated"},
    )
    if kind.calendar:
        message.attach(
            filename="bijeenkomst.ics",
            content_type="text/calendar; charset=utf-8; method=PUBLISH",
            data=build_calendar(event),
        )
    return message
