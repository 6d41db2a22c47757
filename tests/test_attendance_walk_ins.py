"""Attendance over HTTP with the report files in tests/data/: walk-ins, suggestions and linking,
the confirmation before forgetting, search, and the warning for a report of another day."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from helpers import (
    ANNA,
    ENDS,
    ORGANISER_EMAIL,
    ORGANISER_PASSWORD,
    REPORT_FILES,
    amsterdam_at as at,
    attendance_counts as counts,
    attendance_of,
    mark_attendance as mark,
    register_attendee as register,
    register_report_people,
    report_file,
    upload_report as upload,
)
from webinar.attendance.models import AttendanceSource, WalkIn
from webinar.attendance.presence import minutes_present
from webinar.attendance.report_files import EXCEL_FILE, NOT_RECOGNISED
from webinar.audit import AuditEntry
from webinar.extensions import db
from webinar.organiser.attendance_import import FILE_LOST
from webinar.registration.models import Registration, RegistrationStatus, TokenPurpose
from webinar.registration.tokens import issue_token

PAGE = "/organiser/events/samen-onderwijs-versnellen/aanwezigheid"


def walk_ins() -> list[tuple[str, str, int | None, int | None]]:
    """(name, address, minutes, linked registration id) of every report line kept, by name."""
    db.session.rollback()
    return [tuple(row) for row in db.session.execute(
        select(WalkIn.name, WalkIn.email, WalkIn.minutes_present, WalkIn.registration_id).order_by(WalkIn.name))]


def table_row(page: str, row_id: str) -> str:
    return page.split(f'id="{row_id}"')[1].split("</tr>")[0]


def walk_in_id(email: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(WalkIn.id).where(WalkIn.email == email))


def link(client, walk_in: int, registration):
    return client.post(f"{PAGE}/niet-aangemeld/{walk_in}", data={"aanmelding": str(registration.id)})


# ---------------------------------------------------------------- each format, end to end


@pytest.mark.parametrize("name", REPORT_FILES)
def test_each_report_format_records_registrants_and_walk_ins_with_suggestions(organiser_client, event, name):
    anna, bram, jose = register_report_people(organiser_client, event)
    page = upload(organiser_client, event, report_file(name), name).get_data(as_text=True)
    assert "2 personen gekoppeld, 2 niet gekoppeld." in page
    assert "Niet meegeteld: Mirjam de Vries." in page
    assert (attendance_of(anna).minutes_present, attendance_of(bram).minutes_present) == (65, 73)
    assert attendance_of(jose) is None
    kept = walk_ins()
    assert [(name.split(" (")[0], email, minutes, linked) for name, email, minutes, linked in kept] == [
        ("J. de Wit", "j.dewit@example.org", 47, None), ("Karin Bakker", "", 30, None)]
    # José registered with another address: suggested by name, with one button.
    de_wit = table_row(page, f"niet-aangemeld-{walk_in_id('j.dewit@example.org')}")
    assert "Koppelen aan José de Wit" in de_wit and "voorletter en achternaam" in de_wit
    assert f'name="aanmelding" value="{jose.id}"' in de_wit
    karin = table_row(page, f"niet-aangemeld-{walk_in_id('')}")
    assert "Geen aangemelde met een naam die hierop lijkt." in karin and "Koppelen" not in karin


def test_the_same_report_twice_keeps_one_line_per_walk_in(organiser_client, event):
    register_report_people(organiser_client, event)
    upload(organiser_client, event, report_file("zoom-nl.csv"))
    upload(organiser_client, event, report_file("zoom-nl.csv"))
    assert len(walk_ins()) == 2


# ---------------------------------------------------------------- linking a suggested name


def test_linking_a_suggested_name_keeps_the_report_minutes(organiser_client, event):
    anna, bram, jose = register_report_people(organiser_client, event)
    upload(organiser_client, event, report_file("teams-nl-utf16-tab.csv"))
    response = link(organiser_client, walk_in_id("j.dewit@example.org"), jose)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#aanmelding-{jose.id}")
    row = attendance_of(jose)
    assert (row.source, row.minutes_present, row.join_count) == (AttendanceSource.report, 47, 0)
    assert (row.first_joined_at, row.last_joined_at) == (at(16, 5, 30), at(16, 5, 30))
    assert minutes_present(row, event) == 47  # by hand it would have counted the whole meeting (75)

    page = organiser_client.get(PAGE).get_data(as_text=True)
    assert "José de Wit staat op aanwezig, met 47 minuten uit het rapport." in page
    assert "3 van de 3 aangemelden namen deel. Daarnaast 1 niet aangemeld, wel aanwezig" in page
    assert "<td>47</td>" in table_row(page, f"aanmelding-{jose.id}")
    assert "J. de Wit" not in page.split('id="niet-aangemeld"')[1]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "attendance.link"))
    assert entry.summary == (f"Regel {walk_in_id('j.dewit@example.org')} uit het rapport gekoppeld aan "
                             f"José de Wit ({jose.organisation}), met 47 minuten")

    # The link is remembered: reading the report again records José from the same line.
    again = upload(organiser_client, event, report_file("teams-nl-utf16-tab.csv")).get_data(as_text=True)
    assert "3 personen gekoppeld, 1 niet gekoppeld." in again
    assert [linked for *_, linked in walk_ins()] == [jose.id, None]
    assert attendance_of(jose).minutes_present == 47


def test_linking_to_someone_already_present_keeps_the_larger_minutes(organiser_client, event):
    anna, bram, jose = register_report_people(organiser_client, event)
    upload(organiser_client, event, report_file("zoom-en.csv"))
    link(organiser_client, walk_in_id(""), anna)  # Karin's 30 minutes, wrongly, to Anna's 65
    assert attendance_of(anna).minutes_present == 65
    mark(organiser_client, event, jose, "ja")
    link(organiser_client, walk_in_id("j.dewit@example.org"), jose)  # by hand, then the report's times
    row = attendance_of(jose)
    assert (row.source, row.minutes_present, row.first_joined_at) == (AttendanceSource.report, 47, at(16, 5, 30))


def test_linking_refuses_what_does_not_fit(organiser_client, event):
    anna, bram, jose = register_report_people(organiser_client, event)
    upload(organiser_client, event, report_file("zoom-en.csv"))
    line = walk_in_id("j.dewit@example.org")
    assert organiser_client.post(f"{PAGE}/niet-aangemeld/{line}", data={"aanmelding": "x"}).status_code == 400
    assert organiser_client.post(f"{PAGE}/niet-aangemeld/999999", data={"aanmelding": jose.id}).status_code == 404
    assert organiser_client.post(f"{PAGE}/niet-aangemeld/{line}", data={"aanmelding": 999999}).status_code == 404
    # (The import left the test's objects detached: change Bram in the database itself.)
    db.session.execute(update(Registration).where(Registration.id == bram.id)
                       .values(status=RegistrationStatus.cancelled))
    db.session.commit()
    refused = link(organiser_client, line, bram)
    assert refused.status_code == 302 and refused.headers["Location"].endswith("#niet-aangemeld")
    page = organiser_client.get(PAGE).get_data(as_text=True)
    assert "Bram Smit is afgemeld; alleen bevestigde aanmeldingen kunt u koppelen." in page
    assert walk_ins()[0][3] is None
    link(organiser_client, line, jose)
    twice = link(organiser_client, line, anna)
    assert twice.status_code == 302
    assert "Deze regel uit het rapport is al gekoppeld." in organiser_client.get(PAGE).get_data(as_text=True)
    assert attendance_of(anna).minutes_present == 65


# ---------------------------------------------------------------- bad files


@pytest.mark.parametrize(("data", "message"), [
    (b"PK\x03\x04" + b"\x00" * 200, EXCEL_FILE),
    ("Naam\tWoonplaats\r\nAnna\tZwolle\r\n".encode("utf-16"), NOT_RECOGNISED),
], ids=["excel", "not-a-report"])
def test_a_bad_file_gets_a_dutch_message_and_changes_nothing(organiser_client, event, data, message):
    register_report_people(organiser_client, event)
    upload(organiser_client, event, report_file("zoom-en.csv"))
    before = counts(), walk_ins()
    page = upload(organiser_client, event, data).get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page
    assert (counts(), walk_ins()) == before


# ---------------------------------------------------------------- "niet aanwezig" asks first


def test_absent_for_someone_with_report_data_asks_first(organiser_client, event):
    anna, bram, jose = register_report_people(organiser_client, event)
    upload(organiser_client, event, report_file("teams-en-utf8-comma.csv"))
    link(organiser_client, walk_in_id("j.dewit@example.org"), jose)
    page = organiser_client.get(PAGE).get_data(as_text=True)
    confirm_url = f"{PAGE}/{anna.id}/niet-aanwezig"
    assert f'href="{confirm_url}"' in table_row(page, f"aanmelding-{anna.id}")
    assert 'value="nee"' not in table_row(page, f"aanmelding-{anna.id}")

    # A bare POST (an old page, a script) does not forget either: it goes to the question.
    asked = mark(organiser_client, event, anna, "nee")
    assert asked.status_code == 302 and asked.headers["Location"].endswith(confirm_url)
    question = organiser_client.get(confirm_url).get_data(as_text=True)
    assert "Anna van den Berg op niet aanwezig zetten?" in question
    assert "<dd>65</dd>" in question and "rapport van Teams of Zoom" in question
    assert 'name="bevestigd" value="ja"' in question and "Ja, zet op niet aanwezig" in question
    assert attendance_of(anna).minutes_present == 65

    done = organiser_client.post(f"{PAGE}/{anna.id}", data={"aanwezig": "nee", "bevestigd": "ja"})
    assert done.status_code == 302 and attendance_of(anna) is None
    # José's linked line becomes a walk-in again when he is marked absent.
    organiser_client.post(f"{PAGE}/{jose.id}", data={"aanwezig": "nee", "bevestigd": "ja"})
    assert attendance_of(jose) is None and [linked for *_, linked in walk_ins()] == [None, None]


def test_absent_after_a_mark_by_hand_needs_no_question(organiser_client, event):
    anna = register(organiser_client, event, ANNA)
    mark(organiser_client, event, anna, "ja")
    assert 'value="nee"' in table_row(organiser_client.get(PAGE).get_data(as_text=True), f"aanmelding-{anna.id}")
    assert mark(organiser_client, event, anna, "nee").headers["Location"].endswith(f"#aanmelding-{anna.id}")
    assert attendance_of(anna) is None
    # Nothing to lose: the question page sends back to the list.
    assert organiser_client.get(f"{PAGE}/{anna.id}/niet-aanwezig").status_code == 302


# ---------------------------------------------------------------- search


@pytest.mark.parametrize(("words", "shown", "hidden"), [
    ("smit", ["Bram Smit"], ["Anna van den Berg", "José de Wit", "Karin Bakker"]),
    ("regenboog", ["José de Wit"], ["Bram Smit", "Anna van den Berg"]),
    ("vandenberg@", ["Anna van den Berg"], ["Bram Smit"]),
    ("karin", ["Karin Bakker"], ["Bram Smit", "Anna van den Berg"]),
    ("niemand", [], ["Bram Smit", "Karin Bakker"]),
], ids=["name", "organisation", "address", "walk-in", "nobody"])
def test_search_on_the_attendance_page(organiser_client, event, words, shown, hidden):
    register_report_people(organiser_client, event)
    upload(organiser_client, event, report_file("zoom-nl.csv"))
    page = organiser_client.get(PAGE, query_string={"q": words}).get_data(as_text=True)
    tables = page.split('id="attendance"')[1]
    for name in shown:
        assert name in tables
    for name in hidden:
        assert name not in tables
    assert f'value="{words}"' in page and "Zoekopdracht wissen" in page
    assert "2 van de 3 aangemelden namen deel. Daarnaast 2 niet aangemeld" in page  # the totals stay whole


# ---------------------------------------------------------------- a report of another day


def test_a_report_of_another_day_is_read_only_after_a_warning(organiser_client, event):
    anna, bram, jose = register_report_people(organiser_client, event)
    other_day = report_file("teams-nl-utf16-tab.csv").decode("utf-16").replace("25-5-2027", "9-3-2027")
    warning = upload(organiser_client, event, other_day.encode("utf-16"))
    page = warning.get_data(as_text=True)
    assert warning.status_code == 200
    assert "Dit rapport is van dinsdag 9 maart 2027, de bijeenkomst ‘Samen onderwijs versnellen’ " \
           "was op dinsdag 25 mei 2027." in page
    assert "We hebben nog niets vastgelegd." in page and "Toch inlezen" in page
    assert counts() == (0, 0) and walk_ins() == []

    carried = re.search(r'name="inhoud" type="hidden" value="([^"]+)"', page)  # the file, base64
    done = organiser_client.post(f"{PAGE}/rapport", data={"inhoud": carried.group(1)}).get_data(as_text=True)
    assert "Let op: dit rapport is van dinsdag 9 maart 2027, de bijeenkomst was op dinsdag 25 mei 2027." in done
    assert "2 personen gekoppeld, 2 niet gekoppeld." in done
    assert attendance_of(anna).minutes_present == 65 and len(walk_ins()) == 2
    entry = db.session.scalar(select(AuditEntry.summary).where(AuditEntry.action == "attendance.import"))
    assert entry.endswith(", datum wijkt af")


def test_a_report_of_the_meetings_day_gets_no_warning(organiser_client, event):
    register_report_people(organiser_client, event)
    page = upload(organiser_client, event, report_file("zoom-en.csv")).get_data(as_text=True)
    assert "andere dag" not in page and "Let op" not in page


@pytest.mark.parametrize("carried", ["!!geen base64!!", ""], ids=["garbled", "empty"])
def test_a_report_that_does_not_come_back_whole_changes_nothing(organiser_client, event, carried):
    register_report_people(organiser_client, event)
    response = organiser_client.post(f"{PAGE}/rapport", data={"inhoud": carried})
    assert response.status_code == 200 and FILE_LOST in response.get_data(as_text=True)
    assert counts() == (0, 0) and walk_ins() == []


# ---------------------------------------------------------------- counted in the figures


def test_walk_ins_are_counted_apart_on_the_dashboard_and_in_the_exports(organiser_client, event):
    register_report_people(organiser_client, event)
    upload(organiser_client, event, report_file("teams-nl-plat-utf8-comma.csv"))
    dashboard = organiser_client.get(f"/organiser/events/{event.slug}").get_data(as_text=True)
    assert 'id="count-joined">2<' in dashboard and 'id="count-walk-ins">2<' in dashboard

    text = organiser_client.get(f"/organiser/events/{event.slug}/attendance.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    walk_in_rows = [row for row in rows if row["Status"] == "niet aangemeld"]
    assert [(row["Achternaam"], row["E-mailadres"], row["Deelgenomen"], row["Minuten aanwezig"], row["Bron"])
            for row in walk_in_rows] == [("J. de Wit (Extern)", "j.dewit@example.org", "ja", "47", "rapport"),
                                         ("Karin Bakker (Gast)", "", "ja", "30", "rapport")]
    assert walk_in_rows[0]["Eerste keer binnen"] == "25-05-2027 16:05"
    assert len(rows) == 5
    # A filter on registrations leaves them out; a search finds them.
    filtered = organiser_client.get(f"/organiser/events/{event.slug}/attendance.csv?status=aangemeld")
    assert "niet aangemeld" not in filtered.get_data(as_text=True)
    searched = organiser_client.get(f"/organiser/events/{event.slug}/attendance.csv?q=karin").get_data(as_text=True)
    assert "Karin Bakker" in searched and "Anna" not in searched

    book = load_workbook(io.BytesIO(organiser_client.get(f"/organiser/events/{event.slug}/registrations.xlsx").data))
    summary = [[cell for cell in row if cell is not None] for row in book["Samenvatting"].iter_rows(values_only=True)]
    assert ["Niet aangemeld, wel aanwezig (zonder filters)", 2] in summary


def test_purge_removes_walk_ins_and_keeps_their_count(organiser_client, event, runner, frozen, client):
    anna, bram, jose = register_report_people(organiser_client, event)
    upload(organiser_client, event, report_file("zoom-nl.csv"))
    link(organiser_client, walk_in_id("j.dewit@example.org"), jose)
    frozen.move_to(ENDS + timedelta(days=91))
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "3 aanmeldingen" in result.output and "2 regels van niet-aangemelden" in result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count(WalkIn.id))) == 0
    names = " ".join(db.session.scalars(select(AuditEntry.summary)))
    assert "Karin" not in names and "dewit" not in names
    client.post("/organiser/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    dashboard = client.get(f"/organiser/events/{event.slug}").get_data(as_text=True)
    assert 'id="count-joined">3<' in dashboard and 'id="count-walk-ins">1<' in dashboard
    # A second run finds nothing left.
    assert "regels" not in runner.invoke(args=["privacy", "purge"]).output


def test_a_registrant_deleting_their_data_takes_the_report_line_linked_to_them(organiser_client, event):
    anna, bram, jose = register_report_people(organiser_client, event)
    upload(organiser_client, event, report_file("teams-en-utf8-comma.csv"))
    link(organiser_client, walk_in_id("j.dewit@example.org"), jose)
    token = issue_token(db.session.get(Registration, jose.id), TokenPurpose.manage)
    db.session.commit()
    assert organiser_client.post(f"/r/{token}/verwijderen").status_code == 302
    assert [(name.split(" (")[0], linked) for name, _, _, linked in walk_ins()] == [("Karin Bakker", None)]


def test_a_walk_in_who_registers_later_is_counted_once(organiser_client, event):
    register_report_people(organiser_client, event)
    upload(organiser_client, event, report_file("zoom-en.csv"))
    late = register(organiser_client, event, "j.dewit@example.org", first_name="Jan", tussenvoegsel="de",
                    last_name="Wit")
    page = upload(organiser_client, event, report_file("zoom-en.csv")).get_data(as_text=True)
    assert "3 personen gekoppeld, 1 niet gekoppeld." in page
    assert attendance_of(late).minutes_present == 47
    assert [linked for *_, linked in walk_ins()] == [late.id, None]
    dashboard = organiser_client.get(f"/organiser/events/{event.slug}").get_data(as_text=True)
    assert 'id="count-joined">3<' in dashboard and 'id="count-walk-ins">1<' in dashboard
