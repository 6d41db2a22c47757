"""Reading the attendance reports of Microsoft Teams and Zoom (CSV files), in English and Dutch.

Pure functions: bytes in, a `Report` out, and no exception for odd input.
The format is recognised from a header row anywhere in the file:

- Zoom's participant export: "Name (Original Name)", "User Email", "Join Time",
  "Leave Time", "Duration (Minutes)" (also with the meeting's own rows above it,
  and as "unique users" with "Total Duration (Minutes)" and no times); in Dutch
  "Naam (oorspronkelijke naam)", "E-mailadres gebruiker", "Tijd van deelname",
  "Tijd van vertrek", "Duur (minuten)";
- Teams' attendance report (since 2021): "1. Summary" / "1. Overzicht", then
  "2. Participants" / "2. Deelnemers" with "Name", "First Join", "Last Leave",
  "In-Meeting Duration", "Email", "Participant ID (UPN)", "Role" (in Dutch "Naam",
  "Eerste deelname", "Laatste vertrek", "Duur in vergadering", "E-mailadres",
  "Deelnemer-id (UPN)", "Rol"); only that table is read;
- Teams' flat report (2020-2021): a "Meeting Summary" / "Samenvatting van
  vergadering" block, then "Full Name", "Join Time", "Leave Time", "Duration",
  "Email", "Role" ("Volledige naam", "Deelnametijd", "Vertrektijd", "Duur", ...);
- Teams' older attendance list: "Full Name", "User Action" (Joined/Left),
  "Timestamp" ("Volledige naam", "Gebruikersactie", "Tijdstempel");
  time present is summed from each Joined to the next Left.

Files may be UTF-16 (as Teams writes them) or UTF-8, separated by tabs,
commas or semicolons (Excel in Dutch). Column names are compared without
regard to case. Durations may read "1h 5m 3s", "1 u 5 min 3 s" or "01:05:03".

Times in reports carry no time zone. Zoom and Teams write them in the time
zone of the account or computer that made the report; we assume that is the
Netherlands, read them as Amsterdam local time and return UTC. Whether
"05/06/2027" is 5 June or 6 May is decided for the whole file: by a date that
can only be read one way, else by the meeting's date, else by the clock (with
AM/PM month first, as in American English; without, day first, as in
"25-5-2027 16:02:11").

The meeting's organiser (role "Organizer" / "Organisator" in Teams; in Zoom
the host, whose address is in the meeting's row above the participants) is not
a participant: their rows are kept apart in `Report.organisers`. The start time
in the summary above the table (or, without one, the earliest join) is the
report's date, `Report.started_at`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from .report_times import date_parts, duration_seconds, time_reader
from .report_words import (
    FORMATS,
    HEADERS,
    HOST_LABELS,
    JOINED_WORDS,
    LEFT_WORDS,
    ORGANISER_ROLES,
    START_LABELS,
)

NOT_RECOGNISED = "Dit bestand herkennen we niet als aanwezigheidsrapport van Teams of Zoom."
EXCEL_FILE = (
    "Dit is een Excel-bestand. Download het aanwezigheidsrapport als CSV-bestand (.csv) "
    "en probeer het opnieuw."
)
NO_PEOPLE = "In dit aanwezigheidsrapport staan geen deelnemers."

DELIMITERS = ("\t", ",", ";")

_SPACES = re.compile(r"[\s\u00a0\u202f]+")


@dataclass(frozen=True)
class ReportRow:
    """One person in a report, all their sessions taken together."""

    name: str
    #: in lower case; "" when the report gives no address for this person
    email: str
    #: earliest and latest join (UTC); None when the report has no times
    first_joined_at: datetime | None
    last_joined_at: datetime | None
    #: minutes present; None when the report does not say
    minutes: int | None


@dataclass
class Report:
    """What a report file holds: its format, the people in it, and what we could not read."""

    kind: str = ""
    rows: list[ReportRow] = field(default_factory=list)
    #: the meeting's organiser(s), as the report names them: not counted as participants
    organisers: list[ReportRow] = field(default_factory=list)
    #: when the meeting started by the summary above the table, else the earliest join (UTC); None if unknown
    started_at: datetime | None = None
    #: remarks (in Dutch) on lines that were skipped or guessed at
    problems: list[str] = field(default_factory=list)
    #: why the file as a whole could not be read (in Dutch); "" when it could
    error: str = ""


@dataclass(frozen=True)
class _Session:
    name: str
    email: str
    joined: datetime | None
    left: datetime | None
    seconds: int | None
    organiser: bool = False


@dataclass(frozen=True)
class _Table:
    kind: str
    columns: dict[str, int]
    #: (line number, cells) of the rows under the header, up to the first empty line
    body: list[tuple[int, list[str]]]
    #: the rows above the header (a summary of the meeting, when there is one)
    above: list[list[str]] = field(default_factory=list)

    def cell(self, row: list[str], column: str) -> str:
        """The row's value in a column, or "" when the column or cell is missing."""
        index = self.columns.get(column)
        if index is None or index >= len(row):
            return ""
        return _SPACES.sub(" ", row[index]).strip()


def parse_report(data: bytes, meeting_date: date | None = None) -> Report:
    """Read a Teams or Zoom attendance report; `meeting_date` helps read ambiguous dates."""
    if data.startswith(b"PK\x03\x04"):
        return Report(error=EXCEL_FILE)
    text = decode(data)
    table = _find_table(text) if text else None
    if table is None:
        return Report(error=NOT_RECOGNISED)
    start_texts = [text for text in _above_values(table.above, START_LABELS) if date_parts(text)]
    hosts = {text.lower() for text in _above_values(table.above, HOST_LABELS) if "@" in text}
    to_time = time_reader(_time_texts(table) + start_texts, meeting_date)
    if table.kind == "Teams (oude lijst)":
        sessions, problems = _old_teams_sessions(table, to_time)
    else:
        sessions, problems = _table_sessions(table, to_time)
    sessions = [replace(session, organiser=True) if session.email in hosts else session for session in sessions]
    rows = _combine([session for session in sessions if not session.organiser])
    organisers = _combine([session for session in sessions if session.organiser])
    started = next((when for text in start_texts if (when := to_time(text))), None)
    joins = [row.first_joined_at for row in rows + organisers if row.first_joined_at]
    return Report(kind=table.kind, rows=rows, organisers=organisers, problems=problems,
                  started_at=started or min(joins, default=None), error="" if rows else NO_PEOPLE)


def _above_values(above: list[list[str]], labels: set[str]) -> list[str]:
    """Values in the rows above the table: beside a label cell, or under it in a table of the meeting."""
    values = []
    for number, row in enumerate(above):
        for position, cell in enumerate(row):
            if _header_key(cell) not in labels:
                continue
            below = above[number + 1] if number + 1 < len(above) else []
            for value in (row[position + 1: position + 2] + below[position: position + 1]):
                if value := _SPACES.sub(" ", value).strip():
                    values.append(value)
    return values


def decode(data: bytes) -> str | None:
    """The text of a report file in UTF-16 (with or without BOM), UTF-8 or Windows-1252; None if binary."""
    head = data[:4000]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif head[1::2].count(0) > len(head) // 4:
        encoding = "utf-16-le"
    elif head[0::2].count(0) > len(head) // 4:
        encoding = "utf-16-be"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if encoding != "utf-8-sig":
            return None
        text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        return None
    return text.lstrip("\ufeff")


def _header_key(cell: str) -> str:
    return _SPACES.sub(" ", cell.replace("\ufeff", "")).strip().strip('"').strip().lower()


def _table_at(rows: list[list[str]], index: int) -> _Table | None:
    """The table whose header is rows[index], if that row is a known header."""
    columns: dict[str, int] = {}
    for position, cell in enumerate(rows[index]):
        columns.setdefault(HEADERS.get(_header_key(cell), ""), position)
    columns.pop("", None)
    for kind, needed in FORMATS:
        if needed <= columns.keys():
            body = []
            for number in range(index + 1, len(rows)):
                if not any(cell.strip() for cell in rows[number]):
                    break
                body.append((number + 1, rows[number]))
            return _Table(kind, columns, body, rows[:index])
    return None


def _find_table(text: str) -> _Table | None:
    """The first table in the text with a header we know, trying each delimiter."""
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        for index in range(len(rows)):
            table = _table_at(rows, index)
            if table is not None:
                return table
    return None


def _time_texts(table: _Table) -> list[str]:
    return [
        value
        for _, row in table.body
        for column in ("joined", "left", "timestamp")
        if (value := table.cell(row, column))
    ]


def _minutes_seconds(text: str) -> int | None:
    """Seconds in a Zoom duration in whole minutes ("33"); None if unreadable."""
    return int(text) * 60 if text.isdigit() else None


def _email(table: _Table, row: list[str]) -> str:
    """The row's address: the e-mail column, else a UPN that looks like an address."""
    for column in ("email", "upn"):
        value = table.cell(row, column)
        if "@" in value:
            return value.lower()
    return ""


def _table_sessions(table: _Table, to_time) -> tuple[list[_Session], list[str]]:
    """Sessions from a Zoom or Teams table: one line is one session (or one person)."""
    seconds_of = _minutes_seconds if table.kind == "Zoom" else duration_seconds
    sessions, problems = [], []
    for number, row in table.body:
        name, email = table.cell(row, "name"), _email(table, row)
        if not (name or email):
            continue
        times = {}
        for column in ("joined", "left"):
            text = table.cell(row, column)
            times[column] = to_time(text) if text else None
            if text and times[column] is None:
                problems.append(f"Regel {number}: de tijd \u2018{text[:40]}\u2019 konden we niet lezen.")
        text = table.cell(row, "minutes" if table.kind == "Zoom" else "duration")
        seconds = seconds_of(text) if text else None
        if text and seconds is None:
            problems.append(f"Regel {number}: de duur \u2018{text[:40]}\u2019 konden we niet lezen.")
        organiser = table.cell(row, "role").lower() in ORGANISER_ROLES
        sessions.append(_Session(name, email, times["joined"], times["left"], seconds, organiser))
    return sessions, problems


def _old_teams_events(table: _Table, to_time):
    """(time, name, e-mail, joined?) per readable line of an old Teams list, in time order."""
    events, problems = [], []
    for number, row in table.body:
        name, email = table.cell(row, "name"), _email(table, row)
        action, text = table.cell(row, "action").lower(), table.cell(row, "timestamp")
        when = to_time(text)
        if not (name or email) or when is None or not action.startswith(JOINED_WORDS + LEFT_WORDS):
            problems.append(f"Regel {number} hebben we overgeslagen: die konden we niet lezen.")
            continue
        events.append((when, name, email, action.startswith(JOINED_WORDS)))
    events.sort(key=lambda event: event[0])
    return events, problems


def _old_teams_sessions(table: _Table, to_time) -> tuple[list[_Session], list[str]]:
    """Sessions from Joined/Left lines: each Joined up to that person's next Left."""
    events, problems = _old_teams_events(table, to_time)
    open_since: dict[str, tuple[str, str, datetime]] = {}
    sessions = []
    for when, name, email, joined in events:
        key = email or name.lower()
        if joined:
            open_since.setdefault(key, (name, email, when))
        elif key in open_since:
            name, email, since = open_since.pop(key)
            sessions.append(_Session(name, email, since, when, int((when - since).total_seconds())))
    last = events[-1][0] if events else None
    for name, email, since in open_since.values():
        problems.append(f"Voor {name or email} staat geen vertrek in het rapport; "
                        "we rekenen tot het laatste tijdstip in het rapport.")
        sessions.append(_Session(name, email, since, last, int((last - since).total_seconds())))
    return sessions, problems


def _present_seconds(group: list[_Session]) -> int | None:
    """Time present: the sum of the sessions, counting overlaps (two devices at once) once."""
    known = [session.seconds for session in group if session.seconds is not None]
    if not known:
        return None
    spans = sorted((s.joined, s.left) for s in group if s.joined and s.left and s.seconds is not None)
    if len(spans) < len(known) or all(a[1] <= b[0] for a, b in zip(spans, spans[1:])):
        return sum(known)
    covered, end = timedelta(0), spans[0][0]
    for start, stop in spans:
        covered += max(stop - max(start, end), timedelta(0))
        end = max(end, stop)
    return int(covered.total_seconds())


def _combine(sessions: list[_Session]) -> list[ReportRow]:
    """One row per person (by e-mail, else by name), in the order they first appear."""
    groups: dict[str, list[_Session]] = {}
    for session in sessions:
        key = session.email or "naam:" + session.name.lower()
        groups.setdefault(key, []).append(session)
    rows = []
    for group in groups.values():
        joins = [session.joined for session in group if session.joined]
        seconds = _present_seconds(group)
        rows.append(ReportRow(
            name=next((s.name for s in group if s.name), ""),
            email=group[0].email,
            first_joined_at=min(joins, default=None),
            last_joined_at=max(joins, default=None),
            minutes=None if seconds is None else (seconds + 30) // 60,
        ))
    return rows
