"""Large imports (registrant lists, Teams and Zoom reports) stored in groups while the public keeps registering."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from helpers import NOW, add_confirmed, form_data, registrant_csv, teams_participants, zoom_participants
from webinar.attendance.models import Attendance, AttendanceSource
from webinar.audit import AuditEntry
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.organiser import attendance_import as attendance_views
from webinar.organiser import imports
from webinar.registration.models import Registration, RegistrationStatus

IMPORT = "/organiser/events/samen-onderwijs-versnellen/aanmeldingen/importeren"
REPORT = "/organiser/events/samen-onderwijs-versnellen/aanwezigheid/rapport"


def upload(client, path: str, field: str, content: bytes):
    # Encoded by hand: the test client would spool a large upload to a file it never closes.
    body = (f'--grens\r\nContent-Disposition: form-data; name="{field}"; filename="bestand.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n").encode() + content + b"\r\n--grens--\r\n"
    return client.post(path, data=body, content_type="multipart/form-data; boundary=grens")


def page(response) -> str:
    return response.get_data(as_text=True)


def mails_per_registration(kind: str) -> dict[int, int]:
    db.session.rollback()
    return dict(db.session.execute(
        select(OutgoingMail.registration_id, func.count(OutgoingMail.id))
        .where(OutgoingMail.kind == kind).group_by(OutgoingMail.registration_id)).all())


def statuses() -> dict[str, RegistrationStatus]:
    db.session.rollback()
    return dict(db.session.execute(select(Registration.email, Registration.status)).all())


def audit_summaries(action: str) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.summary).where(AuditEntry.action == action)))


@pytest.mark.slow
def test_a_list_of_10000_is_stored_once_with_one_confirmation_each(organiser_client, event):
    event.capacity = None
    db.session.commit()
    response = upload(organiser_client, IMPORT, "file", registrant_csv(10000, broken=5000))
    assert response.status_code == 200
    assert "Import klaar: 9999 overgenomen, 1 geweigerd." in page(response)
    assert "<th scope=\"row\">5002</th><td>Lid Nummer 05000</td><td>Ongeldig e-mailadres ‘lid@’</td>" in page(response)
    stored = statuses()
    assert len(stored) == 9999 and "lid05000@example.org" not in stored and "lid09999@example.org" in stored
    assert set(stored.values()) == {RegistrationStatus.confirmed}
    confirmations = mails_per_registration("confirmation")
    assert len(confirmations) == 9999 and set(confirmations.values()) == {1}
    assert audit_summaries("registration.import") == ["Lijst bestand.csv ingelezen: 9999 overgenomen, 1 geweigerd"]


def test_capacity_holds_across_groups_and_the_rest_waits(organiser_client, event, client):
    places = imports.GROUP_ROWS + 37
    event.capacity = places
    db.session.commit()
    client.post(f"/events/{event.slug}", data=form_data(email="eerder@example.org"))  # takes one place
    response = upload(organiser_client, IMPORT, "file", registrant_csv(3 * imports.GROUP_ROWS))
    assert f"Import klaar: {3 * imports.GROUP_ROWS} overgenomen, 0 geweigerd." in page(response)
    stored = statuses()
    confirmed = sorted(email for email, status in stored.items() if status == RegistrationStatus.confirmed)
    assert confirmed == ["eerder@example.org"] + [f"lid{n:05d}@example.org" for n in range(places - 1)]
    assert len(mails_per_registration("confirmation")) == places
    waiting = mails_per_registration("waitlisted")
    assert len(waiting) == 3 * imports.GROUP_ROWS - (places - 1) and set(waiting.values()) == {1}
    assert "Op de wachtlijst" in page(response).split(f"lid{places - 1:05d}@example.org")[1][:80]


@pytest.mark.slow
@pytest.mark.parametrize("kind, report", [("Teams", teams_participants), ("Zoom", zoom_participants)])
def test_a_report_of_10000_records_each_registrant_once(organiser_client, event, kind, report):
    event.capacity = None
    db.session.commit()
    addresses = add_confirmed(event.id, 10000, NOW)
    response = upload(organiser_client, REPORT, "report", report(addresses))
    assert response.status_code == 200
    assert f"{kind}: 10000 personen gekoppeld, 0 niet gekoppeld." in page(response)
    db.session.rollback()
    recorded = dict(db.session.execute(
        select(Registration.email, Attendance.minutes_present).join(Attendance.registration)
        .where(Attendance.source == AttendanceSource.report)).all())
    assert len(recorded) == 10000
    assert [recorded[addresses[n]] for n in (0, 1, 4999, 9999)] == [5, 6, 4999 % 60 + 5, 9999 % 60 + 5]
    assert db.session.scalar(select(func.count(Attendance.id))) == 10000
    assert audit_summaries("attendance.import") == ["Rapport ingelezen: 10000 gekoppeld, 0 niet gekoppeld"]


@pytest.mark.slow
def test_a_public_registration_goes_through_between_two_groups(organiser_client, event, live_server, monkeypatch):
    event.capacity = None
    db.session.commit()
    calls, answers = [], []
    start_group = imports.restart_as_write

    def register_before_the_second_group():
        # The import holds no lock between groups: a visitor who registers now is served
        # at once. Were the lock still held, this request would wait for the import, and the
        # import for it (the same thread): the registration would end in an error or a timeout.
        calls.append(True)
        if len(calls) == 2:
            answers.append(requests.post(f"{live_server.url}/events/{event.slug}", allow_redirects=False,
                                         data=form_data(email="tussendoor@example.org"), timeout=60))
        return start_group()

    monkeypatch.setattr(imports, "restart_as_write", register_before_the_second_group)
    rows = 2 * imports.GROUP_ROWS
    response = upload(organiser_client, IMPORT, "file", registrant_csv(rows))
    assert answers[0].status_code == 302 and "/aangemeld" in answers[0].headers["Location"]
    assert f"Import klaar: {rows} overgenomen, 0 geweigerd." in page(response)
    stored = statuses()
    assert len(stored) == rows + 1 and "tussendoor@example.org" in stored
    assert len(mails_per_registration("confirmation")) == rows + 1


def test_a_report_line_that_cannot_be_stored_is_listed_and_the_rest_recorded(organiser_client, event, monkeypatch):
    addresses = add_confirmed(event.id, 3 * imports.GROUP_ROWS, NOW)
    record = attendance_views.record_report_rows

    def fails_for_one(event, lines):
        if any(registration.email == addresses[250] for registration, _ in lines):
            raise RuntimeError("de schijf is vol")
        return record(event, lines)

    monkeypatch.setattr(attendance_views, "record_report_rows", fails_for_one)
    response = upload(organiser_client, REPORT, "report", zoom_participants(addresses))
    assert response.status_code == 200
    assert f"Zoom: {3 * imports.GROUP_ROWS - 1} personen gekoppeld, 0 niet gekoppeld." in page(response)
    assert "Van 1 persoon is de aanwezigheid niet vastgelegd" in page(response)
    assert f"Deelnemer Nummer 00250 ({addresses[250]})" in page(response).split('id="failed"')[1]
    db.session.rollback()
    recorded = set(db.session.scalars(select(Registration.email).join(Attendance.registration)))
    assert recorded == set(addresses) - {addresses[250]}
    assert audit_summaries("attendance.import") == [
        f"Rapport ingelezen: {3 * imports.GROUP_ROWS - 1} gekoppeld, 0 niet gekoppeld, 1 niet vastgelegd door een storing"]
