"""Demo data: the 'Samen onderwijs versnellen' online meeting, a demo organiser and some registrations.

Every person and school here is made up; addresses are at example.org.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time

from sqlalchemy import select

from .database import utcnow
from .dutch import AMSTERDAM
from .events.models import DEFAULT_ROLES, Event
from .events.services import create_event, get_event
from .extensions import db
from .organiser.models import Organiser
from .organiser.services import create_organiser
from .registration.models import Registration, RegistrationStatus

DEMO_SLUG = "samen-onderwijs-versnellen"
DEMO_ORGANISER = "organisator@example.org"

SUMMARY = (
    "Een gratis online bijeenkomst voor het primair onderwijs over het slim en "
    "samen inzetten van de middelen uit het Nationaal Programma Onderwijs."
)
BODY = """Er is geld beschikbaar om de gevolgen van de coronajaren in het onderwijs in te halen. Maar waar zet u als school of bestuur op in, en welke aanpak werkt echt?

In deze bijeenkomst laten we een route en hulpmiddelen zien waarmee u zelf de analyse maakt van wat uw leerlingen en uw school nodig hebben, en daarna gerichte keuzes maakt uit bewezen interventies.

We bespreken ook hoe u dat samen oppakt: met andere scholen, met uw bestuur en met de gemeente, en hoe u omgaat met de krapte op de arbeidsmarkt.

De bijeenkomst wordt georganiseerd door de alliantie Samen onderwijs versnellen: het CAOP, Sardes en Kennisland."""
AUDIENCE = (
    "Iedereen in het primair onderwijs die met de NPO-middelen aan de slag gaat: "
    "schoolbestuurders, schoolleiders, HRM'ers en (gemeentelijke) beleidsadviseurs "
    "met onderwijs of onderwijskwaliteit in hun portefeuille."
)
PRACTICAL = (
    "De bijeenkomst is online en gratis. Na uw aanmelding krijgt u een bevestiging "
    "met een agendabestand. Kort voor de start ontvangt u per e-mail uw persoonlijke "
    "link om deel te nemen."
)


#: made-up registrants: (first name, tussenvoegsel, last name, organisation, type, BRIN, board, role);
#: some write the same school differently, as people do, so the Organisaties page has work to show
REGISTRANTS = [
    ("Fenna", "", "Zwanenburg", "OBS De Linde", "School", "12AB", "Stichting Lindeboom", "Schoolleider"),
    ("Joost", "ter", "Kamphorst", "O.B.S. de Linde", "School", "", "Stichting Lindeboom", "Leraar"),
    ("Sanne", "de", "Wit", "CBS 't Kompas", "School", "34CD", "Stichting Primair Voorbeeld", "Schoolleider"),
    ("Ruud", "", "Hendriks", "C.B.S. Het Kompas", "School", "", "", "Intern begeleider"),
    ("Noor", "el", "Amrani", "R.K. Basisschool Sint-Jozef", "School", "56EF01", "", "Schoolleider"),
    ("Bas", "van", "Leeuwen", "Stichting Primair Voorbeeld", "Schoolbestuur", "78GH", "", "Schoolbestuurder"),
    ("Ilse", "", "Mulder", "Gemeente Voorbeeldstad", "Gemeente", "", "", "Beleidsadviseur gemeente"),
    ("Daan", "", "Visser", "Samenwerkingsverband Passend Onderwijs Voorbeeld", "Samenwerkingsverband", "", "",
     "Beleidsadviseur gemeente"),
    ("Lotte", "van der", "Berg", "Basisschool Het Mozaïek", "School", "", "Scholengroep Het Voorbeeld",
     "Schoolleider"),
    ("Mehmet", "", "Yilmaz", "Onderwijsadviesbureau Voorbeeld", "Anders", "", "", "HRM'er"),
]


def seed_registrations(event: Event, now: datetime) -> int:
    """Add the made-up registrants when the event has no registrations yet; no e-mail is queued for them."""
    if db.session.scalar(select(Registration.id).where(Registration.event_id == event.id).limit(1)):
        return 0
    for number, (first, tussenvoegsel, last, organisation, kind, brin, board, role) in enumerate(REGISTRANTS):
        email = f"{first}.{last}@example.org".lower()
        db.session.add(Registration(
            event_id=event.id, status=RegistrationStatus.confirmed, first_name=first, tussenvoegsel=tussenvoegsel,
            last_name=last, email=email, email_normalized=email, organisation=organisation,
            organisation_type=kind, brin=brin, board_name=board,
            # a meeting for primary education: schools and boards give po, the others leave it open
            sector="po" if kind in ("School", "Schoolbestuur") else "",
            role=role if role in event.role_choices() else "Anders",
            role_other="" if role in event.role_choices() else role,
            privacy_accepted_at=now, created_at=now, registered_at=now,
        ))
    db.session.flush()
    return len(REGISTRANTS)


def next_may_25_tuesday(today: date) -> date:
    """The first 25 May on or after `today` that falls on a Tuesday."""
    year = today.year
    while True:
        day = date(year, 5, 25)
        if day >= today and day.weekday() == 1:
            return day
        year += 1


def amsterdam(day: date, hour: int, minute: int) -> datetime:
    """A local Amsterdam time on `day`, as an aware datetime."""
    return datetime.combine(day, time(hour, minute), tzinfo=AMSTERDAM)


def seed_demo(today: date) -> tuple[Event, Organiser | None, str | None]:
    """Add the demo event, its registrants and the organiser when missing. Returns the new password, if any."""
    event = get_event(DEMO_SLUG)
    if event is None:
        day = next_may_25_tuesday(today)
        event = create_event(
            slug=DEMO_SLUG,
            title="Samen onderwijs versnellen",
            starts_at=amsterdam(day, 16, 0),
            ends_at=amsterdam(day, 17, 15),
            meeting_url="https://meet.example.org/samen-onderwijs-versnellen",
            capacity=250,
            summary=SUMMARY,
            body=BODY,
            audience=AUDIENCE,
            practical=PRACTICAL,
            contact_name="Mirjam de Vries (CAOP)",
            contact_email="bijeenkomsten@example.org",
            contact_phone="070 123 45 67",
            roles=list(DEFAULT_ROLES),
        )
    seed_registrations(event, utcnow())
    organiser = db.session.scalar(select(Organiser).where(Organiser.email == DEMO_ORGANISER))
    password = None
    if organiser is None:
        password = secrets.token_urlsafe(12)
        organiser = create_organiser(DEMO_ORGANISER, password, name="Demo-organisator")
    return event, organiser, password
