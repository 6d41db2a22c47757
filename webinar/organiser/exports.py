"""Registrations and attendance as CSV and XLSX, with the filters of the registrations table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from flask import request, send_file
from flask_login import current_user
from sqlalchemy import Row, Select
from sqlalchemy.orm import aliased

from ..attendance.models import Attendance, AttendanceSource
from ..audit import audit
from ..database import utcnow
from ..dutch import local
from ..events.lookup import event_or_404
from ..events.models import Event
from ..extensions import db
from ..registration.models import STATUS_LABELS, Registration, RegistrationStatus
from . import bp
from .figures import kept_counts
from .queries import Filters, registrations_query
from .spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, Sheet, write_csv, write_xlsx

REGISTRATION_COLUMNS = [
    "Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres", "Organisatie", "Soort organisatie",
    "Rol", "Rol (anders)", "Status", "Aangemeld op", "Vraag",
]
REGISTRATION_WIDTHS = [16, 12, 20, 32, 32, 20, 20, 20, 16, 17, 50]
ATTENDANCE_COLUMNS = [
    "Naam", "E-mailadres", "Organisatie", "Rol", "Deelgenomen", "Eerste keer binnen",
    "Minuten aanwezig", "Bron",
]
ATTENDANCE_WIDTHS = [30, 32, 32, 24, 13, 19, 17, 11]
SOURCE_LABELS = {
    AttendanceSource.link: "link",
    AttendanceSource.report: "rapport",
    AttendanceSource.manual: "handmatig",
}
#: what the exports read of a registration
REGISTRATION_FIELDS = (
    Registration.first_name, Registration.tussenvoegsel, Registration.last_name, Registration.email,
    Registration.organisation, Registration.organisation_type, Registration.role, Registration.role_other,
    Registration.status, Registration.created_at, Registration.question,
)
#: ?scheidingsteken=komma gives commas; anything else the semicolon Dutch Excel expects
DELIMITERS = {"komma": ",", "puntkomma": ";"}


def moment_text(moment: datetime | None) -> str:
    """'25-05-2027 16:00' in Amsterdam time, or empty."""
    return local(moment).strftime("%d-%m-%Y %H:%M") if moment else ""


# The model's own wording, applied to plain result rows (which load far faster than objects).
full_name = Registration.full_name.fget
role_label = Registration.role_label.fget


def registration_row(r: Row) -> list:
    """One registration in REGISTRATION_COLUMNS order."""
    return [
        r.first_name, r.tussenvoegsel, r.last_name, r.email, r.organisation, r.organisation_type,
        r.role, r.role_other, STATUS_LABELS[r.status], moment_text(r.created_at), r.question,
    ]


def attendance_row(r: Row) -> list:
    """One registrant's attendance in ATTENDANCE_COLUMNS order."""
    person = [full_name(r), r.email, r.organisation, role_label(r)]
    if r.first_joined_at is None:
        return [*person, "nee", "", "", ""]
    return [*person, "ja", moment_text(r.first_joined_at), r.minutes_present, SOURCE_LABELS[r.source]]


@dataclass
class Export:
    """What one export holds, before it is written as CSV or XLSX."""

    #: "aanmeldingen" or "aanwezigheid": in the file name and the audit log
    kind: str
    sheet: Sheet
    summary: Sheet

    @property
    def rows(self) -> list[list]:
        return self.sheet.rows


def describe(filters: Filters) -> str:
    """'rol=Schoolleider, status=aangemeld', or 'geen'."""
    return ", ".join(f"{name}={value}" for name, value in filters.as_args().items()) or "geen"


def _most_first(counts: Counter) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _counted(title: str, values: list[str], joined: list[bool] | None) -> list[list]:
    """A heading row, then each value with its count (and how many joined), most first; a blank row."""
    values = [value or "Onbekend" for value in values]
    counts = Counter(values)
    if joined is None:
        rows = [[title, "Aantal"]]
        rows += [[value, count] for value, count in _most_first(counts)]
    else:
        present = Counter(value for value, came in zip(values, joined) if came)
        rows = [[title, "Aantal", "Deelgenomen"]]
        rows += [[value, count, present[value]] for value, count in _most_first(counts)]
    return rows + [[]]


def same_spelling(names: list[str]) -> list[str]:
    """Each name as first spelled, so that 'obs de  linde' counts with 'OBS De Linde'."""
    first: dict[str, str] = {}
    return [first.setdefault(" ".join(name.split()).casefold(), " ".join(name.split())) for name in names]


def summary(event: Event, filters: Filters, rows: list[Row], joined: list[bool] | None = None) -> Sheet:
    """Counts by role, organisation type, organisation and status of the exported rows."""
    lines = [["Filters", describe(filters)], ["Aantal rijen", len(rows)], []]
    lines += _counted("Rol", [r.role for r in rows], joined)
    lines += _counted("Soort organisatie", [r.organisation_type for r in rows], joined)
    lines += _counted("Organisatie", same_spelling([r.organisation for r in rows]), joined)
    lines += _counted("Status", [STATUS_LABELS[r.status] for r in rows], joined)
    lines += _kept_lines(event)
    return Sheet("Samenvatting", ["Bijeenkomst", event.title], lines[:-1], widths=[28, 40, 13])


def _kept_lines(event: Event) -> list[list]:
    """The anonymous counts kept when the event's personal data was removed; filters do not apply."""
    kept = kept_counts(event)
    if not kept:
        return []

    def spread(value: Callable) -> list:
        return [item for row in kept for item in [value(row)] * row.count]

    joined = spread(lambda row: row.joined)
    lines = [["Bewaard na het verwijderen van de persoonsgegevens (zonder filters)"]]
    lines += _counted("Rol", spread(lambda row: row.role), joined)
    lines += _counted("Soort organisatie", spread(lambda row: row.organisation_type), joined)
    return lines + _counted("Status", spread(lambda row: STATUS_LABELS[RegistrationStatus(row.status)]), joined)


def _query(event: Event, filters: Filters, *columns) -> Select:
    """The table's query (filters, order), reading REGISTRATION_FIELDS and `columns` as plain rows."""
    return registrations_query(event, filters).with_only_columns(*REGISTRATION_FIELDS, *columns)


def registrations_export(event: Event, filters: Filters) -> Export:
    """The event's registrations matching the filters, one row each."""
    found = db.session.execute(_query(event, filters)).all()
    rows = [registration_row(r) for r in found]
    sheet = Sheet("Aanmeldingen", REGISTRATION_COLUMNS, rows, REGISTRATION_WIDTHS)
    return Export("aanmeldingen", sheet, summary(event, filters, found))


def attendance_export(event: Event, filters: Filters) -> Export:
    """For each registrant matching the filters: joined or not, when first, how long, how we know."""
    # An alias: the filter's EXISTS on attendance must not correlate with this join.
    present = aliased(Attendance)
    query = _query(event, filters, present.first_joined_at, present.minutes_present, present.source)
    query = query.outerjoin(present, present.registration_id == Registration.id)
    found = db.session.execute(query).all()
    rows = [attendance_row(r) for r in found]
    sheet = Sheet("Aanwezigheid", ATTENDANCE_COLUMNS, rows, ATTENDANCE_WIDTHS)
    joined = [r.first_joined_at is not None for r in found]
    return Export("aanwezigheid", sheet, summary(event, filters, found, joined))


def as_csv(export: Export, delimiter: str = ";") -> bytes:
    """The export's rows as CSV: a header row, then the rows (no summary)."""
    return write_csv([export.sheet.header, *export.rows], delimiter=delimiter)


def as_xlsx(export: Export) -> bytes:
    """The export as a workbook: the rows, then the summary."""
    return write_xlsx([export.sheet, export.summary])


def _send(slug: str, build: Callable[[Event, Filters], Export], extension: str):
    """Build the export with the request's filters, audit it, and send it as a download."""
    event = event_or_404(slug)
    filters = Filters.from_args(request.args)
    export = build(event, filters)
    if extension == "csv":
        delimiter = DELIMITERS.get(request.args.get("scheidingsteken", ""), ";")
        data, mimetype = as_csv(export, delimiter), CSV_MIMETYPE
    else:
        data, mimetype = as_xlsx(export), XLSX_MIMETYPE
    count = len(export.rows)
    audit(current_user, f"export.{extension}",
          f"{export.kind} ({count} {'rij' if count == 1 else 'rijen'}), filters: {describe(filters)}", event)
    db.session.commit()
    day = local(utcnow()).date().isoformat()
    response = send_file(BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=f"{event.slug}-{export.kind}-{day}.{extension}")
    # Personal data: no copies in browser or proxy caches.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/events/<slug>/registrations.csv")
def export_registrations_csv(slug: str):
    """The registrations as CSV (;-separated unless ?scheidingsteken=komma)."""
    return _send(slug, registrations_export, "csv")


@bp.get("/events/<slug>/registrations.xlsx")
def export_registrations_xlsx(slug: str):
    """The registrations as XLSX, with a summary sheet."""
    return _send(slug, registrations_export, "xlsx")


@bp.get("/events/<slug>/attendance.csv")
def export_attendance_csv(slug: str):
    """Attendance per registrant as CSV."""
    return _send(slug, attendance_export, "csv")


@bp.get("/events/<slug>/attendance.xlsx")
def export_attendance_xlsx(slug: str):
    """Attendance per registrant as XLSX, with a summary sheet."""
    return _send(slug, attendance_export, "xlsx")
