"""Messages organisers write to a group of registrants: selections, placeholders, queueing.

A message starts as a draft: a Broadcast row with no recipients yet, so that a
test can be rendered by the worker like any other e-mail. Sending fills in
`send_at` and `recipients` and queues one outbox row per recipient; from then
on the message is fixed.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import Select, String, cast, func, literal, select
from sqlalchemy.orm import joinedload

from ..database import utcnow
from ..dutch import period
from ..events.models import OTHER_ROLE, Event
from ..extensions import db
from ..links import external_url
from ..mailing.models import MAIL_STATUS_LABELS, OutgoingMail
from ..mailing.services import queue_mail
from ..registration.models import Registration, RegistrationStatus
from ..registration.notifications import queue_from_select
from .models import Broadcast, Organiser
from .queries import joined_clause, registrations_query

KIND = "broadcast"


#: the statuses a message can go to, as the organiser chooses them and as the messages list says them
STATUSES = {
    RegistrationStatus.confirmed.value: "bevestigd",
    RegistrationStatus.waitlisted.value: "op de wachtlijst",
}
JOINED = {"": "", "ja": "deelgenomen", "nee": "niet deelgenomen"}
#: organisation types in the plural, for "van schoolbesturen en scholen"
_TYPE_PLURALS = {"Schoolbestuur": "schoolbesturen", "School": "scholen", "Gemeente": "gemeenten",
                 "Samenwerkingsverband": "samenwerkingsverbanden", "Anders": "andere organisaties"}
#: the fictional registrant of every preview and test: never a real registrant's data
SAMPLE_FIRST_NAME = "Voorbeeld"
SAMPLE_NAME = "Voorbeeld Deelnemer"
SAMPLE_EMAIL = "voorbeeld.deelnemer@example.org"


@dataclass(frozen=True)
class Selection:
    """Whom a message goes to: every condition must hold; an empty list means any value."""

    roles: tuple[str, ...] = ()
    statuses: tuple[str, ...] = (RegistrationStatus.confirmed.value,)
    organisation_types: tuple[str, ...] = ()
    #: "ja", "nee" or "" (both)
    joined: str = ""

    @classmethod
    def of(cls, broadcast: Broadcast) -> Selection:
        return cls(tuple(broadcast.roles or ()), tuple(broadcast.statuses or ()),
                   tuple(broadcast.organisation_types or ()), broadcast.joined or "")

    def columns(self) -> dict:
        """The selection as the Broadcast's columns."""
        return {"roles": list(self.roles), "statuses": list(self.statuses),
                "organisation_types": list(self.organisation_types), "joined": self.joined}

    @property
    def waitlist_only(self) -> bool:
        return self.statuses == (RegistrationStatus.waitlisted.value,)

    def describe(self, count: int | None = None) -> str:
        """In Dutch: 'Schoolbestuurders en schoolleiders, bevestigd, 23 ontvangers'."""
        who = _and([_plural_role(role) for role in self.roles]) if self.roles else "iedereen"
        parts = [who, _and([STATUSES[status] for status in self.statuses], "of")]
        if self.organisation_types:
            parts.append("van " + _and([_TYPE_PLURALS.get(kind, kind) for kind in self.organisation_types]))
        if self.joined:
            parts.append(JOINED[self.joined])
        if count is not None:
            parts.append(f"{count} {'ontvanger' if count == 1 else 'ontvangers'}")
        text = ", ".join(parts)
        return text[:1].upper() + text[1:]


def _and(words: list[str], last: str = "en") -> str:
    """'a', 'a en b', 'a, b en c'."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def _plural_role(role: str) -> str:
    """'Schoolleider' -> 'schoolleiders', 'HRM'er' -> 'HRM'ers'; a role we cannot pluralise stays as it is."""
    if role == OTHER_ROLE:
        return "anderen (rol Anders)"
    first, space, rest = role.partition(" ")
    if not first.endswith(("er", "eur", "der")):
        return role
    first += "s"
    if first[1:2].islower():  # not an abbreviation such as HRM'er
        first = first[:1].lower() + first[1:]
    return first + space + rest


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

#: the e-mails' statuses, in the order the messages list counts them
STATUS_LABELS = MAIL_STATUS_LABELS


def selection_label(broadcast: Broadcast) -> str:
    """Whom the message goes (or went) to, in Dutch; with the number of recipients once sent."""
    return Selection.of(broadcast).describe(None if is_draft(broadcast) else broadcast.recipients)


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


def sample_values(event: Event) -> dict[str, str]:
    """Placeholder values of the fictional registrant, for previews and tests: links that lead nowhere personal."""
    return placeholder_values(
        event,
        SAMPLE_FIRST_NAME,
        join_url=external_url("attendance.join", token="voorbeeld"),
        manage_url=external_url("registration.manage", token="voorbeeld"),
    )


def broadcast_mail(broadcast: Broadcast, event: Event, values: dict[str, str], *, waitlisted: bool,
                   test: bool = False):
    """The subject and template context of one e-mail of this message; `waitlisted`: the reader's status."""
    subject = " ".join(fill(broadcast.subject, values).split())  # one line, whatever a value holds
    body = fill(broadcast.body, values).replace("\r\n", "\n").strip()
    context = {
        "event": event,
        "body": body,
        "body_html": as_html(body),
        "manage_url": values["beheerlink"],
        "event_url": external_url("registration.show", slug=event.slug),
        "waitlisted": waitlisted,
        "test": test,
    }
    return (f"[Test] {subject}" if test else subject), context


def sample_mail(broadcast: Broadcast, event: Event, *, test: bool = False):
    """The message as the fictional registrant gets it (the preview, and a test)."""
    return broadcast_mail(broadcast, event, sample_values(event),
                          waitlisted=Selection.of(broadcast).waitlist_only, test=test)


def recipients_query(event: Event, selection: Selection) -> Select:
    """The registrations a message with this selection goes to, by name."""
    if not selection.statuses:  # no status would mean no one; never everyone
        raise ValueError("Kies ten minste één status.")
    statuses = [RegistrationStatus(status) for status in selection.statuses]
    query = registrations_query(event).where(Registration.status.in_(statuses))
    if selection.roles:
        query = query.where(Registration.role.in_(selection.roles))
    if selection.organisation_types:
        query = query.where(Registration.organisation_type.in_(selection.organisation_types))
    if selection.joined:
        query = query.where(joined_clause() if selection.joined == "ja" else ~joined_clause())
    return query


def count_selected(event: Event, selection: Selection) -> int:
    """How many registrations a message with this selection would go to now."""
    query = recipients_query(event, selection).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(query))


def count_recipients(event: Event, broadcast: Broadcast) -> int:
    """How many registrations the message would go to now."""
    return count_selected(event, Selection.of(broadcast))


def save_draft(event: Event, organiser: Organiser, broadcast: Broadcast | None = None, *,
               selection: Selection, subject: str, body: str) -> Broadcast:
    """Create or change a draft message."""
    if broadcast is None:
        broadcast = Broadcast(event_id=event.id, created_by_id=organiser.id, send_at=utcnow(), recipients=0)
        db.session.add(broadcast)
    elif not is_draft(broadcast):
        raise ValueError("Dit bericht is al verstuurd en kan niet meer worden gewijzigd.")
    for name, value in {**selection.columns(), "subject": subject, "body": body}.items():
        setattr(broadcast, name, value)
    db.session.flush()
    return broadcast


def is_draft(broadcast: Broadcast) -> bool:
    """Not sent yet: a message is only sent when it has recipients."""
    return broadcast.recipients == 0


def queue_test(broadcast: Broadcast, address: str, now: datetime | None = None) -> bool:
    """Queue the message once to `address` as the fictional registrant gets it; False if one was just queued."""
    now = now or utcnow()
    to = hashlib.sha256(address.lower().encode()).hexdigest()[:16]  # two colleagues in the same instant get one each
    return queue_mail(
        KIND,
        recipient=address,
        dedupe_key=f"{KIND}:{broadcast.id}:test:{to}:{now.timestamp():.6f}",
        event_id=broadcast.event_id,
        broadcast_id=broadcast.id,
        due_at=now,
    )


def _queue_recipients(event: Event, broadcast: Broadcast) -> int:
    """One INSERT ... SELECT: an outbox row per recipient, due at the send time."""
    key = literal(f"{KIND}:{broadcast.id}:", String) + cast(Registration.id, String)
    rows = recipients_query(event, Selection.of(broadcast)).order_by(None)
    return queue_from_select(rows, kind=KIND, key=key, event=event, due_at=broadcast.send_at,
                             broadcast_id=literal(broadcast.id))


def send_broadcast(event: Event, broadcast: Broadcast, send_at: datetime) -> int:
    """Queue the message for everyone in its selection, due at `send_at`. Raises ValueError in Dutch."""
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
