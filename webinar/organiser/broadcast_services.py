"""Messages organisers write to a group of registrants: segments, placeholders, queueing.

A message starts as a draft: a Broadcast row with no recipients yet, so that a
test can be rendered by the worker like any other e-mail. Sending fills in
`send_at` and `recipients` and queues one outbox row per recipient; from then
on the message is fixed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import Select, String, cast, func, literal, select
from sqlalchemy.orm import joinedload

from ..database import utcnow
from ..dutch import period
from ..events.models import Event
from ..extensions import db
from ..links import external_url
from ..mailing.models import MailStatus, OutgoingMail
from ..mailing.services import queue_mail
from ..registration.models import Registration, RegistrationStatus
from ..registration.notifications import queue_from_select
from .models import Broadcast, Organiser
from .queries import Filters, registrations_query

KIND = "broadcast"


@dataclass(frozen=True)
class Segment:
    """A group of an event's registrants that a message can go to."""

    label: str
    #: the status a recipient must still have when the e-mail goes out
    status: RegistrationStatus
    #: the same group as filters of the registrations table
    filters: Filters


SEGMENTS: dict[str, Segment] = {
    "confirmed": Segment("Iedereen die is aangemeld", RegistrationStatus.confirmed, Filters(status="aangemeld")),
    "role": Segment("Aangemelden met een bepaalde rol", RegistrationStatus.confirmed, Filters(status="aangemeld")),
    "waitlisted": Segment("Iedereen op de wachtlijst", RegistrationStatus.waitlisted, Filters(status="wachtlijst")),
    "joined": Segment("Aangemelden die hebben deelgenomen", RegistrationStatus.confirmed,
                      Filters(status="aangemeld", deelgenomen="ja")),
    "not_joined": Segment("Aangemelden die niet hebben deelgenomen", RegistrationStatus.confirmed,
                          Filters(status="aangemeld", deelgenomen="nee")),
}

#: the placeholders an organiser may use, with what they become
PLACEHOLDERS = {
    "voornaam": "de voornaam van de ontvanger",
    "deelnamelink": "de persoonlijke link om deel te nemen (werkt vanaf kort voor de start)",
    "beheerlink": "de persoonlijke link om de aanmelding te bekijken, wijzigen of annuleren",
    "datum": "datum en tijd van de bijeenkomst",
}
#: anything in curly braces without spaces counts as a placeholder, so typos are caught
_PLACEHOLDER = re.compile(r"\{\s*([^{}\s]+)\s*\}")
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")

STATUS_LABELS = {
    MailStatus.pending: "In de wachtrij",
    MailStatus.sending: "Wordt verstuurd",
    MailStatus.sent: "Verstuurd",
    MailStatus.failed: "Mislukt",
    MailStatus.skipped: "Overgeslagen",
}


def segment_label(broadcast: Broadcast) -> str:
    """'Aangemelden met de rol Schoolleider', 'Iedereen op de wachtlijst', ..."""
    if broadcast.segment == "role":
        return f"Aangemelden met de rol {broadcast.role}"
    segment = SEGMENTS.get(broadcast.segment)
    return segment.label if segment else broadcast.segment


def segment_status(segment: str) -> RegistrationStatus:
    """The status a recipient of this segment must still have at send time."""
    return SEGMENTS[segment].status if segment in SEGMENTS else RegistrationStatus.confirmed


def unknown_placeholders(*texts: str) -> list[str]:
    """The placeholders in the texts that we do not know, as written, each once."""
    found = [m for text in texts for m in _PLACEHOLDER.finditer(text or "")]
    unknown = [m.group(0) for m in found if m.group(1).lower() not in PLACEHOLDERS]
    return list(dict.fromkeys(unknown))


def uses_placeholder(name: str, *texts: str) -> bool:
    """Whether one of the texts contains the placeholder."""
    return any(m.group(1).lower() == name for text in texts for m in _PLACEHOLDER.finditer(text or ""))


def fill(text: str, values: dict[str, str]) -> str:
    """Replace the known placeholders; anything else stays as written (never format())."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1).lower(), m.group(0)), text)


def _linked(line: str) -> Markup:
    parts, start = [], 0
    for match in _URL.finditer(line):
        parts.append(escape(line[start:match.start()]))
        parts.append(Markup('<a href="{0}" style="color:#0b5394;">{0}</a>').format(match.group(0)))
        start = match.end()
    parts.append(escape(line[start:]))
    return Markup("").join(parts)


def as_html(text: str) -> Markup:
    """Plain text as escaped HTML: blank lines make paragraphs, web addresses become links."""
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(_linked(line) for line in paragraph.split("\n")))
        for paragraph in paragraphs
        if paragraph.strip()
    )


def placeholder_values(event: Event, first_name: str, *, join_url: str, manage_url: str) -> dict[str, str]:
    """What each placeholder becomes for one recipient."""
    return {
        "voornaam": first_name,
        "deelnamelink": join_url,
        "beheerlink": manage_url,
        "datum": period(event.starts_at, event.ends_at),
    }


def sample_values(event: Event, first_name: str = "Anna") -> dict[str, str]:
    """Placeholder values for previews and tests: links that lead nowhere personal."""
    return placeholder_values(
        event,
        first_name,
        join_url=external_url("attendance.join", token="voorbeeld"),
        manage_url=external_url("registration.manage", token="voorbeeld"),
    )


def broadcast_mail(broadcast: Broadcast, event: Event, values: dict[str, str], *, test: bool = False):
    """The subject and template context of one e-mail of this message."""
    subject = " ".join(fill(broadcast.subject, values).split())  # one line, whatever a value holds
    body = fill(broadcast.body, values).replace("\r\n", "\n").strip()
    context = {
        "event": event,
        "body": body,
        "body_html": as_html(body),
        "manage_url": values["beheerlink"],
        "event_url": external_url("registration.show", slug=event.slug),
        "waitlisted": broadcast.segment == "waitlisted",
        "test": test,
    }
    return (f"[Test] {subject}" if test else subject), context


def recipients_query(event: Event, segment: str, role: str = "") -> Select:
    """The registrations a message to this segment goes to, by name."""
    filters = SEGMENTS[segment].filters
    if segment == "role":
        if not role:  # an empty role filter would mean everyone
            raise ValueError("Kies een rol.")
        filters = Filters(status=filters.status, rol=role)
    return registrations_query(event, filters)


def count_recipients(event: Event, broadcast: Broadcast) -> int:
    """How many registrations the message would go to now."""
    query = recipients_query(event, broadcast.segment, broadcast.role).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(query))


def first_recipient(event: Event, broadcast: Broadcast) -> Registration | None:
    """The first registration the message would go to, for the preview."""
    return db.session.scalars(recipients_query(event, broadcast.segment, broadcast.role).limit(1)).first()


def save_draft(event: Event, organiser: Organiser, broadcast: Broadcast | None = None, **values) -> Broadcast:
    """Create or change a draft message. Values: segment, role, subject, body."""
    if broadcast is None:
        broadcast = Broadcast(event_id=event.id, created_by_id=organiser.id, send_at=utcnow(), recipients=0)
        db.session.add(broadcast)
    elif not is_draft(broadcast):
        raise ValueError("Dit bericht is al verstuurd en kan niet meer worden gewijzigd.")
    for name in ("segment", "role", "subject", "body"):
        setattr(broadcast, name, values[name])
    db.session.flush()
    return broadcast


def is_draft(broadcast: Broadcast) -> bool:
    """Not sent yet: a message is only sent when it has recipients."""
    return broadcast.recipients == 0


def queue_test(broadcast: Broadcast, address: str, now: datetime | None = None) -> bool:
    """Queue the message once to `address` with sample values; False if one was just queued."""
    now = now or utcnow()
    return queue_mail(
        KIND,
        recipient=address,
        dedupe_key=f"{KIND}:{broadcast.id}:test:{now.timestamp():.6f}",
        event_id=broadcast.event_id,
        broadcast_id=broadcast.id,
        due_at=now,
    )


def _queue_recipients(event: Event, broadcast: Broadcast) -> int:
    """One INSERT ... SELECT: an outbox row per recipient, due at the send time."""
    key = literal(f"{KIND}:{broadcast.id}:", String) + cast(Registration.id, String)
    rows = recipients_query(event, broadcast.segment, broadcast.role).order_by(None)
    return queue_from_select(rows, kind=KIND, key=key, event=event, due_at=broadcast.send_at,
                             broadcast_id=literal(broadcast.id))


def send_broadcast(event: Event, broadcast: Broadcast, send_at: datetime) -> int:
    """Queue the message for everyone in its segment, due at `send_at`. Raises ValueError in Dutch."""
    if not is_draft(broadcast):
        raise ValueError("Dit bericht is al verstuurd.")
    broadcast.send_at = send_at
    db.session.flush()
    count = _queue_recipients(event, broadcast)
    if count == 0:
        raise ValueError("Er is niemand in deze groep. Kies een andere groep of wacht op aanmeldingen.")
    broadcast.recipients = count
    db.session.flush()
    return count


def event_broadcasts(event: Event) -> list[Broadcast]:
    """The event's messages, newest first."""
    return list(db.session.scalars(
        select(Broadcast).where(Broadcast.event_id == event.id).order_by(Broadcast.id.desc())
    ))


def status_counts(event: Event) -> dict[int, Counter]:
    """Per message: how many of its recipients' e-mails have each status (tests left out)."""
    counts: dict[int, Counter] = {}
    for broadcast_id, status, count in db.session.execute(
        select(OutgoingMail.broadcast_id, OutgoingMail.status, func.count(OutgoingMail.id))
        .join(Broadcast, Broadcast.id == OutgoingMail.broadcast_id)
        .where(Broadcast.event_id == event.id, OutgoingMail.registration_id.is_not(None))
        .group_by(OutgoingMail.broadcast_id, OutgoingMail.status)
    ):
        counts.setdefault(broadcast_id, Counter())[status] = count
    return counts


def recipient_mails(broadcast: Broadcast) -> list[OutgoingMail]:
    """The message's e-mails, tests included, with their registrations, in order of queueing."""
    return list(db.session.scalars(
        select(OutgoingMail)
        .options(joinedload(OutgoingMail.registration))
        .where(OutgoingMail.broadcast_id == broadcast.id)
        .order_by(OutgoingMail.id)
    ))
