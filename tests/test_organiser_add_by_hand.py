"""Organisers add a registration by hand."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from helpers import (
    CONFIRMATION_SUBJECT as CONFIRMATION,
    NOW,
    REGISTRATIONS_URL as BASE,
    audit_actions,
    deliver,
    flash_after,
    form_data,
    kinds_for,
    page_text as text,
    post_registration,
)
from webinar.extensions import db
from webinar.registration.models import Registration, RegistrationStatus


# Adding by hand


def test_add_by_hand_sends_the_confirmation(organiser_client, smtp, event):
    response = organiser_client.post(f"{BASE}/nieuw", data=form_data(email="nieuw@example.org", privacy=None))
    assert "Anna van den Berg is aangemeld en krijgt een bevestiging per e-mail." in flash_after(
        response, organiser_client)
    [registration] = db.session.scalars(select(Registration)).all()
    assert response.headers["Location"] == f"{BASE}/{registration.id}"
    assert registration.status == RegistrationStatus.confirmed
    deliver()
    assert [m["Subject"].strip() for m in smtp.to("nieuw@example.org")] == [CONFIRMATION]
    assert audit_actions() == ["registration.add"]


def test_add_by_hand_works_after_registration_closed(organiser_client, smtp, client, event):
    event.registration_closes_at = NOW - timedelta(hours=1)
    db.session.commit()
    assert post_registration(client, event, email="publiek@example.org").status_code == 409
    response = organiser_client.post(f"{BASE}/nieuw", data=form_data(email="laat@example.org"))
    assert response.status_code == 302
    [registration] = db.session.scalars(select(Registration)).all()
    assert (registration.email, registration.status) == ("laat@example.org", RegistrationStatus.confirmed)
    deliver()
    assert [m["Subject"].strip() for m in smtp.to("laat@example.org")] == [CONFIRMATION]


def test_add_by_hand_puts_people_on_the_waiting_list_when_full(organiser_client, full_event):
    response = organiser_client.post(f"{BASE}/nieuw", data=form_data(email="derde@example.org", first_name="Cor"))
    assert "De bijeenkomst is vol: Cor van den Berg staat op de wachtlijst" in flash_after(response, organiser_client)


def test_add_by_hand_refuses_a_registered_address_and_a_cancelled_event(organiser_client, event, people):
    response = organiser_client.post(f"{BASE}/nieuw", data=form_data(email="Piet.Bakker@example.org"))
    assert response.status_code == 422
    assert "Dit e-mailadres is al aangemeld voor deze bijeenkomst." in text(response)
    assert kinds_for(people["bakker"]) == ["confirmation"]  # no "registered again" mail either
    event.cancelled_at = NOW
    db.session.commit()
    response = organiser_client.post(f"{BASE}/nieuw", data=form_data(email="nieuw@example.org"))
    assert response.status_code == 422 and "voorbij of geannuleerd" in text(response)
    assert db.session.scalar(select(func.count(Registration.id))) == 4
    assert audit_actions() == []


def test_add_by_hand_shows_the_forms_dutch_errors(organiser_client, event):
    response = organiser_client.post(f"{BASE}/nieuw", data=form_data(first_name="", email="geen-adres"))
    assert response.status_code == 422
    assert "Vul uw voornaam in." in text(response) and "Vul een geldig e-mailadres in" in text(response)
