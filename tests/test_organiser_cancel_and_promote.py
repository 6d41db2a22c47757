"""Organisers cancel a registration or promote someone from the waiting list."""

from __future__ import annotations

from datetime import timedelta

from helpers import (
    ENDS,
    ORGANISER_EMAIL,
    ORGANISER_PASSWORD,
    REGISTRATIONS_URL as BASE,
    audit_actions,
    deliver,
    flash_after,
    page_text as text,
    reload_registration as reload,
)
from webinar.registration.models import RegistrationStatus


def log_in(client) -> None:
    response = client.post("/organiser/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    assert response.status_code == 302


# Cancelling and promoting


def test_cancel_gives_the_place_to_the_first_waiting(organiser_client, smtp, full_event):
    anna, bert = full_event
    message = flash_after(organiser_client.post(f"{BASE}/{anna.id}/annuleren"), organiser_client)
    assert "Anna van den Berg is afgemeld" in message and "Van de wachtlijst kreeg Bert Bakker" in message
    assert reload(anna).status == RegistrationStatus.cancelled
    assert reload(bert).status == RegistrationStatus.confirmed
    deliver()
    assert [m["Subject"].strip() for m in smtp.to("anna@example.org")] == [
        "Afmelding bevestigd: Samen onderwijs versnellen"]
    assert [m["Subject"].strip() for m in smtp.to("bert@example.org")] == [
        "Er is een plaats vrij: u bent aangemeld voor Samen onderwijs versnellen"]
    assert audit_actions() == ["registration.cancel"]
    again = flash_after(organiser_client.post(f"{BASE}/{anna.id}/annuleren"), organiser_client)
    assert "was al afgemeld" in again and audit_actions() == ["registration.cancel"]


def test_promote_goes_past_the_limit_and_says_so(organiser_client, smtp, full_event):
    anna, bert = full_event
    page = text(organiser_client.get(f"{BASE}/{bert.id}"))
    assert "nummer 1 op de wachtlijst" in page and "Plaats geven" in page
    message = flash_after(organiser_client.post(f"{BASE}/{bert.id}/plaats-geven"), organiser_client)
    assert "Bert Bakker heeft een plaats gekregen" in message
    assert "er zijn nu 2 aanmeldingen voor 1 plaats" in message
    assert reload(bert).status == RegistrationStatus.confirmed
    assert reload(anna).status == RegistrationStatus.confirmed
    deliver()
    assert [m["Subject"].strip() for m in smtp.to("bert@example.org")] == [
        "Er is een plaats vrij: u bent aangemeld voor Samen onderwijs versnellen"]
    assert audit_actions() == ["registration.promote"]
    again = flash_after(organiser_client.post(f"{BASE}/{bert.id}/plaats-geven"), organiser_client)
    assert "staat niet op de wachtlijst" in again and audit_actions() == ["registration.promote"]


def test_nothing_changes_after_the_event(organiser_client, frozen, full_event):
    anna, bert = full_event
    frozen.move_to(ENDS + timedelta(hours=1))
    log_in(organiser_client)  # the session ran out while time moved on
    assert "voorbij" in flash_after(organiser_client.post(f"{BASE}/{bert.id}/plaats-geven"), organiser_client)
    assert "voorbij" in flash_after(organiser_client.post(f"{BASE}/{anna.id}/annuleren"), organiser_client)
    assert reload(anna).status == RegistrationStatus.confirmed
    assert reload(bert).status == RegistrationStatus.waitlisted
    assert audit_actions() == []
