"""Turning an outbox row into an e-mail: one template pair per kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..attendance.services import join_opens_at
from ..dutch import date, local, time
from ..events.ics import build_calendar, google_calendar_url, office_calendar_url, outlook_calendar_url
from ..events.models import Event
from ..links import external_url
from ..organiser.broadcast_services import (
    broadcast_mail,
    placeholder_values,
    sample_values,
    segment_status,
    uses_placeholder,
)
from ..organiser.services import mint_invitation_token
from ..registration.models import Registration, RegistrationStatus, TokenPurpose
from ..registration.services import issue_token
from ..support.notifications import SUPPORT_KINDS, render_support_mail
from .message import Obsolete
from .message import compose as _message
from .mime import Calendar, Email
from .models import OutgoingMail
from .services import SCHEDULED_KINDS
from .schedules import followup_at, useful_until


@dataclass(frozen=True)
class MailKind:
    """How one kind of e-mail is written and when it still makes sense."""

    subject: str
    #: the registration statuses for which sending still makes sense
    statuses: tuple[RegistrationStatus, ...]
    #: attach the event's calendar file, with this METHOD
    calendar: str | None = None
    #: carries the personal join link
    join_link: bool = False


_CONFIRMED = (RegistrationStatus.confirmed,)
_LIVE = (RegistrationStatus.confirmed, RegistrationStatus.waitlisted)

KINDS: dict[str, MailKind] = {
    "confirmation": MailKind("Aanmelding bevestigd: {title}", _CONFIRMED, calendar="PUBLISH"),
    "waitlisted": MailKind("U staat op de wachtlijst: {title}", (RegistrationStatus.waitlisted,)),
    "promoted": MailKind(
        "Er is een plaats vrij: u bent aangemeld voor {title}", _CONFIRMED, calendar="PUBLISH"
    ),
    "manage_link": MailKind("Uw aanmelding voor {title}", _LIVE),
    "lost_link": MailKind("Uw persoonlijke links voor {title}", _LIVE, join_link=True),
    "cancelled": MailKind("Afmelding bevestigd: {title}", (RegistrationStatus.cancelled,)),
    "reminder": MailKind("Herinnering: {title} {when}", _CONFIRMED),
    "join_link": MailKind("Uw link om deel te nemen: {title}", _CONFIRMED, join_link=True),
    "followup_joined": MailKind("Dank voor uw deelname: {title}", _CONFIRMED),
    "followup_missed": MailKind("Gemist? {title}", _CONFIRMED),
    "event_moved": MailKind("Gewijzigd tijdstip: {title}", _LIVE, calendar="PUBLISH"),
    "event_cancelled": MailKind("Gaat niet door: {title}", _LIVE, calendar="CANCEL"),
}


@dataclass
class Batch:
    """What the e-mails of one batch share: values per event, and the tokens to store in one go."""

    #: per event id: template values and calendar files that are the same for every registrant
    events: dict[int, dict] = field(default_factory=dict)
    #: personal link tokens issued for the batch, for `store_tokens`
    tokens: list[dict] = field(default_factory=list)

    def token(self, registration: Registration, purpose: TokenPurpose) -> str:
        return issue_token(registration, purpose, into=self.tokens)


def check_still_useful(row: OutgoingMail, now: datetime) -> Registration:
    """The row's registration, or Obsolete when the message lost its use."""
    kind = KINDS[row.kind]
    registration = row.registration
    if registration is None or registration.status not in kind.statuses:
        raise Obsolete("de aanmelding heeft een andere status")
    event = registration.event
    if row.event_version is not None and row.event_version != event.version:
        raise Obsolete("de bijeenkomst is sindsdien gewijzigd")
    if row.kind == "event_cancelled":
        return registration
    if event.cancelled_at is not None:
        raise Obsolete("de bijeenkomst gaat niet door")
    if row.kind in SCHEDULED_KINDS:
        until = useful_until(event, row.kind)
        if until is None or now >= until:
            raise Obsolete("het moment is voorbij")
    elif row.kind in ("lost_link", "event_moved") and now >= event.ends_at:
        raise Obsolete("de bijeenkomst is voorbij")
    return registration


def render_invitation(row: OutgoingMail, now: datetime) -> Email:
    """An invitation to become an organiser, with a fresh single-use link."""
    invitation = row.invitation
    if invitation is None or invitation.accepted_at or invitation.expires_at <= now:
        raise Obsolete("de uitnodiging is gebruikt of verlopen")
    url = external_url("organiser.accept_invitation", token=mint_invitation_token(invitation))
    inviter = invitation.invited_by.label if invitation.invited_by else "Een organisator"
    return _message(
        "Uitnodiging: organisator van bijeenkomsten", invitation.email, "invitation",
        url=url, inviter=inviter, expires_at=invitation.expires_at,
    )


def render_broadcast(row: OutgoingMail, now: datetime, batch: Batch) -> Email:
    """An organiser's message to one registrant; a test (no registration) gets sample values."""
    broadcast = row.broadcast
    if broadcast is None:
        raise Obsolete("het bericht bestaat niet meer")
    if row.registration_id is None:
        subject, context = broadcast_mail(broadcast, row.event, sample_values(row.event), test=True)
        return _message(subject, row.recipient, "broadcast", **context)
    registration = row.registration
    if registration is None or registration.status != segment_status(broadcast.segment):
        raise Obsolete("de aanmelding heeft een andere status")
    event = registration.event
    if event.cancelled_at is not None and event.cancelled_at > row.created_at:
        raise Obsolete("de bijeenkomst gaat niet door")
    join_url = ""
    if uses_placeholder("deelnamelink", broadcast.subject, broadcast.body):
        join_url = external_url("attendance.join", token=batch.token(registration, TokenPurpose.join))
    manage_url = external_url("registration.manage", token=batch.token(registration, TokenPurpose.manage))
    values = placeholder_values(event, registration.first_name, join_url=join_url, manage_url=manage_url)
    subject, context = broadcast_mail(broadcast, event, values)
    return _message(subject, registration.email, "broadcast", **context)


def render_mail(row: OutgoingMail, now: datetime, batch: Batch) -> Email:
    """Build the message for an outbox row, minting the personal links it carries.

    The caller stores the batch's tokens (`store_tokens(batch.tokens)`) in the
    transaction that records the rendering, before the message is sent.
    """
    if row.kind == "invitation":
        return render_invitation(row, now)
    if row.kind == "broadcast":
        return render_broadcast(row, now, batch)
    if row.kind in SUPPORT_KINDS:
        return render_support_mail(row, now)
    registration = check_still_useful(row, now)
    manage_url = external_url("registration.manage", token=batch.token(registration, TokenPurpose.manage))
    join_url = ""
    if KINDS[row.kind].join_link:
        join_url = external_url("attendance.join", token=batch.token(registration, TokenPurpose.join))
    return registrant_message(row.kind, registration.event, registration, now,
                              manage_url=manage_url, join_url=join_url, events=batch.events,
                              previous=(row.previous_starts_at, row.previous_ends_at))


def registrant_message(kind_name: str, event: Event, registration: Registration, now: datetime, *,
                       manage_url: str, join_url: str, events: dict[int, dict] | None = None,
                       previous: tuple[datetime | None, datetime | None] = (None, None)) -> Email:
    """One registrant's e-mail of this kind with the links given: the same for sending and previews.

    `events` keeps what is the same for every registrant of an event (links,
    calendar file) across the rows of one batch; `previous` is the start and
    end a new-time mail says the event moved from.
    """
    kind = KINDS[kind_name]
    per_event = _per_event(event, {} if events is None else events)
    context = dict(per_event["context"], registration=registration, manage_url=manage_url,
                   previous_starts_at=previous[0], previous_ends_at=previous[1])
    if kind.join_link:
        context["join_url"] = join_url
    calendar = None
    if kind.calendar:
        if kind.calendar not in per_event:
            per_event[kind.calendar] = Calendar(kind.calendar, build_calendar(event, method=kind.calendar))
        calendar = per_event[kind.calendar]
    subject = kind.subject.format(title=event.title, when=_when(event, now))
    return _message(subject, registration.email, kind_name, calendar, **context)


def _per_event(event, events: dict[int, dict]) -> dict:
    """The template values that are the same for every registrant of the event."""
    if event.id not in events:
        events[event.id] = {
            "context": {
                "event": event,
                "event_url": external_url("events.show", slug=event.slug),
                "google_url": google_calendar_url(event),
                "outlook_url": outlook_calendar_url(event),
                "office_url": office_calendar_url(event),
                "join_opens_at": join_opens_at(event),
                "followup_at": followup_at(event),
            }
        }
    return events[event.id]


def _when(event, now: datetime) -> str:
    """'vandaag om 16.00 uur', 'morgen om 16.00 uur' or 'op dinsdag 25 mei 2027'."""
    days = (local(event.starts_at).date() - local(now).date()).days
    if days == 0:
        return f"vandaag om {time(event.starts_at)} uur"
    if days == 1:
        return f"morgen om {time(event.starts_at)} uur"
    return f"op {date(event.starts_at)}"
