"""Importing a list of people from a CSV file, with a report of every row taken or refused."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime

from werkzeug.datastructures import MultiDict

from sqlalchemy import select

from ..events.models import OTHER_ROLE, Event
from ..events.services import lock_event
from ..extensions import db
from ..registration.forms import DetailsForm
from ..registration.models import ORGANISATION_TYPES, SECTORS, STATUS_LABELS, Registration, RegistrationStatus
from ..registration.services import Details, normalize_email, register_many
from .registrations_services import changes_allowed

#: DetailsForm field -> the column's name in the header (any case)
HEADERS = {
    "first_name": "voornaam",
    "tussenvoegsel": "tussenvoegsel",
    "last_name": "achternaam",
    "email": "e-mailadres",
    "organisation": "organisatie",
    "role": "rol",
    "role_other": "omschrijving rol",
    "organisation_type": "soort organisatie",
    "brin": "brin",
    "board_name": "bestuur",
    "sector": "sector",
    "question": "vraag",
}
#: header (lower case) -> field, including spellings people often use for the address
COLUMNS = {header: name for name, header in HEADERS.items()} | {
    "emailadres": "email", "e-mail": "email", "email": "email", "brin-code": "brin", "brincode": "brin",
}
REQUIRED = ("first_name", "last_name", "email", "organisation", "role")
#: what a list may say in the sector column (any case, spaces and hyphens ignored) -> the key
SECTOR_WORDS = {"po": "po", "vo": "vo", "so": "so_vso", "vso": "so_vso", "sovso": "so_vso", "so/vso": "so_vso",
                "meerdere": "meerdere", "meerderesectoren": "meerdere"} | {
    "".join(label.casefold().split()): key for key, label in SECTORS.items()}


class CsvProblem(ValueError):
    """The file as a whole cannot be read; the message says why, in Dutch."""


@dataclass
class ImportReport:
    """What became of each row. Row numbers count the header as row 1, as a spreadsheet does."""

    #: (row, name, e-mail, status label)
    taken: list[tuple[int, str, str, str]] = field(default_factory=list)
    #: (row, name or e-mail as far as known, reasons)
    refused: list[tuple[int, str, list[str]]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    #: whether storing went wrong for some rows (they are refused; the rest is stored)
    interrupted: bool = False


CLOSED_MEANWHILE = "Niet opgeslagen: de bijeenkomst is tijdens het importeren voorbij gegaan of geannuleerd"
NOT_STORED = "Niet opgeslagen door een storing; importeer het bestand opnieuw"


def read_rows(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The non-empty rows as field -> value, numbered; and the columns we do not know."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvProblem("Het bestand is geen UTF-8. Sla het in Excel op als ‘CSV UTF-8’.") from error
    lines = text.splitlines(keepends=True)
    if lines and lines[0].lower().startswith("sep="):  # Excel's own hint about the delimiter
        delimiter, lines = lines[0][4:5] or ";", lines[1:]
    else:
        header = lines[0] if lines else ""
        delimiter = ";" if header.count(";") > header.count(",") else ","
    try:
        records = list(csv.reader(lines, delimiter=delimiter))
    except csv.Error as error:
        raise CsvProblem("Het bestand kon niet als CSV-bestand worden gelezen.") from error
    if not records or not any(cell.strip() for cell in records[0]):
        raise CsvProblem("Het bestand is leeg.")
    names, ignored = _header(records[0])
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        values = {name: cell.strip() for name, cell in zip(names, record) if name}
        if len(record) > len(names) and any(cell.strip() for cell in record[len(names):]):
            values["_extra"] = "1"
        rows.append((number, values))
    if not rows:
        raise CsvProblem("Het bestand bevat geen rijen onder de kopregel.")
    return rows, ignored


def _header(cells: list[str]) -> tuple[list[str | None], list[str]]:
    names = [COLUMNS.get(" ".join(cell.split()).lower()) for cell in cells]
    missing = [HEADERS[name] for name in REQUIRED if name not in names]
    if missing:
        raise CsvProblem(
            "Deze kolommen ontbreken in de kopregel: " + ", ".join(missing) + ". "
            "Gebruik de kolomnamen " + ", ".join(HEADERS.values()) + "."
        )
    ignored = [cell.strip() for cell, name in zip(cells, names) if name is None and cell.strip()]
    return names, ignored


def _matching(value: str, options: list[str]) -> str | None:
    folded = value.casefold()
    return next((option for option in options if option.casefold() == folded), None)


def _prepared(event: Event, values: dict[str, str]) -> dict[str, str]:
    """Roles and organisation types matched regardless of case; an unknown role becomes 'Anders'."""
    values = dict(values)
    role = values.get("role", "")
    known = _matching(role, event.role_choices()) if role else None
    if role and known is None:
        values["role"], values["role_other"] = OTHER_ROLE, values.get("role_other") or role
    elif known:
        values["role"] = known
    kind = values.get("organisation_type", "")
    values["organisation_type"] = _matching(kind, ORGANISATION_TYPES) or kind
    sector = values.get("sector", "")
    values["sector"] = SECTOR_WORDS.get("".join(sector.casefold().replace("-", " ").split()), sector)
    return values


def _reasons(form: DetailsForm, values: dict[str, str]) -> list[str]:
    reasons = []
    for name, errors in form.errors.items():
        label = HEADERS.get(name, str(name)).capitalize()
        if name in REQUIRED and not values.get(name):
            reasons.append(f"{label} ontbreekt")
        elif name == "email":
            reasons.append(f"Ongeldig e-mailadres ‘{values.get('email', '')}’")
        elif name == "brin":
            reasons.append(f"BRIN-code ‘{values.get(name)}’: {errors[0]}")
        elif name == "sector":
            reasons.append(f"Onbekende sector ‘{values.get(name)}’; kies uit po, vo, so/vso of meerdere")
        elif name == "organisation_type":
            kinds = ", ".join(ORGANISATION_TYPES)
            reasons.append(f"Onbekende soort organisatie ‘{values.get(name)}’; kies uit {kinds}")
        else:
            reasons.append(f"{label}: {errors[0]}")
    if values.get("_extra"):
        reasons.append("Meer cellen dan er kolommen in de kopregel staan")
    return reasons


def _name(values: dict[str, str]) -> str:
    parts = (values.get("first_name", ""), values.get("tussenvoegsel", ""), values.get("last_name", ""))
    return " ".join(part for part in parts if part) or values.get("email", "")


@dataclass(frozen=True)
class Candidate:
    """A row that passed every check on its own, waiting to be stored."""

    number: int
    name: str
    details: Details
    #: the normalised address
    address: str


def check_rows(event: Event, rows: list[tuple[int, dict[str, str]]]) -> tuple[list[Candidate], ImportReport]:
    """Check every row as the public form would, and against the file and the stored registrations.

    Takes no lock: it only reads. Addresses registered while the rows are
    stored are caught again by `store_group`, under the event's lock.
    """
    report, seen, candidates = ImportReport(), {}, []
    registered = _registered_addresses(event)
    # One form, filled again for each row: building a form costs as much as checking it.
    form = DetailsForm(event, formdata=MultiDict(), meta={"csrf": False})
    form.type_required = False  # a list from elsewhere may lack it: "onbekend" until corrected
    for number, raw in rows:
        values = _prepared(event, raw)
        form.process(MultiDict(values))
        reasons = [] if form.validate() else _reasons(form, values)
        address = normalize_email(form.email.data or "")
        if not reasons and address in seen:
            reasons = [f"Dit e-mailadres staat al in rij {seen[address]}"]
        elif not reasons and address in registered:
            reasons = [_already_registered(registered[address])]
        if reasons:
            report.refused.append((number, _name(values), reasons))
            continue
        seen[address] = number
        candidates.append(Candidate(number, _name(values), form.details(), address))
    return candidates, report


def _registered_addresses(event: Event) -> dict[str, RegistrationStatus]:
    """The event's registered and waiting people by normalised address, in one query."""
    return dict(db.session.execute(
        select(Registration.email_normalized, Registration.status).where(
            Registration.event_id == event.id, Registration.status != RegistrationStatus.cancelled)
    ).all())


def _already_registered(status: RegistrationStatus) -> str:
    return f"Staat al aangemeld ({STATUS_LABELS[status].lower()})"


def store_group(
    event: Event, group: list[Candidate], *, now: datetime
) -> tuple[list[tuple[int, str, str, str]], list[tuple[int, str, list[str]]]]:
    """Register a group of checked rows under the event's lock: (taken, refused), as in ImportReport.

    Places are counted again for each group, so capacity holds across groups
    and against public registrations in between. Once the event is over or
    cancelled, the rows are refused. Flushes, never commits.
    """
    lock_event(event)
    if not changes_allowed(event, now):
        return [], [(candidate.number, candidate.name, [CLOSED_MEANWHILE]) for candidate in group]
    current = {
        registration.email_normalized: registration
        for registration in db.session.scalars(select(Registration).where(
            Registration.event_id == event.id,
            Registration.email_normalized.in_([candidate.address for candidate in group])))
    }
    refused, fresh = [], []
    for candidate in group:
        known = current.get(candidate.address)
        if known is not None and known.status != RegistrationStatus.cancelled:
            refused.append((candidate.number, candidate.name, [_already_registered(known.status)]))
        else:
            fresh.append(candidate)
    stored = register_many(event, [candidate.details for candidate in fresh], now=now, reuse=current)
    taken = [(candidate.number, registration.full_name, registration.email, registration.status_label)
             for candidate, registration in zip(fresh, stored)]
    return taken, refused
