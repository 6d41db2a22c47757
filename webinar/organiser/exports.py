"""Registrations and attendance as CSV and XLSX, with the filters of the registrations table.

Every row starts with the meeting's title and date and carries a status in
words that do not change (bevestigd, wachtlijst, afgemeld, aanwezig), so the
files of several meetings can be stacked into one report. In XLSX the
moments are real Excel dates (Amsterdam time) and every sheet has an
autofilter; a CSV holds them as text.

The rows are read as plain tuples in one query (no ORM objects), the status
word worked out by the database. The audit entry names the number of rows,
so the rows are read and the entry committed before the file is sent; a CSV
then goes out a chunk at a time as it is written (`csv_chunks`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import chain

from flask import Response, request
from flask_login import current_user
from sqlalchemy import Row, Select, String, case, exists, type_coerce
from sqlalchemy.orm import aliased

from ..attendance.models import Attendance, AttendanceSource
from ..attendance.walk_ins import walk_ins_of
from ..audit import audit
from ..database import utc_text, utcnow
from ..dutch import local
from ..events.lookup import event_or_404
from ..events.models import Event
from ..extensions import db
from ..registration.models import UNKNOWN_TYPE, Registration, RegistrationStatus
from . import bp
from .figures import kept_counts, walk_in_total
from .queries import Filters, registrations_query
from .spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, Sheet, csv_chunks, write_xlsx
from .roles import EVENTS_VIEW, EXPORT, requires

#: the meeting's columns, first in every row of both exports
EVENT_COLUMNS = ["Bijeenkomst", "Datum bijeenkomst"]
EVENT_WIDTHS = [32, 19]
REGISTRATION_COLUMNS = EVENT_COLUMNS + [
    "Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres", "Organisatie", "Soort organisatie",
    "BRIN", "Bestuur", "Rol", "Rol (anders)", "Status", "Aangemeld op", "Vraag",
]
REGISTRATION_WIDTHS = EVENT_WIDTHS + [16, 12, 20, 32, 32, 20, 8, 32, 20, 20, 12, 19, 50]
ATTENDANCE_COLUMNS = EVENT_COLUMNS + [
    "Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres", "Organisatie", "Soort organisatie",
    "BRIN", "Bestuur", "Rol", "Status", "Deelgenomen", "Eerste keer binnen", "Minuten aanwezig", "Bron",
]
ATTENDANCE_WIDTHS = EVENT_WIDTHS + [16, 12, 20, 32, 32, 20, 8, 32, 24, 12, 13, 19, 17, 11]
#: the status in an export: short words that stay the same, for reports over several meetings
EXPORT_STATUS = {
    RegistrationStatus.confirmed: "bevestigd",
    RegistrationStatus.waitlisted: "wachtlijst",
    RegistrationStatus.cancelled: "afgemeld",
}
#: the attendance export's status of a registrant who joined
ATTENDED = "aanwezig"
#: the attendance export's status of someone in a report without a registration (a walk-in)
WALK_IN = "niet aangemeld"
SOURCE_LABELS = {
    AttendanceSource.link: "link",
    AttendanceSource.report: "rapport",
    AttendanceSource.manual: "handmatig",
}
#: what the exports read of a registration, in REGISTRATION_COLUMNS order after EVENT_COLUMNS:
#: the status as its export word, the moment of registering as UTC text (see `MomentText`)
REGISTRATION_FIELDS = (
    Registration.first_name, Registration.tussenvoegsel, Registration.last_name, Registration.email,
    Registration.organisation,
    # rows from before the type was asked have none: "Onbekend" until corrected
    case((Registration.organisation_type == "", UNKNOWN_TYPE), else_=Registration.organisation_type)
    .label("organisation_type"),
    Registration.brin, Registration.board_name, Registration.role, Registration.role_other,
    # the enum column stores the member's name
    case({status.name: label for status, label in EXPORT_STATUS.items()},
         value=type_coerce(Registration.status, String)).label("status"),
    utc_text(Registration.created_at).label("created_at"), Registration.question,
)
#: where REGISTRATION_FIELDS has what the summary counts, and the moment of registering
ORGANISATION, ORGANISATION_TYPE, ROLE, STATUS, CREATED_AT = 4, 5, 8, 10, 11
#: ?scheidingsteken=komma gives commas; anything else the semicolon Dutch Excel expects
DELIMITERS = {"komma": ",", "puntkomma": ";"}


def moment_text(moment: datetime | None) -> str:
    """'25-05-2027 16:00' in Amsterdam time, or empty."""
    return local(moment).strftime("%d-%m-%Y %H:%M") if moment else ""


class MomentText:
    """`moment_text` of a UTC moment given as 'YYYY-MM-DD HH:MM[...]' (`utc_text`), each UTC hour worked out once.

    Amsterdam's offset from UTC is a whole number of hours and changes on the
    hour, so within one UTC hour only the minutes differ; an hour for which
    that does not hold is worked out moment by moment.
    """

    def __init__(self) -> None:
        #: 'YYYY-MM-DD HH' in UTC: 'DD-MM-YYYY HH' in Amsterdam, or None
        self.hours: dict[str, str | None] = {}

    def __call__(self, utc: str | None) -> str:
        if not utc:
            return ""
        try:
            return self.hours[utc[:13]] + utc[13:16]
        except KeyError:
            self.hours[utc[:13]] = self._hour_text(utc[:13])
            return self(utc)
        except TypeError:  # None: the offset is no whole number of hours, or changes within the hour
            return moment_text(datetime.fromisoformat(utc).replace(tzinfo=timezone.utc))

    @staticmethod
    def _hour_text(hour: str) -> str | None:
        start = datetime.fromisoformat(hour + ":00").replace(tzinfo=timezone.utc)
        first, last = local(start), local(start + timedelta(hours=1) - timedelta(microseconds=1))
        if first.minute or first.utcoffset() != last.utcoffset():
            return None
        return first.strftime("%d-%m-%Y %H")


class MomentValue:
    """A UTC moment given as 'YYYY-MM-DD HH:MM[...]' as a naive datetime in Amsterdam time, for an XLSX cell.

    Worked out once per UTC hour like `MomentText`: Excel has no time zones,
    so the cell shows the Amsterdam wall-clock time.
    """

    def __init__(self) -> None:
        self.hours: dict[str, datetime | None] = {}

    def __call__(self, utc: str | None) -> datetime | None:
        if not utc:
            return None
        try:
            return self.hours[utc[:13]].replace(minute=int(utc[14:16]))
        except KeyError:
            self.hours[utc[:13]] = self._hour_start(utc[:13])
            return self(utc)
        except AttributeError:  # None: the offset is no whole number of hours, or changes within the hour
            moment = datetime.fromisoformat(utc[:16]).replace(tzinfo=timezone.utc)
            return local(moment).replace(tzinfo=None)

    @staticmethod
    def _hour_start(hour: str) -> datetime | None:
        start = datetime.fromisoformat(hour + ":00").replace(tzinfo=timezone.utc)
        first, last = local(start), local(start + timedelta(hours=1) - timedelta(microseconds=1))
        if first.minute or first.utcoffset() != last.utcoffset():
            return None
        return first.replace(tzinfo=None)


def event_cells(event: Event, xlsx: bool) -> tuple:
    """The meeting's title and start, as the first cells of each row."""
    start = local(event.starts_at)
    return (event.title, start.replace(tzinfo=None) if xlsx else start.strftime("%d-%m-%Y %H:%M"))


# The model's own wording, applied to plain result rows (which load far faster than objects).
role_label = Registration.role_label.fget


def registration_rows(found: Iterable[Row], head: tuple, xlsx: bool = False) -> list[tuple]:
    """Each registration in REGISTRATION_COLUMNS order: `head` (`event_cells`), then REGISTRATION_FIELDS."""
    moment = MomentValue() if xlsx else MomentText()
    return [head + r[:CREATED_AT] + (moment(r[CREATED_AT]),) + r[CREATED_AT + 1:] for r in found]


def attendance_rows(found: Sequence[Row], head: tuple, xlsx: bool = False) -> list[list]:
    """Each registrant's attendance in ATTENDANCE_COLUMNS order."""
    moment = MomentValue() if xlsx else MomentText()
    rows = []
    for r in found:
        person = [*head, *r[:ROLE], role_label(r)]
        if r.first_joined_at is None:
            rows.append([*person, r[STATUS], "nee", "", "", ""])
        else:
            rows.append([*person, ATTENDED, "ja", moment(r.first_joined_at), r.minutes_present,
                         SOURCE_LABELS[r.source]])
    return rows


def walk_in_rows(event: Event, filters: Filters, head: tuple, xlsx: bool = False) -> list[list]:
    """The walk-ins in ATTENDANCE_COLUMNS order (the report's name as the last name), after the registrants.

    Only the search applies to them: they have no role or registration status,
    and they all joined.
    """
    if filters.rol or filters.status or filters.deelgenomen == "nee":
        return []
    rows = []
    for walk_in in walk_ins_of(event, filters.q):
        joined = walk_in.first_joined_at
        moment = (local(joined).replace(tzinfo=None) if xlsx else moment_text(joined)) if joined else ""
        rows.append([*head, "", "", walk_in.name, walk_in.email, "", "", "", "", "", WALK_IN, "ja", moment,
                     walk_in.minutes_present, SOURCE_LABELS[AttendanceSource.report]])
    return rows


@dataclass
class Export:
    """What one export holds, before it is written as CSV or XLSX."""

    #: "aanmeldingen" or "aanwezigheid": in the file name and the audit log
    kind: str
    sheet: Sheet
    #: the summary sheet, worked out only for the XLSX (a CSV has no room for it)
    summary: Callable[[], Sheet]

    @property
    def rows(self) -> list[Sequence]:
        return self.sheet.rows


def describe(filters: Filters) -> str:
    """'rol=Schoolleider, status=aangemeld', or 'geen'."""
    return ", ".join(f"{name}={value}" for name, value in filters.as_args().items()) or "geen"


def _most_first(counts: Counter) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _counted(title: str, values: list[str], statuses: list[str], joined: list[bool] | None) -> list[list]:
    """A heading row, then each value with its count split by status (and how many joined), most first;
    a blank row. `statuses` holds each row's EXPORT_STATUS word."""
    values = [value or UNKNOWN_TYPE for value in values]
    counts = Counter(values)
    by_status = Counter(zip(values, statuses))
    words = list(EXPORT_STATUS.values())
    if joined is None:
        rows = [[title, "Aantal", *words]]
        rows += [[value, count, *(by_status[value, word] for word in words)]
                 for value, count in _most_first(counts)]
    else:
        present = Counter(value for value, came in zip(values, joined) if came)
        rows = [[title, "Aantal", *words, ATTENDED]]
        rows += [[value, count, *(by_status[value, word] for word in words), present[value]]
                 for value, count in _most_first(counts)]
    return rows + [[]]


def same_spelling(names: list[str]) -> list[str]:
    """Each name as first spelled, so that 'obs de  linde' counts with 'OBS De Linde'."""
    first: dict[str, str] = {}
    return [first.setdefault(" ".join(name.split()).casefold(), " ".join(name.split())) for name in names]


def summary(event: Event, filters: Filters, rows: Sequence[Sequence], joined: list[bool] | None = None) -> Sheet:
    """Counts by role, organisation type, organisation and status of the rows (REGISTRATION_FIELDS first),
    each split by status as on the dashboard."""
    statuses = [r[STATUS] for r in rows]
    lines = [["Datum bijeenkomst", local(event.starts_at).replace(tzinfo=None)],
             ["Filters", describe(filters)], ["Aantal rijen", len(rows)], []]
    lines += _counted("Rol", [r[ROLE] for r in rows], statuses, joined)
    lines += _counted("Soort organisatie", [r[ORGANISATION_TYPE] for r in rows], statuses, joined)
    lines += _counted("Organisatie", same_spelling([r[ORGANISATION] for r in rows]), statuses, joined)
    lines += _counted("Status", statuses, statuses, joined)
    lines += [["Niet aangemeld, wel aanwezig (zonder filters)", walk_in_total(event)], []]
    lines += _kept_lines(event)
    return Sheet("Samenvatting", ["Bijeenkomst", event.title], lines[:-1], widths=[28, 40, 13, 13, 13, 13])


def _kept_lines(event: Event) -> list[list]:
    """The anonymous counts kept when the event's personal data was removed; filters do not apply."""
    kept = kept_counts(event)
    if not kept:
        return []

    def spread(value: Callable) -> list:
        return [item for row in kept for item in [value(row)] * row.count]

    joined = spread(lambda row: row.joined)
    statuses = spread(lambda row: EXPORT_STATUS[RegistrationStatus(row.status)])
    lines = [["Bewaard na het verwijderen van de persoonsgegevens (zonder filters)"]]
    lines += _counted("Rol", spread(lambda row: row.role), statuses, joined)
    lines += _counted("Soort organisatie", spread(lambda row: row.organisation_type), statuses, joined)
    return lines + _counted("Status", statuses, statuses, joined)


def _query(event: Event, filters: Filters, *columns) -> Select:
    """The table's query (filters, order), reading REGISTRATION_FIELDS and `columns` as plain rows."""
    return registrations_query(event, filters).with_only_columns(*REGISTRATION_FIELDS, *columns)


def _rows(query: Select) -> Sequence[Row]:
    """The query's rows, read on the session's connection as plain tuples (no ORM step), all at once.

    The driver holds the whole result already (a client-side cursor); taken
    row by row, each took three calls through SQLAlchemy and psycopg, about
    half the CSV export's CPU on PostgreSQL.
    """
    return db.session.connection().execute(query).all()


def registrations_export(event: Event, filters: Filters, xlsx: bool = False) -> Export:
    """The event's registrations matching the filters, one row each (moments as datetimes for XLSX)."""
    head = event_cells(event, xlsx)
    rows = registration_rows(_rows(_query(event, filters)), head, xlsx)
    sheet = Sheet("Aanmeldingen", REGISTRATION_COLUMNS, rows, REGISTRATION_WIDTHS)
    # the summary reads the rows in REGISTRATION_FIELDS' positions, after the meeting's cells
    return Export("aanmeldingen", sheet,
                  lambda: summary(event, filters, [r[len(head):] for r in rows], _joined(event, filters)))


def _joined(event: Event, filters: Filters) -> list[bool]:
    """Whether each registration of the table's query joined, in its order (for the summary only)."""
    present = aliased(Attendance)
    came = exists().where(present.registration_id == Registration.id).label("joined")
    return [bool(joined) for (joined,) in _rows(registrations_query(event, filters).with_only_columns(came))]


def attendance_export(event: Event, filters: Filters, xlsx: bool = False) -> Export:
    """For each registrant matching the filters: joined or not, when first, how long, how we know."""
    # An alias: the filter's EXISTS on attendance must not correlate with this join.
    present = aliased(Attendance)
    joined_at = utc_text(present.first_joined_at).label("first_joined_at")
    query = _query(event, filters, joined_at, present.minutes_present, present.source)
    found = _rows(query.outerjoin(present, present.registration_id == Registration.id))
    head = event_cells(event, xlsx)
    rows = attendance_rows(found, head, xlsx) + walk_in_rows(event, filters, head, xlsx)
    sheet = Sheet("Aanwezigheid", ATTENDANCE_COLUMNS, rows, ATTENDANCE_WIDTHS)
    return Export("aanwezigheid", sheet,
                  lambda: summary(event, filters, found, [r.first_joined_at is not None for r in found]))


def as_csv(export: Export, delimiter: str = ";") -> bytes:
    """The export's rows as CSV: a header row, then the rows (no summary)."""
    return b"".join(csv_chunks(chain([export.sheet.header], export.rows), delimiter))


def as_xlsx(export: Export) -> bytes:
    """The export as a workbook: the rows, then the summary."""
    return write_xlsx([export.sheet, export.summary()])


def _send(slug: str, build: Callable[[Event, Filters, bool], Export], extension: str):
    """Build the export with the request's filters, audit it, and send it as a download.

    The audit entry is committed before the first byte leaves; a CSV is then
    written and sent a chunk at a time, an XLSX (a zip file) whole.
    """
    event = event_or_404(slug)
    filters = Filters.from_args(request.args)
    export = build(event, filters, extension == "xlsx")
    if extension == "csv":
        delimiter = DELIMITERS.get(request.args.get("scheidingsteken", ""), ";")
        body, mimetype = csv_chunks(chain([export.sheet.header], export.rows), delimiter), CSV_MIMETYPE
    else:
        body, mimetype = as_xlsx(export), XLSX_MIMETYPE
    count = len(export.rows)
    audit(current_user, f"export.{extension}", f"{export.kind.capitalize()} geëxporteerd ({extension.upper()}, "
          f"{count} {'rij' if count == 1 else 'rijen'}), filters: {describe(filters)}", event)
    db.session.commit()
    day = local(utcnow()).date().isoformat()
    return attachment(body, mimetype, f"{event.slug}-{export.kind}-{day}.{extension}")


def attachment(body, mimetype: str, filename: str) -> Response:
    """A download of `body` (bytes, or pieces of them) under this file name, kept out of every cache."""
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    # Personal data: no copies in browser or proxy caches.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/events/<slug>/registrations.csv")
@requires(EVENTS_VIEW, EXPORT)
def export_registrations_csv(slug: str):
    """The registrations as CSV (;-separated unless ?scheidingsteken=komma)."""
    return _send(slug, registrations_export, "csv")


@bp.get("/events/<slug>/registrations.xlsx")
@requires(EVENTS_VIEW, EXPORT)
def export_registrations_xlsx(slug: str):
    """The registrations as XLSX, with a summary sheet."""
    return _send(slug, registrations_export, "xlsx")


@bp.get("/events/<slug>/attendance.csv")
@requires(EVENTS_VIEW, EXPORT)
def export_attendance_csv(slug: str):
    """Attendance per registrant as CSV."""
    return _send(slug, attendance_export, "csv")


@bp.get("/events/<slug>/attendance.xlsx")
@requires(EVENTS_VIEW, EXPORT)
def export_attendance_xlsx(slug: str):
    """Attendance per registrant as XLSX, with a summary sheet."""
    return _send(slug, attendance_export, "xlsx")
