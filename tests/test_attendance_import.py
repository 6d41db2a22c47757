"""Attendance: importing a report on the organiser page records registrants and lists the rest."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from helpers import (
    ANNA,
    BRAM,
    ORGANISER_EMAIL,
    ORGANISER_PASSWORD,
    ZOOM_REPORT,
    amsterdam_at as at,
    attendance_counts as counts,
    attendance_of,
    register_attendee as register,
    teams_report,
    upload_report as upload,
)
from webinar.attendance.models import AttendanceSource
from webinar.attendance.report_files import NOT_RECOGNISED
from webinar.attendance.services import set_attendance_by_hand
from webinar.dutch import AMSTERDAM
from webinar.extensions import db
from webinar.audit import AuditEntry
from webinar.registration.models import RegistrationStatus, TokenPurpose
from webinar.registration.tokens import issue_token


# ---------------------------------------------------------------- importing via the page


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
    walk_ins = page.split('id="walk-ins"')[1].split("</table>")[0]
    assert "Jansen, Piet" in walk_ins and "piet@andere-school.example" in walk_ins
    assert "iPhone van Kees" in walk_ins
    assert "Anna" not in walk_ins

    row = attendance_of(anna)
    assert (row.source, row.minutes_present, row.join_count) == (AttendanceSource.report, 73, 0)
    assert (row.first_joined_at, row.last_joined_at) == (at(15, 58, 12), at(16, 35, 2))
    assert attendance_of(bram).minutes_present == 73
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "attendance.import"))
    assert (entry.summary, entry.event_id) == ("Rapport ingelezen: 2 gekoppeld, 2 niet gekoppeld, 2 niet aangemeld", event.id)

    page = organiser_client.get(f"/organiser/events/{event.slug}/aanwezigheid").get_data(as_text=True)
    anna_row = page.split(f'id="aanmelding-{anna.id}"')[1].split("</tr>")[0]
    assert "<td>ja</td>" in anna_row and "15.58 uur" in anna_row and "<td>73</td>" in anna_row and "rapport" in anna_row
    assert "2 van de 2 aangemelden namen deel." in page


def test_importing_a_teams_report_in_utf16(organiser_client, event):
    anna = register(organiser_client, event, ANNA)
    page = upload(organiser_client, event, teams_report(), "meetingAttendanceReport.csv").get_data(as_text=True)
    # The meeting's organiser is named apart, not counted.
    assert "Teams: 1 persoon gekoppeld, 1 niet gekoppeld." in page
    assert "Niet meegeteld: Mirjam de Vries." in page
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
