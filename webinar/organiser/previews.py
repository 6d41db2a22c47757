"""Every e-mail an event sends its registrants, shown to the organiser as a registrant gets it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort, make_response, render_template
from sqlalchemy import select

from ..database import utcnow
from ..dutch import datetime_text
from ..events.lookup import event_or_404
from ..events.models import Event
from ..extensions import db
from ..links import external_url
from ..mailing.kinds import label
from ..mailing.mime import Email
from ..mailing.models import OutgoingMail
from ..registration.models import Registration, RegistrationStatus
from ..registration.notifications import registrant_message
from ..security import MAIL_PREVIEW_POLICY
from . import bp
from .roles import EVENTS_VIEW, requires

@dataclass(frozen=True)
class Preview:
    """One kind of e-mail as the organiser sees it in the list."""

    kind: str
    #: when it goes out, in words
    when: str
    #: it is written but will not go out as things stand (e.g. no follow-up text yet)
    off: str = ""

    @property
    def label(self) -> str:
        return label(self.kind)


def _moment(moment: datetime | None, off: str) -> tuple[str, str]:
    return (datetime_text(moment), "") if moment else ("", off)


def previews(event: Event) -> list[Preview]:
    """The event's e-mails to registrants, in the order a registrant meets them."""
    reminder, reminder_off = _moment(event.reminder_at(), "Er is geen herinnering ingesteld.")
    followup = datetime_text(event.followup_at())
    no_text = "Er is nog geen tekst; dit bericht gaat pas uit als u die invult bij Bewerken."
    return [
        Preview("confirmation", "direct na het aanmelden, met agendabestand"),
        Preview("waitlisted", "direct na het aanmelden als de bijeenkomst vol is"),
        Preview("promoted", "als iemand van de wachtlijst een plaats krijgt, met agendabestand"),
        Preview("reminder", reminder, reminder_off),
        Preview("join_link", datetime_text(event.join_opens_at())),
        Preview("followup_joined", followup,
                "" if event.followup_joined_text.strip() else no_text),
        Preview("followup_missed", followup,
                "" if event.followup_missed_text.strip() else no_text),
        Preview("event_moved", "als u het begin of einde verandert, met nieuw agendabestand"),
        Preview("event_cancelled", "als u de bijeenkomst annuleert"),
        Preview("cancelled", "als iemand zich afmeldt"),
        Preview("manage_link", "als iemand zich een tweede keer aanmeldt"),
        Preview("lost_link", "als iemand om de persoonlijke links vraagt"),
    ]


def _sample_registrant(kind: str) -> Registration:
    """A made-up registrant, never added to the database."""
    status = {"waitlisted": RegistrationStatus.waitlisted, "cancelled": RegistrationStatus.cancelled}
    return Registration(
        first_name="Anna", tussenvoegsel="van den", last_name="Berg", email="anna.vandenberg@example.org",
        organisation="OBS De Linde", role="Schoolleider", status=status.get(kind, RegistrationStatus.confirmed),
    )


def _sent_at(event: Event, kind: str) -> datetime:
    """The moment the e-mail would be written: the subject of a reminder says 'morgen' or 'vandaag'."""
    planned = {"reminder": event.reminder_at(), "join_link": event.join_opens_at()}.get(kind)
    return planned or utcnow()


def _last_move(event: Event) -> tuple[datetime | None, datetime | None]:
    """The time the event's latest new-time mail says it moved from (none before the first move)."""
    row = db.session.execute(
        select(OutgoingMail.previous_starts_at, OutgoingMail.previous_ends_at)
        .where(OutgoingMail.event_id == event.id, OutgoingMail.kind == "event_moved",
               OutgoingMail.previous_starts_at.is_not(None))
        .order_by(OutgoingMail.id.desc())
        .limit(1)
    ).first()
    return (row.previous_starts_at, row.previous_ends_at) if row else (None, None)


def preview_message(event: Event, kind: str) -> Email:
    """The e-mail of this kind for a made-up registrant, with links that lead nowhere personal."""
    return registrant_message(
        kind, event, _sample_registrant(kind), _sent_at(event, kind),
        manage_url=external_url("registration.manage", token="voorbeeld"),
        join_url=external_url("attendance.join", token="voorbeeld"),
        previous=_last_move(event) if kind == "event_moved" else (None, None),
    )


def _preview_or_404(slug: str, kind: str) -> tuple[Event, Preview, Email]:
    event = event_or_404(slug)
    found = next((preview for preview in previews(event) if preview.kind == kind), None)
    if found is None:
        abort(404)
    return event, found, preview_message(event, kind)


@bp.get("/events/<slug>/e-mails")
@requires(EVENTS_VIEW)
def email_previews(slug: str):
    """Which e-mails registrants get, and when."""
    event = event_or_404(slug)
    return render_template("organiser/emails.html", event=event, previews=previews(event))


@bp.get("/events/<slug>/e-mails/<kind>")
@requires(EVENTS_VIEW)
def email_preview(slug: str, kind: str):
    """One e-mail as a registrant gets it: subject, text, formatted version and attachment."""
    event, preview, message = _preview_or_404(slug, kind)
    return render_template("organiser/email_preview.html", event=event, preview=preview, message=message,
                           all_previews=previews(event))


@bp.get("/events/<slug>/e-mails/<kind>/opgemaakt")
@requires(EVENTS_VIEW)
def email_preview_html(slug: str, kind: str):
    """The formatted version alone, for the frame on the preview page."""
    _, _, message = _preview_or_404(slug, kind)
    return framed_mail(message.html)


def framed_mail(html: str):
    """An e-mail's HTML as a page of its own, locked down for showing in a sandboxed frame."""
    response = make_response(html)
    response.headers["Content-Security-Policy"] = MAIL_PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
