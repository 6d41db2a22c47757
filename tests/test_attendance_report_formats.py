"""Attendance: each real report format in tests/data/, Dutch durations, and names that may be a registrant."""

from __future__ import annotations

from datetime import date

import pytest

from helpers import ANNA, BRAM, REPORT_FILES, amsterdam_at as at, report_file
from webinar.attendance.names import Person, name_forms, suggest
from webinar.attendance.report_files import duration_seconds, parse_report

MEETING_DAY = date(2027, 5, 25)


def test_every_format_has_a_file():
    assert REPORT_FILES == [
        "teams-en-plat-utf16-tab.csv", "teams-en-utf8-comma.csv", "teams-nl-plat-utf8-comma.csv",
        "teams-nl-utf16-tab.csv", "zoom-en.csv", "zoom-nl.csv",
    ]
    assert report_file("teams-nl-utf16-tab.csv").startswith(b"\xff\xfe")  # UTF-16 LE with a BOM, as Teams writes
    assert b"\t" in report_file("teams-en-plat-utf16-tab.csv").decode("utf-16").encode()


@pytest.mark.parametrize("name", REPORT_FILES)
def test_each_report_file_is_read_whole(name):
    # Without the meeting's date too: each file's own dates decide day or month first.
    for meeting_day in (MEETING_DAY, None):
        report = parse_report(report_file(name), meeting_day)
        assert (report.kind, report.error, report.problems) == (name.partition("-")[0].capitalize(), "", [])
        by_address = {row.email: row for row in report.rows}
        assert by_address[ANNA].minutes == 65 and by_address[ANNA].first_joined_at == at(15, 58, 12)
        assert by_address[BRAM].minutes == 73 and by_address[BRAM].last_joined_at == at(16, 2)
        assert by_address["j.dewit@example.org"].name.startswith("J. de Wit")
        assert by_address["j.dewit@example.org"].minutes == 47
        karin = by_address[""]  # no address, no UPN: a guest known by name only
        assert karin.name.startswith("Karin Bakker") and karin.minutes == 30
        assert len(report.rows) == 4
        # The organiser (Teams' role, Zoom's host) is not a participant.
        assert [row.name for row in report.organisers] == ["Mirjam de Vries"]
        assert report.started_at in (at(15, 55, 10), at(15, 55))


def test_the_dutch_teams_report_is_read_from_its_participants_table_only():
    report = parse_report(report_file("teams-nl-utf16-tab.csv"), MEETING_DAY)
    # Anna's two sessions in "3. Activiteiten in vergadering" would otherwise count twice.
    assert [row.email for row in report.rows].count(ANNA) == 1
    assert report.started_at == at(15, 55, 10)  # "Begintijd" in "1. Overzicht"


@pytest.mark.parametrize(("text", "seconds"), [
    ("1 u 5 min 3 s", 3903), ("1h 5m 3s", 3903), ("47 min 10 s", 2830), ("1 uur 5 minuten", 3900),
    ("2 u", 7200), ("30 s", 30), ("1 hr 2 min", 3720),
], ids=["dutch", "english", "minutes-seconds", "words", "hours", "seconds", "hr"])
def test_dutch_and_english_durations(text, seconds):
    assert duration_seconds(text) == seconds


def test_a_dutch_date_with_a_single_digit_month_reads_day_first():
    lines = ("Naam\tEerste deelname\tLaatste vertrek\tDuur in vergadering\tE-mailadres\n"
             "Anna van den Berg\t3-6-2027 16:02:11\t3-6-2027 17:00:00\t57 min 49 s\tanna@example.org\n")
    report = parse_report(lines.encode("utf-16"), date(2027, 6, 3))
    assert report.rows[0].first_joined_at == at(16, 2, 11, day=3).replace(month=6)
    assert report.rows[0].minutes == 58


def test_teams_old_list_in_dutch_sums_joined_to_left():
    lines = ("Volledige naam\tGebruikersactie\tTijdstempel\n"
             "Anna van den Berg\tDeelgenomen\t25-5-2027 15:58:12\n"
             "Anna van den Berg\tVertrokken\t25-5-2027 16:30:12\n"
             "Anna van den Berg\tDeelgenomen\t25-5-2027 16:40:00\n"
             "Anna van den Berg\tVertrokken\t25-5-2027 17:05:00\n")
    report = parse_report(lines.encode("utf-16"), MEETING_DAY)
    assert (report.kind, report.problems) == ("Teams (oude lijst)", [])
    assert report.rows[0].minutes == 57 and report.started_at == at(15, 58, 12)


REGISTRANTS = [
    ("anna", Person.of("Anna", "van den", "Berg")),
    ("jose", Person.of("José", "de", "Wit")),
    ("annewit", Person.of("Anne", "de", "Wit")),
    ("bram", Person.of("Bram", "", "Smit")),
    ("pieter", Person.of("Pieter", "", "van der Meer")),  # the tussenvoegsel typed in the last name
]


@pytest.mark.parametrize(("name", "email", "expected"), [
    ("Anna van den Berg", "", [("anna", "zelfde naam")]),
    ("Berg, Anna van den", "", [("anna", "zelfde naam")]),
    ("anna BERG", "", [("anna", "zelfde naam")]),
    ("Anna (Anna van den Berg)", "", [("anna", "zelfde naam")]),
    ("A. van den Berg (Extern)", "", [("anna", "voorletter en achternaam")]),
    ("Jose de Wit", "", [("jose", "zelfde naam")]),
    ("Wit, J. de", "", [("jose", "voorletter en achternaam")]),
    ("A. de Wit", "", [("annewit", "voorletter en achternaam")]),  # José's shared last name drops out
    ("de Wit", "", [("jose", "alleen de achternaam"), ("annewit", "alleen de achternaam")]),
    ("Gast", "a.vandenberg@example.org", [("anna", "voorletter en achternaam")]),
    ("iPad", "annavandenberg@example.org", [("anna", "zelfde naam")]),
    ("P. v.d. Meer", "", [("pieter", "voorletter en achternaam")]),
    ("Pieter Meer", "", [("pieter", "zelfde naam")]),
    ("Bram Smits", "", []),
    ("Anna Bergman", "", []),
    ("iPhone van Kees", "", []),
    ("", "", []),
], ids=["same", "last-first", "case", "zoom-original", "initial", "accents", "initial-last-first",
        "initial-decides", "last-only", "address", "address-glued", "abbreviated", "no-tussenvoegsel",
        "other-name", "longer-name", "device", "empty"])
def test_names_that_may_be_a_registrant(name, email, expected):
    assert suggest(name_forms(name, email), REGISTRANTS) == expected
