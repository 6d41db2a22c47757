"""Attendance: reading Teams and Zoom reports (encodings, separators, dates, durations, odd input)."""

from __future__ import annotations

import random
from datetime import date, datetime, timezone

import pytest

from helpers import (
    ANNA,
    BRAM,
    TEAMS_PARTICIPANTS,
    TEAMS_SUMMARY,
    ZOOM_REPORT,
    amsterdam_at as at,
    report_table as table,
    teams_report,
)
from webinar.attendance.report_files import EXCEL_FILE, NO_PEOPLE, NOT_RECOGNISED, duration_seconds, parse_report
from webinar.dutch import AMSTERDAM


PIET = "piet.jansen@example.org"


MEETING_DAY = date(2027, 5, 25)


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
    # The meeting's organiser is kept apart; the summary's start time is the report's date.
    assert list(rows) == ["Anna van den Berg", "Piet Jansen (External)"]
    assert [row.name for row in report.organisers] == ["Mirjam de Vries"]
    assert report.started_at == at(15, 55, 10)
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
