"""Exports of registrations and attendance: columns, filters, formula injection, audit."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

import openpyxl
import pytest
from sqlalchemy import insert, select

from helpers import NOW, read_with_exceljs
from webinar.attendance.models import Attendance, AttendanceSource
from webinar.audit import AuditEntry
from webinar.dutch import AMSTERDAM
from webinar.extensions import db
from webinar.organiser.exports import ATTENDANCE_COLUMNS, REGISTRATION_COLUMNS
from webinar.organiser.spreadsheets import clean_text, csv_text, xlsx_text
from webinar.registration.models import Registration, RegistrationStatus

BASE = "/organiser/events/samen-onderwijs-versnellen"
URLS = [f"{BASE}/registrations.csv", f"{BASE}/registrations.xlsx",
        f"{BASE}/attendance.csv", f"{BASE}/attendance.xlsx"]
BOM = b"\xef\xbb\xbf"

#: values a spreadsheet would run, or that hide a formula behind a control character
HOSTILE = ["=cmd|' /C calc'!A0", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "\x00=1", "\x00",
           " =1+1", "\n=1", "\uff1dSUM(A1)", '=HYPERLINK("http://x.example","klik")']


def add(event, email: str = "anna@example.org", **values) -> Registration:
    """A registration put straight into the database (the public form refuses control characters)."""
    fields = dict(
        event_id=event.id, status=RegistrationStatus.confirmed, first_name="Anna",
        tussenvoegsel="van den", last_name="Berg", email=email, email_normalized=email.lower(),
        organisation="OBS De Linde", organisation_type="School", role="Schoolleider",
        question="", privacy_accepted_at=NOW,
    )
    fields.update(values)
    registration = Registration(**fields)
    db.session.add(registration)
    db.session.commit()
    return registration


def joined(registration, minutes=None, source=AttendanceSource.link, at=None) -> None:
    at = at or datetime(2027, 5, 25, 15, 58, tzinfo=AMSTERDAM)
    db.session.add(Attendance(registration_id=registration.id, first_joined_at=at, last_joined_at=at,
                              minutes_present=minutes, source=source))
    db.session.commit()


def csv_rows(response, delimiter=";") -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_data()
    assert data.startswith(BOM)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def workbook(response):
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(io.BytesIO(response.get_data()))


def values(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def as_csv_text(row: list) -> list[str]:
    """A row of XLSX values as the CSV export writes it: moments as Dutch text, nothing as empty."""
    return ["" if v is None else v.strftime("%d-%m-%Y %H:%M") if isinstance(v, datetime) else str(v) for v in row]


TITLE = "Samen onderwijs versnellen"
#: the summary's columns after "Aantal"
STATUSES = ["bevestigd", "wachtlijst", "afgemeld", "aanwezig"]
#: the meeting's start (25 May 2027, 16:00 in Amsterdam) as the XLSX holds it: a naive local datetime
START = datetime(2027, 5, 25, 16, 0)


# --- the escaping rule on its own ---------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("Anna", "Anna"),
    ("van den", "van den"),
    ("O'Brien", "O'Brien"),
    ("a=b", "a=b"),
    ("1e graads", "1e graads"),
    ("", ""),
    ("=1+1", "'=1+1"),
    ("+31 6 12345678", "'+31 6 12345678"),
    ("-", "'-"),
    ("@Anna", "'@Anna"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("\n=1", "'\n=1"),
    ("   =1", "'   =1"),
    ("\x00=1", "'\ufffd=1"),
    ("\x00", "'\ufffd"),
    ("\x07a", "'\ufffda"),
    ("\uff1d1", "'\uff1d1"),
    ("Anna\x00", "Anna\ufffd"),
])
def test_csv_text_escapes_a_risky_start(value, expected):
    assert csv_text(value) == expected


def test_xlsx_text_keeps_text_but_what_xml_cannot_hold():
    assert xlsx_text("=1+1") == "=1+1"
    assert xlsx_text("a\r\nb\rc\td") == "a\nb\nc\td"
    assert xlsx_text("\x00=1") == "\ufffd=1"
    assert len(xlsx_text("x" * 40000)) == 32767


# --- registrations ------------------------------------------------------------------


def test_registrations_csv(organiser_client, event):
    add(event, question="Hoe zit het met de subsidie?", brin="12AB01", board_name="Stichting Lek")
    add(event, email="piet@example.org", first_name="Piet", tussenvoegsel="", last_name="Aalders",
        role="Anders", role_other="Beleidsmedewerker", organisation_type="Gemeente",
        status=RegistrationStatus.waitlisted)
    response = organiser_client.get(f"{BASE}/registrations.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=samen-onderwijs-versnellen-aanmeldingen-2027-05-01.csv")
    assert response.headers["Cache-Control"] == "no-store"
    assert b"\r\n" in response.get_data()
    rows = csv_rows(response)
    assert rows[0] == REGISTRATION_COLUMNS == [
        "Bijeenkomst", "Datum bijeenkomst",
        "Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres", "Organisatie", "Soort organisatie",
        "BRIN", "Bestuur", "Rol", "Rol (anders)", "Status", "Aangemeld op", "Vraag"]
    # by last name: Aalders before (van den) Berg; 12:00 in Amsterdam is 10:00 UTC
    assert rows[1:] == [
        [TITLE, "25-05-2027 16:00", "Piet", "", "Aalders", "piet@example.org", "OBS De Linde", "Gemeente",
         "", "", "Anders", "Beleidsmedewerker", "wachtlijst", "01-05-2027 12:00", ""],
        [TITLE, "25-05-2027 16:00", "Anna", "van den", "Berg", "anna@example.org", "OBS De Linde", "School",
         "12AB01", "Stichting Lek", "Schoolleider", "", "bevestigd", "01-05-2027 12:00",
         "Hoe zit het met de subsidie?"],
    ]


def test_exports_of_several_meetings_can_be_stacked(organiser_client, event):
    """Each row names its meeting and date, and a status that reads the same in every file."""
    from webinar.events.services import create_event
    other = create_event(slug="tweede-ronde", title="Tweede ronde", starts_at=datetime(2027, 6, 8, 10, tzinfo=AMSTERDAM),
                         ends_at=datetime(2027, 6, 8, 11, tzinfo=AMSTERDAM), capacity=None,
                         contact_name="Mirjam de Vries", contact_email="bijeenkomsten@example.org")
    joined(add(event, email="a@example.org", organisation_type=""))
    add(event, email="b@example.org", status=RegistrationStatus.cancelled)
    add(other, email="c@example.org", status=RegistrationStatus.waitlisted)
    stacked = []
    for slug in ("samen-onderwijs-versnellen", "tweede-ronde"):
        for kind in ("registrations", "attendance"):
            rows = csv_rows(organiser_client.get(f"/organiser/events/{slug}/{kind}.csv"))
            header = rows[0]
            stacked += [dict(zip(header, row), soort=kind) for row in rows[1:]]
    assert [(r["soort"], r["Bijeenkomst"], r["Datum bijeenkomst"], r["E-mailadres"], r["Soort organisatie"],
             r["Status"]) for r in stacked] == [
        ("registrations", TITLE, "25-05-2027 16:00", "a@example.org", "Onbekend", "bevestigd"),
        ("registrations", TITLE, "25-05-2027 16:00", "b@example.org", "School", "afgemeld"),
        ("attendance", TITLE, "25-05-2027 16:00", "a@example.org", "Onbekend", "aanwezig"),
        ("attendance", TITLE, "25-05-2027 16:00", "b@example.org", "School", "afgemeld"),
        ("registrations", "Tweede ronde", "08-06-2027 10:00", "c@example.org", "School", "wachtlijst"),
        ("attendance", "Tweede ronde", "08-06-2027 10:00", "c@example.org", "School", "wachtlijst"),
    ]
    book = workbook(organiser_client.get("/organiser/events/tweede-ronde/attendance.xlsx"))
    row = values(book["Aanwezigheid"])[1]
    assert row[:2] == ["Tweede ronde", datetime(2027, 6, 8, 10, 0)]
    assert book["Aanwezigheid"]["B2"].is_date


def test_csv_uses_commas_on_request(organiser_client, event):
    add(event, organisation="Stichting Lek, Linge en Merwede")
    response = organiser_client.get(f"{BASE}/registrations.csv?scheidingsteken=komma")
    text = response.get_data().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Bijeenkomst,Datum bijeenkomst,Voornaam,Tussenvoegsel,")
    assert '"Stichting Lek, Linge en Merwede"' in text
    assert csv_rows(response, ",")[1][6] == "Stichting Lek, Linge en Merwede"
    semicolons = organiser_client.get(f"{BASE}/registrations.csv?scheidingsteken=iets")
    assert semicolons.get_data().decode("utf-8-sig").startswith("Bijeenkomst;Datum bijeenkomst;Voornaam;")


def test_registrations_xlsx(organiser_client, event):
    add(event, first_name="Ünal", question="Wat kost het?")
    response = organiser_client.get(f"{BASE}/registrations.xlsx")
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=samen-onderwijs-versnellen-aanmeldingen-2027-05-01.xlsx")
    book = workbook(response)
    assert book.sheetnames == ["Aanmeldingen", "Samenvatting"]
    rows = values(book["Aanmeldingen"])
    assert rows[0] == REGISTRATION_COLUMNS
    # the moments are Excel dates in Amsterdam time, not text
    assert rows[1] == [TITLE, START, "Ünal", "van den", "Berg", "anna@example.org", "OBS De Linde", "School",
                       None, None, "Schoolleider", None, "bevestigd", datetime(2027, 5, 1, 12, 0), "Wat kost het?"]
    sheet = book["Aanmeldingen"]
    assert sheet["B2"].is_date and sheet["N2"].is_date
    assert sheet["A1"].font.bold
    assert sheet.auto_filter.ref == "A1:O2"
    assert book["Samenvatting"].auto_filter.ref


@pytest.mark.parametrize("url", [f"{BASE}/registrations.csv", f"{BASE}/registrations.xlsx"])
def test_exports_honour_the_tables_filters(organiser_client, event, url):
    add(event, email="a@example.org", first_name="Anna", role="Schoolleider")
    add(event, email="b@example.org", first_name="Bram", role="Leraar")
    add(event, email="c@example.org", first_name="Cor", role="Schoolleider",
        status=RegistrationStatus.cancelled)
    joined(add(event, email="d@example.org", first_name="Dirk", role="Leraar"))

    def first_names(query: str) -> list[str]:
        response = organiser_client.get(url + query)
        if url.endswith(".csv"):
            rows = csv_rows(response)
        else:
            rows = values(workbook(response)["Aanmeldingen"])
        return sorted(row[2] for row in rows[1:])

    assert first_names("") == ["Anna", "Bram", "Cor", "Dirk"]
    assert first_names("?rol=Schoolleider") == ["Anna", "Cor"]
    assert first_names("?rol=Schoolleider&status=aangemeld") == ["Anna"]
    assert first_names("?status=afgemeld") == ["Cor"]
    assert first_names("?deelgenomen=ja") == ["Dirk"]
    assert first_names("?deelgenomen=nee&rol=Leraar") == ["Bram"]
    assert first_names("?q=BRA") == ["Bram"]
    assert first_names("?rol=Niemand") == []


def test_summary_sheet_counts_by_role_organisation_type_organisation_and_status(organiser_client, event):
    first = add(event, email="a@example.org", role="Schoolleider", organisation_type="School")
    add(event, email="b@example.org", role="Leraar", organisation_type="School", organisation="obs de  linde ")
    add(event, email="c@example.org", role="Schoolleider", organisation_type="Gemeente", organisation="Gemeente Zwolle")
    add(event, email="d@example.org", role="Schoolleider", organisation_type="",
        status=RegistrationStatus.waitlisted)
    joined(first)
    rows = values(workbook(organiser_client.get(f"{BASE}/registrations.xlsx"))["Samenvatting"])
    # every count split by status, as on the dashboard: who joined counts under aanwezig too
    assert [row[:2] for row in rows[:4]] == [["Bijeenkomst", TITLE], ["Datum bijeenkomst", START],
                                             ["Filters", "geen"], ["Aantal rijen", 4]]
    assert rows[4:] == [
        [None] * 6,
        ["Rol", "Aantal", *STATUSES], ["Schoolleider", 3, 2, 1, 0, 1], ["Leraar", 1, 1, 0, 0, 0],
        [None] * 6,
        ["Soort organisatie", "Aantal", *STATUSES],
        ["School", 2, 2, 0, 0, 1], ["Gemeente", 1, 1, 0, 0, 0], ["Onbekend", 1, 0, 1, 0, 0],
        [None] * 6,
        ["Organisatie", "Aantal", *STATUSES],
        ["OBS De Linde", 3, 2, 1, 0, 1], ["Gemeente Zwolle", 1, 1, 0, 0, 0],
        [None] * 6,
        ["Status", "Aantal", *STATUSES],
        ["bevestigd", 3, 3, 0, 0, 1], ["wachtlijst", 1, 0, 1, 0, 0],
        [None] * 6,
        ["Niet aangemeld, wel aanwezig (zonder filters)", 0, None, None, None, None],
    ]
    filtered = values(workbook(organiser_client.get(f"{BASE}/registrations.xlsx?rol=Leraar"))["Samenvatting"])
    assert [row[:2] for row in filtered[2:7]] == [["Filters", "rol=Leraar"], ["Aantal rijen", 1], [None, None],
                                                  ["Rol", "Aantal"], ["Leraar", 1]]


# --- attendance ---------------------------------------------------------------------


def _attendance_event(event):
    joined(add(event, email="a@example.org", first_name="Anna"), minutes=70, source=AttendanceSource.report)
    joined(add(event, email="b@example.org", first_name="Bram", last_name="Bos", tussenvoegsel="",
               role="Anders", role_other="Intern begeleider"))
    joined(add(event, email="c@example.org", first_name="Cor", last_name="Claes", tussenvoegsel=""),
           minutes=5, source=AttendanceSource.manual, at=datetime(2027, 5, 25, 16, 40, tzinfo=AMSTERDAM))
    add(event, email="d@example.org", first_name="Dirk", last_name="Dekker", tussenvoegsel="")


#: as the XLSX holds them: moments as naive Amsterdam datetimes
EXPECTED_ATTENDANCE = [[TITLE, START, *row] for row in [
    ["Anna", "van den", "Berg", "a@example.org", "OBS De Linde", "School", None, None, "Schoolleider",
     "aanwezig", "ja", datetime(2027, 5, 25, 15, 58), 70, "rapport"],
    ["Bram", None, "Bos", "b@example.org", "OBS De Linde", "School", None, None, "Anders: Intern begeleider",
     "aanwezig", "ja", datetime(2027, 5, 25, 15, 58), None, "link"],
    ["Cor", None, "Claes", "c@example.org", "OBS De Linde", "School", None, None, "Schoolleider",
     "aanwezig", "ja", datetime(2027, 5, 25, 16, 40), 5, "handmatig"],
    ["Dirk", None, "Dekker", "d@example.org", "OBS De Linde", "School", None, None, "Schoolleider",
     "bevestigd", "nee", None, None, None],
]]


def test_attendance_xlsx(organiser_client, event):
    _attendance_event(event)
    response = organiser_client.get(f"{BASE}/attendance.xlsx")
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=samen-onderwijs-versnellen-aanwezigheid-2027-05-01.xlsx")
    book = workbook(response)
    assert book.sheetnames == ["Aanwezigheid", "Samenvatting"]
    rows = values(book["Aanwezigheid"])
    # the same name, organisation and status columns as the registrations export
    assert rows[0] == ATTENDANCE_COLUMNS == [
        "Bijeenkomst", "Datum bijeenkomst",
        "Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres", "Organisatie", "Soort organisatie",
        "BRIN", "Bestuur", "Rol", "Status", "Deelgenomen", "Eerste keer binnen", "Minuten aanwezig", "Bron"]
    assert rows[1:] == EXPECTED_ATTENDANCE
    sheet = book["Aanwezigheid"]
    assert sheet["O2"].data_type == "n" and not sheet["O2"].is_date
    assert sheet["N2"].is_date
    assert sheet.auto_filter.ref == "A1:P5"
    summary = values(book["Samenvatting"])
    assert summary[5:8] == [["Rol", "Aantal", *STATUSES],
                            ["Schoolleider", 3, 3, 0, 0, 2], ["Anders", 1, 1, 0, 0, 1]]


def test_attendance_csv_with_filters(organiser_client, event):
    _attendance_event(event)
    response = organiser_client.get(f"{BASE}/attendance.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    assert rows[0] == ATTENDANCE_COLUMNS
    assert rows[1:] == [as_csv_text(row) for row in EXPECTED_ATTENDANCE]
    assert rows[1][1] == "25-05-2027 16:00" and rows[1][13] == "25-05-2027 15:58"
    absent = csv_rows(organiser_client.get(f"{BASE}/attendance.csv?deelgenomen=nee"))
    assert [row[2] for row in absent[1:]] == ["Dirk"]


# --- formula injection --------------------------------------------------------------


def hostile_values() -> list[str]:
    """HOSTILE; PostgreSQL cannot store NUL in text at all, so there \\x01 stands in for it."""
    if db.engine.dialect.name == "postgresql":
        return [value.replace("\x00", "\x01") for value in HOSTILE]
    return HOSTILE


def _hostile_registrations(event) -> list[str]:
    hostile = hostile_values()
    for number, value in enumerate(hostile):
        registration = add(event, email=f"h{number}@example.org", first_name=value, last_name=f"Naam{number:02}",
                           tussenvoegsel="", organisation=value, question=value, role=value)
        joined(registration)
    return hostile


@pytest.mark.parametrize("url", [f"{BASE}/registrations.csv", f"{BASE}/attendance.csv"])
def test_no_csv_cell_starts_a_formula(organiser_client, event, url):
    hostile = _hostile_registrations(event)
    rows = csv_rows(organiser_client.get(url))
    assert len(rows) == len(hostile) + 1
    risky = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00", "\uff1d")
    for row in rows:
        for cell in row:
            assert not cell.startswith(risky), row
            assert "\x00" not in cell
    registrations = url.endswith("registrations.csv")
    for value, row in zip(hostile, rows[1:]):
        cells = [row[2], row[6], row[14], row[10]] if registrations else [row[2], row[6], row[10]]
        for cell in cells:
            assert cell.startswith("'")
            assert cell == "'" + clean_text(value)


@pytest.mark.parametrize("url", [f"{BASE}/registrations.xlsx", f"{BASE}/attendance.xlsx"])
def test_no_xlsx_cell_is_a_formula(organiser_client, event, url):
    hostile = _hostile_registrations(event)
    response = organiser_client.get(url)
    book = workbook(response)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type in ("s", "n", "d"), (sheet.title, cell.coordinate, cell.value)
    sheet = book.worksheets[0]
    columns = ["C", "G", "K", "O"] if url.endswith("registrations.xlsx") else ["C", "G", "K"]
    for number, value in enumerate(hostile, start=2):
        for column in columns:
            cell = sheet[f"{column}{number}"]
            assert cell.data_type == "s"
            assert cell.value == xlsx_text(value)
    # The proof that does not depend on openpyxl's reader: no <f> element in any sheet.
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)


@pytest.mark.parametrize("url", [f"{BASE}/registrations.xlsx", f"{BASE}/attendance.xlsx"])
def test_a_second_reader_sees_the_same_cells_and_no_formula(organiser_client, event, url):
    """ExcelJS reads every sheet as openpyxl does: the same text and numbers, and not one formula."""
    _hostile_registrations(event)
    add(event, first_name="Ünal", question="Wat kost het?")
    response = organiser_client.get(url)
    book = workbook(response)
    sheets = read_with_exceljs(response.get_data())
    assert [sheet["name"] for sheet in sheets] == book.sheetnames
    for sheet in sheets:
        ours = values(book[sheet["name"]])
        ours = [[value.isoformat() if isinstance(value, datetime) else value for value in row] for row in ours]
        read = [[value for _, value in row] for row in sheet["rows"]]
        assert read == ours, sheet["name"]
        kinds = {kind for row in sheet["rows"] for kind, _ in row}
        assert kinds <= {"string", "number", "date", "empty"}, (sheet["name"], kinds)


def test_hostile_values_are_kept_literally_in_xlsx_where_xml_allows(organiser_client, event):
    hostile = _hostile_registrations(event)
    sheet = workbook(organiser_client.get(f"{BASE}/registrations.xlsx"))["Aanmeldingen"]
    kept = [sheet[f"C{n}"].value for n in range(2, len(hostile) + 2)]
    assert kept[:5] == ["=cmd|' /C calc'!A0", "+1", "-1+1", "@SUM(A1)", "\t=1"]
    assert kept[5:8] == ["\n=1", "\ufffd=1", "\ufffd"]  # CR is LF in XML; NUL cannot be stored


# --- access and audit ---------------------------------------------------------------


@pytest.mark.parametrize("url", URLS)
def test_anonymous_visitors_are_sent_to_login(client, event, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/organiser/login")


@pytest.mark.parametrize("url", URLS)
def test_unknown_event_is_not_found(organiser_client, event, url):
    assert organiser_client.get(url.replace("samen-onderwijs-versnellen", "bestaat-niet")).status_code == 404


def test_every_export_is_audited(organiser_client, event, organiser):
    add(event, email="a@example.org", role="Schoolleider")
    add(event, email="b@example.org", role="Leraar")
    organiser_client.get(f"{BASE}/registrations.csv?rol=Schoolleider&status=aangemeld")
    organiser_client.get(f"{BASE}/attendance.xlsx")
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("export.%"))
                                 .order_by(AuditEntry.id)).all()
    assert [(e.action, e.summary, e.event_id, e.organiser_email) for e in entries] == [
        ("export.csv", "Aanmeldingen geëxporteerd (CSV, 1 rij), filters: rol=Schoolleider, status=aangemeld",
         event.id, organiser.email),
        ("export.xlsx", "Aanwezigheid geëxporteerd (XLSX, 2 rijen), filters: geen", event.id, organiser.email),
    ]


# --- large exports: streamed, complete, escaped -------------------------------------


def _many(event, count: int) -> None:
    """`count` registrations in one INSERT, last names Naam0000, Naam0001, ... in a shuffled order."""
    db.session.execute(insert(Registration), [
        dict(event_id=event.id, status=RegistrationStatus.confirmed, first_name="Lid", tussenvoegsel="",
             last_name=f"Naam{number:04}", email=f"lid{number}@example.org", email_normalized=f"lid{number}@example.org",
             organisation="OBS De Linde", organisation_type="School", role="Leraar", question="",
             privacy_accepted_at=NOW, created_at=NOW)
        for number in sorted(range(count), key=lambda number: (number * 7919) % count)
    ])
    db.session.commit()


def test_a_large_csv_is_streamed_after_its_audit_entry_is_committed(organiser_client, event, organiser):
    _many(event, 1200)
    add(event, email="h@example.org", last_name="Naam0700x", question="=1+1", organisation="@SUM(A1)")
    response = organiser_client.get(f"{BASE}/registrations.csv")
    assert response.is_streamed
    # Before a byte of the file is read, the entry is in the database for any other connection.
    with db.engine.connect() as other:
        summaries = other.execute(select(AuditEntry.summary).where(AuditEntry.action == "export.csv")).scalars()
        assert list(summaries) == ["Aanmeldingen geëxporteerd (CSV, 1201 rijen), filters: geen"]
    rows = csv_rows(response)
    assert rows[0] == REGISTRATION_COLUMNS
    assert [row[4] for row in rows[1:]] == sorted([f"Naam{number:04}" for number in range(1200)] + ["Naam0700x"])
    hostile = rows[1 + 701]
    assert (hostile[4], hostile[6], hostile[14]) == ("Naam0700x", "'@SUM(A1)", "'=1+1")
    assert all(row[6] == "OBS De Linde" and row[13] == "01-05-2027 12:00" for row in rows[1:] if row is not hostile)


def test_a_large_xlsx_holds_every_row_in_the_tables_order(organiser_client, event):
    _many(event, 1200)
    book = workbook(organiser_client.get(f"{BASE}/registrations.xlsx"))
    rows = values(book["Aanmeldingen"])
    assert len(rows) == 1201
    assert [row[4] for row in rows[1:]] == [f"Naam{number:04}" for number in range(1200)]
    assert rows[1][13] == datetime(2027, 5, 1, 12, 0)
    assert values(book["Samenvatting"])[3][:2] == ["Aantal rijen", 1200]
