"""Calendar files and 'add to calendar' links for an event.

Times are written in UTC, with no VTIMEZONE, so that every calendar program
reads the same moment (docs/calendar.md says why). The ORGANIZER is the
sender, which RFC 5546 asks for with METHOD:PUBLISH and CANCEL; there is no
ATTENDEE, so calendar programs offer no accept/decline replies. The file
carries no meeting URL and no personal data, so nothing private leaks when it
is forwarded.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parseaddr
from urllib.parse import urlencode

from flask import current_app
from icalendar import Calendar, vCalAddress
from icalendar import Event as VEvent

from ..database import utcnow
from ..links import external_url
from .models import Event

PRODID = "-//webinar//Samen onderwijs versnellen//NL"


def calendar_description(event: Event) -> str:
    """The text in the calendar entry."""
    parts = [event.summary.strip()] if event.summary.strip() else []
    parts.append(
        "Online bijeenkomst. Kort voor de start ontvangt u per e-mail uw persoonlijke "
        "deelnamelink."
    )
    parts.append(f"Meer informatie: {external_url('registration.show', slug=event.slug)}")
    return "\n\n".join(parts)


def _utc(moment: datetime) -> datetime:
    """The moment in UTC, also when it was just set in another zone and not yet reloaded."""
    return moment.astimezone(timezone.utc)


def organizer() -> vCalAddress:
    """The ORGANIZER: the name and address mail is sent from."""
    name, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    organizer = vCalAddress(f"mailto:{address}")
    if name:
        organizer.params["cn"] = name
    return organizer


def build_calendar(event: Event, *, method: str = "PUBLISH", now: datetime | None = None) -> bytes:
    """The event as an iCalendar file (one VEVENT, times in UTC)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    entry = VEvent()
    entry.add("uid", event.ics_uid)
    entry.add("dtstamp", now or utcnow())
    entry.add("dtstart", _utc(event.starts_at))
    entry.add("dtend", _utc(event.ends_at))
    entry.add("sequence", event.version)
    entry.add("summary", event.title)
    entry.add("description", calendar_description(event))
    entry.add("location", "Online")
    entry.add("url", external_url("registration.show", slug=event.slug))
    entry.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    entry.add("transp", "OPAQUE")
    entry.add("organizer", organizer())
    calendar.add_component(entry)
    return calendar.to_ical()


def google_calendar_url(event: Event) -> str:
    """A link that opens Google Calendar with the event filled in."""
    dates = f"{_utc(event.starts_at):%Y%m%dT%H%M%SZ}/{_utc(event.ends_at):%Y%m%dT%H%M%SZ}"
    query = urlencode(
        {
            "action": "TEMPLATE",
            "text": event.title,
            "dates": dates,
            "details": calendar_description(event),
            "location": "Online",
            "ctz": "Europe/Amsterdam",
        }
    )
    return f"https://calendar.google.com/calendar/render?{query}"


def outlook_calendar_url(event: Event) -> str:
    """A link that opens Outlook.com's calendar (personal Microsoft accounts) with the event filled in."""
    return _outlook_compose_url("https://outlook.live.com", event)


def office_calendar_url(event: Event) -> str:
    """A link that opens Outlook for Microsoft 365 work and school accounts with the event filled in."""
    return _outlook_compose_url("https://outlook.office.com", event)


def _outlook_compose_url(host: str, event: Event) -> str:
    """Outlook on the web's 'new event' page on `host`, filled in; both hosts take the same query."""
    query = urlencode(
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": event.title,
            "startdt": f"{_utc(event.starts_at):%Y-%m-%dT%H:%M:%SZ}",
            "enddt": f"{_utc(event.ends_at):%Y-%m-%dT%H:%M:%SZ}",
            "body": calendar_description(event),
            "location": "Online",
        }
    )
    return f"{host}/calendar/0/deeplink/compose?{query}"
