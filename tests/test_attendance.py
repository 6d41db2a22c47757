"""Attendance: reading Teams and Zoom reports, importing them, entries by hand, and access."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from helpers import ORGANISER_EMAIL, ORGANISER_PASSWORD, post_registration
from webinar.attendance.models import Attendance, AttendanceSource
from webinar.attendance.services import set_attendance_by_hand
from webinar.attendance.reports import EXCEL_FILE, NO_PEOPLE, NOT_RECOGNISED, duration_seconds, parse_report
from webinar.dutch import AMSTERDAM
from webinar.extensions import db
from webinar.organiser.models import AuditEntry
from webinar.registration.models import Registration, RegistrationStatus, TokenPurpose
from webinar.registration.services import issue_token

ANNA = "anna.vandenberg@example.org"
BRAM = "bram.smit@example.org"
PIET = "piet.jansen@example.org"
MEETING_DAY = date(2027, 5, 25)


def at(hour: int, minute: int, second: int = 0, day: int = 25) -> datetime:
    """A moment in May 2027, Amsterdam time, as the aware UTC datetime the app stores."""
    return datetime(2027, 5, day, hour, minute, second, tzinfo=AMSTERDAM).astimezone(timezone.utc)


def table(rows: list[list[str]], delimiter: str = "\t") -> str:
    """Lines of cells; cells with the delimiter or a quote are quoted, as Excel does."""
    def cell(value: str) -> str:
        if delimiter in value or '"' in value:
            return '"' + value.replace('"', '""') + '"'
        return value
    return "\r\n".join(delimiter.join(cell(value) for value in row) for row in rows) + "\r\n"


TEAMS_SUMMARY = [
    ["1. Summary"],
    ["Meeting title", "Samen onderwijs versnellen"],
    ["Attended participants", "3"],
    ["Start time", "5/25/27, 3:55:10 PM"],
    ["End time", "5/25/27, 5:20:01 PM"],
    ["Meeting duration", "1h 24m 51s"],
    ["Average attendance time", "58m 3s"],
    [],
]
TEAMS_PARTICIPANTS = [
    ["2. Participants"],
    ["Name", "First Join", "Last Leave", "In-Meeting Duration", "Email", "Participant ID (UPN)", "Role"],
    ["Mirjam de Vries", "5/25/27, 3:55:10 PM", "5/25/27, 5:20:01 PM", "1h 24m 51s",
     "bijeenkomsten@example.org", "bijeenkomsten@example.org", "Organizer"],
    ["Anna van den Berg", "5/25/27, 3:58:12 PM", "5/25/27, 5:03:24 PM", "1h 5m 12s",
     "Anna.vandenBerg@example.org", "Anna.vandenBerg@example.org", "Attendee"],
    ["Piet Jansen (External)", "5/25/27, 4:10:00\u202fPM", "5/25/27, 4:40:29 PM", "30m 29s",
     "", "piet.jansen@example.org", "Attendee"],
    [],
    ["3. In-Meeting Activities"],
    ["Name", "Join Time", "Leave Time", "Duration", "Email", "Role"],
    ["Anna van den Berg", "5/25/27, 3:58:12 PM", "5/25/27, 4:30:00 PM", "31m 48s", "Anna.vandenBerg@example.org", "Attendee"],
    ["Anna van den Berg", "5/25/27, 4:31:00 PM", "5/25/27, 5:03:24 PM", "32m 24s", "Anna.vandenBerg@example.org", "Attendee"],
]


def teams_report(delimiter: str = "\t", encoding: str = "utf-16") -> bytes:
    """Teams' attendance report: UTF-16 LE with a BOM and tabs, as Teams writes it."""
    return table(TEAMS_SUMMARY + TEAMS_PARTICIPANTS, delimiter).encode(encoding)


ZOOM_REPORT = table([
    ["Meeting ID", "Topic", "Start Time", "End Time", "User Email", "Duration (Minutes)", "Participants"],
    ["851 2345 6789", "Samen onderwijs versnellen", "05/25/2027 03:55:00 PM", "05/25/2027 05:20:00 PM",
     "bijeenkomsten@example.org", "85", "4"],
    [],
    ["Name (Original Name)", "User Email", "Join Time", "Leave Time", "Duration (Minutes)", "Guest"],
    ["Anna (Anna van den Berg)", "anna.vandenberg@example.org", "05/25/2027 03:58:12 PM", "05/25/2027 04:30:40 PM", "33", "Yes"],
    ["Bram Smit", "bram.smit@example.org", "05/25/2027 04:02:00 PM", "05/25/2027 05:15:00 PM", "73", "Yes"],
    ["Anna (Anna van den Berg)", "ANNA.vandenberg@example.org", "05/25/2027 04:35:02 PM", "05/25/2027 05:15:00 PM", "40", "Yes"],
    ["Jansen, Piet", "piet@andere-school.example", "05/25/2027 04:10:00 PM", "05/25/2027 04:40:00 PM", "30", "Yes"],
    ["iPhone van Kees", "", "05/25/2027 04:00:00 PM", "05/25/2027 04:20:00 PM", "20", "Yes"],
], ",").encode("utf-8")

OLD_TEAMS_REPORT = table([
    ["Full Name", "User Action", "Timestamp"],
    ["Mirjam de Vries", "Joined", "5/25/2027, 3:55:10 PM"],
    ["Anna van den Berg", "Joined", "5/25/2027, 3:58:12 PM"],
    ["Bram Smit", "Joined", "5/25/2027, 4:01:00 PM"],
    ["Anna van den Berg", "Left", "5/25/2027, 4:30:12 PM"],
    ["Anna van den Berg", "Joined", "5/25/2027, 4:40:00 PM"],
    ["Anna van den Berg", "Left", "5/25/2027, 5:05:00 PM"],
    ["Mirjam de Vries", "Left", "5/25/2027, 5:20:00 PM"],
]).encode("utf-16")


def by_name(report) -> dict:
    return {row.name: row for row in report.rows}


# ---------------------------------------------------------------- reading reports


def test_reads_a_teams_report_in_utf16_with_tabs_and_a_summary():
    report = parse_report(teams_report(), MEETING_DAY)
    assert (report.kind, report.error, report.problems) == ("Teams", "", [])
    rows = by_name(report)
    # Only the participants table: the activities below it would count Anna twice.
    assert list(rows) == ["Mirjam de Vries", "Anna van den Berg", "Piet Jansen (External)"]
    anna = rows["Anna van den Berg"]
    assert anna.email == ANNA
    assert anna.first_joined_at == at(15, 58, 12) == datetime(2027, 5, 25, 13, 58, 12, tzinfo=timezone.utc)
    assert anna.minutes == 65  # 1h 5m 12s
    # No e-mail, but a UPN that is an address; a narrow no-break space before PM.
    piet = rows["Piet Jansen (External)"]
    assert (piet.email, piet.first_joined_at, piet.minutes) == (PIET, at(16, 10), 30)


@pytest.mark.parametrize(("delimiter", "encoding"), [(",", "utf-8"), (";", "utf-8-sig"), ("\t", "utf-16-le"), ("\t", "utf-8")])
def test_reads_a_teams_report_in_other_encodings_and_separators(delimiter, encoding):
    report = parse_report(teams_report(delimiter, encoding), MEETING_DAY)
    assert report.error == ""
    assert by_name(report)["Anna van den Berg"].minutes == 65


def test_reads_a_zoom_export_and_sums_the_rows_of_one_person():
    report = parse_report(ZOOM_REPORT, MEETING_DAY)
    assert (report.kind, report.error, report.problems) == ("Zoom", "", [])
    rows = by_name(report)
    anna = rows["Anna (Anna van den Berg)"]
    assert (anna.email, anna.minutes) == (ANNA, 33 + 40)
    assert (anna.first_joined_at, anna.last_joined_at) == (at(15, 58, 12), at(16, 35, 2))
    assert rows["Jansen, Piet"].minutes == 30
    assert rows["iPhone van Kees"].email == ""
    # The meeting's own header row (host's address, 85 minutes) is not a participant.
    assert "bijeenkomsten@example.org" not in [row.email for row in report.rows]


def test_zoom_sessions_on_two_devices_at_once_count_once():
    report = parse_report(table([
        ["Name (Original Name)", "User Email", "Join Time", "Leave Time", "Duration (Minutes)", "Guest"],
        ["Bram (laptop)", BRAM, "05/25/2027 04:00:00 PM", "05/25/2027 05:00:00 PM", "60", "No"],
        ["Bram (telefoon)", BRAM, "05/25/2027 04:30:00 PM", "05/25/2027 05:10:00 PM", "40", "No"],
    ], ",").encode())
    assert [(row.name, row.minutes) for row in report.rows] == [("Bram (laptop)", 70)]


def test_reads_zoom_unique_users_without_times():
    report = parse_report(table([
        ["Name (Original Name)", "User Email", "Total Duration (Minutes)", "Guest"],
        ["Bram Smit", BRAM, "73", "No"],
    ], ",").encode())
    assert [(row.email, row.minutes, row.first_joined_at) for row in report.rows] == [(BRAM, 73, None)]


def test_reads_the_old_teams_list_and_sums_joined_to_left():
    report = parse_report(OLD_TEAMS_REPORT, MEETING_DAY)
    assert report.kind == "Teams (oude lijst)"
    rows = by_name(report)
    anna = rows["Anna van den Berg"]
    assert anna.email == ""  # this list has names only
    assert anna.minutes == 32 + 25
    assert (anna.first_joined_at, anna.last_joined_at) == (at(15, 58, 12), at(16, 40))
    assert rows["Mirjam de Vries"].minutes == 85
    # Bram never left: counted up to the last moment in the list, and said so.
    assert rows["Bram Smit"].minutes == 79
    assert report.problems == [
        "Voor Bram Smit staat geen vertrek in het rapport; we rekenen tot het laatste tijdstip in het rapport."
    ]


@pytest.mark.parametrize(
    ("text", "meeting_day", "expected"),
    [
        ("25-5-2027 15:58:12", None, at(15, 58, 12)),  # Teams in Dutch: day first, 24 hours
        ("2027-05-25 15:58", None, at(15, 58)),
        ("5/25/27, 3:58:12 AM", None, at(3, 58, 12)),
        ("5/25/27, 12:05:00 PM", None, at(12, 5)),
        ("05/06/2027 15:00", None, at(15, 0, day=5).replace(month=6)),  # no AM/PM: day first
        ("05/06/2027 03:00:00 PM", None, at(15, 0, day=6).replace(month=5)),  # AM/PM: month first
        ("05/06/2027 15:00", date(2027, 5, 6), at(15, 0, day=6)),  # the meeting's date decides
    ],
)
def test_reads_dates_in_either_order(text, meeting_day, expected):
    report = parse_report(table([["Full Name", "User Action", "Timestamp"], ["A", "Joined", text], ["A", "Left", text]]).encode(),
                          meeting_day)
    assert report.rows[0].first_joined_at == expected


def test_one_date_that_reads_only_one_way_decides_for_the_whole_file():
    report = parse_report(table([
        ["Full Name", "User Action", "Timestamp"],
        ["A", "Joined", "05/06/2027 15:00"],
        ["A", "Left", "05/13/2027 15:00"],
    ]).encode())
    assert report.rows[0].first_joined_at == datetime(2027, 5, 6, 15, tzinfo=AMSTERDAM)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1h 5m 12s", 3912), ("47m 3s", 2823), ("8s", 8), ("2h", 7200), ("1u 5m", 3900), ("01:05:12", 3912),
     ("", None), ("12", None), ("veel", None), ("5/25/27, 3:58:12 PM", None)],
)
def test_teams_durations(text, seconds):
    assert duration_seconds(text) == seconds


def test_unreadable_cells_are_reported_and_the_rest_is_kept():
    report = parse_report(table([
        ["Name", "First Join", "Last Leave", "In-Meeting Duration", "Email"],
        ["Anna", "gisteren", "5/25/27, 5:03:24 PM", "ongeveer een uur", ANNA],
    ]).encode(), MEETING_DAY)
    assert report.error == ""
    assert (report.rows[0].email, report.rows[0].first_joined_at, report.rows[0].minutes) == (ANNA, None, None)
    assert report.problems == [
        "Regel 2: de tijd \u2018gisteren\u2019 konden we niet lezen.",
        "Regel 2: de duur \u2018ongeveer een uur\u2019 konden we niet lezen.",
    ]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", NOT_RECOGNISED),
        (b"Hallo, dit is een boodschappenlijst\nmelk\nbrood\n", NOT_RECOGNISED),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", NOT_RECOGNISED),
        (bytes(range(256)) * 20, NOT_RECOGNISED),
        (b"PK\x03\x04\x14\x00\x06\x00", EXCEL_FILE),
        (table(TEAMS_SUMMARY).encode("utf-16"), NOT_RECOGNISED),
        (table(TEAMS_PARTICIPANTS[:2]).encode("utf-16"), NO_PEOPLE),
        ('Naam,"nooit gesloten\n'.encode() + b"x" * 200_000, NOT_RECOGNISED),
    ],
    ids=["empty", "text", "png", "bytes", "xlsx", "summary-only", "header-only", "unclosed-quote"],
)
def test_files_that_are_not_reports_get_a_dutch_error(data, error):
    report = parse_report(data, MEETING_DAY)
    assert (report.error, report.rows) == (error, [])


def test_odd_input_never_raises():
    chance = random.Random(20270525)
    samples = [teams_report(), ZOOM_REPORT, OLD_TEAMS_REPORT, teams_report(",", "utf-8")]
    for sample in samples:
        for cut in range(0, len(sample), 7):
            parse_report(sample[:cut], MEETING_DAY)
        for _ in range(200):
            damaged = bytearray(sample)
            for _ in range(chance.randint(1, 20)):
                damaged[chance.randrange(len(damaged))] = chance.randrange(256)
            parse_report(bytes(damaged), chance.choice([None, MEETING_DAY]))


# ---------------------------------------------------------------- importing via the page


def register(client, event, email, status=RegistrationStatus.confirmed, **names) -> Registration:
    post_registration(client, event, email=email, **names)
    db.session.rollback()
    registration = db.session.scalar(select(Registration).where(Registration.email_normalized == email.lower()))
    if registration.status != status:
        registration.status = status
        db.session.commit()
    return registration


def upload(client, event, data: bytes, filename: str = "rapport.csv"):
    return client.post(
        f"/organiser/events/{event.slug}/aanwezigheid/rapport",
        data={"report": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def attendance_of(registration: Registration) -> Attendance | None:
    db.session.rollback()
    return db.session.scalar(select(Attendance).where(Attendance.registration_id == registration.id))


def counts() -> tuple[int, int]:
    db.session.rollback()
    return db.session.scalar(select(func.count(Attendance.id))), db.session.scalar(select(func.count(AuditEntry.id)))


def test_the_page_lists_confirmed_registrants(organiser_client, event):
    register(organiser_client, event, ANNA)
    register(organiser_client, event, BRAM, first_name="Bram", tussenvoegsel="", last_name="Smit",
             status=RegistrationStatus.waitlisted)
    page = organiser_client.get(f"/organiser/events/{event.slug}/aanwezigheid").get_data(as_text=True)
    assert "Anna van den Berg" in page
    assert "Bram Smit" not in page
    assert "0 van de 1 aangemelden namen deel." in page
    assert 'enctype="multipart/form-data"' in page
    assert 'aria-current="page">Aanwezigheid' in page


def test_someone_cancelled_after_joining_is_still_shown(organiser_client, event):
    # The join link opens before the start, when cancelling still works.
    bram = register(organiser_client, event, BRAM, first_name="Bram", tussenvoegsel="", last_name="Smit")
    set_attendance_by_hand(bram, True)
    bram.status = RegistrationStatus.cancelled
    db.session.commit()
    page = organiser_client.get(f"/organiser/events/{event.slug}/aanwezigheid").get_data(as_text=True)
    row = page.split(f'id="aanmelding-{bram.id}"')[1].split("</tr>")[0]
    assert "Bram Smit <small>(afgemeld)</small>" in row
    assert 'value="nee"' in row and "Niet aanwezig<span class=\"visually-hidden\">: Bram Smit</span>" in row
    assert "0 van de 0 aangemelden namen deel." in page


def test_importing_a_zoom_report_records_registrants_and_lists_the_rest(organiser_client, event):
    anna = register(organiser_client, event, "Anna.vandenBerg@Example.org")
    bram = register(organiser_client, event, BRAM, first_name="Bram", tussenvoegsel="", last_name="Smit")
    response = upload(organiser_client, event, ZOOM_REPORT)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Zoom: 2 personen gekoppeld, 2 niet gekoppeld." in page
    unmatched = page.split('id="unmatched"')[1].split("</table>")[0]
    assert "Jansen, Piet" in unmatched and "piet@andere-school.example" in unmatched and "niet aangemeld" in unmatched
    assert "iPhone van Kees" in unmatched and "geen e-mailadres in het rapport" in unmatched
    assert "Anna" not in unmatched

    row = attendance_of(anna)
    assert (row.source, row.minutes_present, row.join_count) == (AttendanceSource.report, 73, 0)
    assert (row.first_joined_at, row.last_joined_at) == (at(15, 58, 12), at(16, 35, 2))
    assert attendance_of(bram).minutes_present == 73
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "attendance.import"))
    assert (entry.summary, entry.event_id) == ("2 gekoppeld, 2 niet gekoppeld", event.id)

    page = organiser_client.get(f"/organiser/events/{event.slug}/aanwezigheid").get_data(as_text=True)
    anna_row = page.split(f'id="aanmelding-{anna.id}"')[1].split("</tr>")[0]
    assert "<td>ja</td>" in anna_row and "15.58 uur" in anna_row and "<td>73</td>" in anna_row and "rapport" in anna_row
    assert "2 van de 2 aangemelden namen deel." in page


def test_importing_a_teams_report_in_utf16(organiser_client, event):
    anna = register(organiser_client, event, ANNA)
    page = upload(organiser_client, event, teams_report(), "meetingAttendanceReport.csv").get_data(as_text=True)
    assert "Teams: 1 persoon gekoppeld, 2 niet gekoppeld." in page
    assert attendance_of(anna).minutes_present == 65


def test_the_same_report_twice_changes_nothing(organiser_client, event):
    anna = register(organiser_client, event, ANNA)
    upload(organiser_client, event, ZOOM_REPORT)
    first = attendance_of(anna)
    before = (first.first_joined_at, first.last_joined_at, first.minutes_present, first.join_count, first.source)
    upload(organiser_client, event, ZOOM_REPORT)
    again = attendance_of(anna)
    assert (again.first_joined_at, again.last_joined_at, again.minutes_present, again.join_count, again.source) == before


@pytest.mark.parametrize("data", [b"\x00\x01garbage\xff" * 50, b"Naam;Adres\nAnna;Dorpsstraat 1\n", b""])
def test_a_file_that_is_not_a_report_changes_nothing(organiser_client, event, data):
    register(organiser_client, event, ANNA)
    before = counts()
    response = upload(organiser_client, event, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert NOT_RECOGNISED in page
    assert 'id="foutmeldingen"' in page and 'aria-invalid="true"' in page
    assert counts() == before


def test_sending_no_file_asks_for_one(organiser_client, event):
    response = organiser_client.post(f"/organiser/events/{event.slug}/aanwezigheid/rapport", data={},
                                     content_type="multipart/form-data")
    assert "Kies het aanwezigheidsrapport dat u wilt inlezen." in response.get_data(as_text=True)
    assert counts() == (0, 0)


def test_a_report_of_another_day_is_refused(organiser_client, event):
    anna = register(organiser_client, event, ANNA)
    other_day = ZOOM_REPORT.replace(b"05/25/2027", b"05/18/2027")
    page = upload(organiser_client, event, other_day).get_data(as_text=True)
    assert "De tijden in dit rapport vallen niet op de dag van de bijeenkomst (dinsdag 25 mei 2027)" in page
    assert attendance_of(anna) is None


def test_cancelled_and_waitlisted_registrants_are_listed_not_recorded(organiser_client, event):
    anna = register(organiser_client, event, ANNA, status=RegistrationStatus.cancelled)
    bram = register(organiser_client, event, BRAM, first_name="Bram", tussenvoegsel="", last_name="Smit",
                    status=RegistrationStatus.waitlisted)
    page = upload(organiser_client, event, ZOOM_REPORT).get_data(as_text=True)
    assert "Zoom: 0 personen gekoppeld, 4 niet gekoppeld." in page
    unmatched = page.split('id="unmatched"')[1].split("</table>")[0]
    assert "<td>afgemeld</td>" in unmatched and "<td>op de wachtlijst</td>" in unmatched
    assert attendance_of(anna) is None and attendance_of(bram) is None


def test_a_join_link_click_keeps_its_count_and_time_after_an_import(organiser_client, event, frozen):
    anna = register(organiser_client, event, ANNA)
    token = issue_token(anna, TokenPurpose.join)
    db.session.commit()
    frozen.move_to(datetime(2027, 5, 25, 15, 31, tzinfo=AMSTERDAM))
    assert organiser_client.get(f"/j/{token}").status_code == 303
    frozen.move_to(datetime(2027, 5, 25, 16, 34, tzinfo=AMSTERDAM))
    assert organiser_client.get(f"/j/{token}").status_code == 303
    # Weeks later the organiser's session has ended: log in again.
    organiser_client.post("/organiser/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    assert "Zoom: 1 persoon gekoppeld" in upload(organiser_client, event, ZOOM_REPORT).get_data(as_text=True)
    row = attendance_of(anna)
    assert (row.join_count, row.source, row.minutes_present) == (2, AttendanceSource.report, 73)
    # The click at 15.31 came before the report's first join; the report's 16.35 rejoin is the latest.
    assert (row.first_joined_at, row.last_joined_at) == (at(15, 31), at(16, 35, 2))
    page = organiser_client.get(f"/organiser/events/{event.slug}/aanwezigheid").get_data(as_text=True)
    assert "rapport; link 2× gebruikt" in page


# ---------------------------------------------------------------- by hand


def mark(client, event, registration, value):
    return client.post(f"/organiser/events/{event.slug}/aanwezigheid/{registration.id}", data={"aanwezig": value})


def test_marking_present_and_absent_by_hand(organiser_client, event):
    anna = register(organiser_client, event, ANNA)
    response = mark(organiser_client, event, anna, "ja")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/aanwezigheid#aanmelding-{anna.id}")
    row = attendance_of(anna)
    assert (row.source, row.join_count, row.minutes_present) == (AttendanceSource.manual, 0, None)
    page = organiser_client.get(f"/organiser/events/{event.slug}/aanwezigheid").get_data(as_text=True)
    assert "Anna van den Berg staat op aanwezig." in page and "met de hand" in page
    assert "1 van de 1 aangemelden namen deel." in page

    # Present again changes nothing; a report then brings its times.
    mark(organiser_client, event, anna, "ja")
    upload(organiser_client, event, ZOOM_REPORT)
    row = attendance_of(anna)
    assert (row.source, row.first_joined_at, row.minutes_present) == (AttendanceSource.report, at(15, 58, 12), 73)

    assert mark(organiser_client, event, anna, "nee").status_code == 302
    assert attendance_of(anna) is None
    db.session.rollback()
    actions = db.session.scalars(select(AuditEntry.summary).where(AuditEntry.action == "attendance.manual")).all()
    assert actions == [f"aanmelding {anna.id}: aanwezig", f"aanmelding {anna.id}: niet aanwezig"]


def test_by_hand_refuses_what_does_not_fit(organiser_client, event):
    anna = register(organiser_client, event, ANNA)
    bram = register(organiser_client, event, BRAM, first_name="Bram", tussenvoegsel="", last_name="Smit",
                    status=RegistrationStatus.waitlisted)
    assert mark(organiser_client, event, anna, "misschien").status_code == 400
    assert mark(organiser_client, event, bram, "ja").status_code == 409
    other = organiser_client.post("/organiser/events/bestaat-niet/aanwezigheid/1", data={"aanwezig": "ja"})
    assert other.status_code == 404
    missing = organiser_client.post(f"/organiser/events/{event.slug}/aanwezigheid/999999", data={"aanwezig": "ja"})
    assert missing.status_code == 404
    assert counts()[0] == 0


# ---------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "", None),
        ("POST", "/rapport", "upload"),
        ("POST", "/{id}", {"aanwezig": "nee"}),
        ("POST", "/{id}", {"aanwezig": "ja"}),
    ],
    ids=["page", "import", "absent", "present"],
)
def test_anonymous_visitors_are_sent_to_log_in_and_change_nothing(client, event, method, path, data):
    anna = register(client, event, ANNA)
    bram = register(client, event, BRAM, first_name="Bram", tussenvoegsel="", last_name="Smit")
    set_attendance_by_hand(anna, True)
    db.session.commit()
    before = counts()
    target = bram if data == {"aanwezig": "ja"} else anna
    url = f"/organiser/events/{event.slug}/aanwezigheid" + path.format(id=target.id)
    if data == "upload":
        response = client.post(url, data={"report": (io.BytesIO(ZOOM_REPORT), "rapport.csv")},
                               content_type="multipart/form-data")
    else:
        response = client.open(url, method=method, data=data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/organiser/login")
    assert counts() == before
    assert attendance_of(anna).source == AttendanceSource.manual
    assert attendance_of(bram) is None
