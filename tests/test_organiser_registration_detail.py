"""One registration in the organiser area: its details, attendance and mails, and editing them."""

from __future__ import annotations

import re

from sqlalchemy import select

from helpers import (
    NOW,
    REGISTRATIONS_URL as BASE,
    audit_actions,
    deliver,
    flash_after,
    form_data,
    kinds_for,
    page_text as text,
    reload_registration as reload,
)
from webinar.attendance.models import Attendance
from webinar.extensions import db
from webinar.mailing.models import MailStatus, OutgoingMail
from webinar.audit import AuditEntry


# One registration


def test_detail_shows_details_attendance_and_mails(organiser_client, event, people, smtp):
    anna = people["berg"]
    deliver()
    mail = db.session.scalar(select(OutgoingMail).where(OutgoingMail.registration_id == anna.id))
    db.session.add(OutgoingMail(kind="reminder", dedupe_key="x", event_id=event.id, registration_id=anna.id,
                                recipient=anna.email, status=MailStatus.failed, last_error="550 mailbox unavailable"))
    db.session.add(Attendance(registration_id=anna.id, first_joined_at=NOW, last_joined_at=NOW, join_count=2))
    db.session.commit()
    assert mail.kind == "confirmation" and mail.status == MailStatus.sent
    page = text(organiser_client.get(f"{BASE}/{anna.id}"))
    assert "<h1>Anna van den Berg</h1>" in page
    for fact in ("anna.vandenberg@example.org", "OBS De Linde", "Schoolleider", "Status: <strong>Aangemeld</strong>"):
        assert fact in page
    assert re.search(r"Aantal keer binnengekomen</dt><dd>2</dd>", page)
    assert re.search(r"<td>Bevestiging</td>\s*<td>Verstuurd</td>\s*<td>zaterdag 1 mei 2027 om 12.00 uur</td>", page)
    assert re.search(r"<td>Herinnering</td>\s*<td>Mislukt</td>\s*<td>–</td>\s*<td>550 mailbox unavailable</td>", page)


def test_detail_of_another_events_registration_is_not_found(organiser_client, event, people):
    assert organiser_client.get(f"{BASE}/{people['berg'].id + 1000}").status_code == 404
    assert organiser_client.get(f"/organiser/events/bestaat-niet/aanmeldingen/{people['berg'].id}").status_code == 404


def test_edit_changes_details_without_mail(organiser_client, people):
    anna = people["berg"]
    before = kinds_for(anna)
    response = organiser_client.post(f"{BASE}/{anna.id}/bewerken",
                                     data=form_data(first_name="Anne", organisation="IKC De Linde"))
    assert "De gegevens van Anne van den Berg zijn opgeslagen." in flash_after(response, organiser_client)
    anna = reload(anna)
    assert (anna.first_name, anna.organisation) == ("Anne", "IKC De Linde")
    assert kinds_for(anna) == before
    summary = db.session.scalar(select(AuditEntry.summary))
    assert summary == "Gegevens van Anne van den Berg (IKC De Linde) gewijzigd: voornaam, organisatie, soort organisatie"


def test_edit_refuses_an_address_someone_else_uses(organiser_client, people):
    anna = people["berg"]
    response = organiser_client.post(f"{BASE}/{anna.id}/bewerken", data=form_data(email="piet.bakker@example.org"))
    assert response.status_code == 422
    assert "Dit e-mailadres is al aangemeld voor deze bijeenkomst." in text(response)
    assert reload(anna).email == "anna.vandenberg@example.org"
    assert audit_actions() == []
