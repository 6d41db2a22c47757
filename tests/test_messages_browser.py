"""A message to two roles, in a real browser: choose, count, preview, test, send.

Uses the browser fixtures of test_browser.py (system Chromium, CSRF on); the
app runs on the live server and the real SMTP server catches the mail.
"""

from __future__ import annotations

import re

import pytest

from helpers import ORGANISER_EMAIL, ORGANISER_PASSWORD
from test_browser import app, browser, expect, page, snapshot, text_body  # noqa: F401 - fixtures
from webinar.extensions import db
from webinar.mailing.worker import send_due
from webinar.registration.services import Details, register

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PEOPLE = [
    ("Anna", "Schoolleider", "School"),
    ("Bert", "Schoolbestuurder", "Schoolbestuur"),
    ("Carla", "HRM'er", "Schoolbestuur"),
    ("Dirk", "Schoolleider", "School"),
]


def address(first_name: str) -> str:
    return f"{first_name.lower()}@example.org"


def test_a_message_to_two_roles(page, live_server, event, organiser, smtp):  # noqa: F811
    for first_name, role, kind in PEOPLE:
        register(event, Details(first_name=first_name, tussenvoegsel="", last_name="Jansen",
                                email=address(first_name), organisation="OBS De Linde", role=role,
                                organisation_type=kind))
    db.session.commit()
    send_due()
    smtp.messages.clear()
    db.session.rollback()  # the server's threads write from here on

    page.goto(f"{live_server.url}/organiser/login")
    page.get_by_label("E-mailadres").fill(ORGANISER_EMAIL)
    page.get_by_label("Wachtwoord").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.goto(f"{live_server.url}/organiser/events/{event.slug}/berichten")
    page.get_by_role("link", name="Nieuw bericht").click()

    roles = page.get_by_role("group", name=re.compile("^Rol"))
    roles.get_by_label("Schoolleider").check()
    roles.get_by_label("Schoolbestuurder").check()
    expect(page.get_by_role("group", name="Status").get_by_label("Aangemeld (bevestigd)")).to_be_checked()
    page.get_by_role("button", name="Tel ontvangers").click()
    expect(page.get_by_role("status")).to_have_text("Schoolbestuurders en schoolleiders, bevestigd, 3 ontvangers")
    expect(roles.get_by_label("Schoolleider")).to_be_checked()  # the choice survives the count

    page.get_by_label("Onderwerp").fill("Praktische informatie voor {voornaam}")
    page.get_by_label("Bericht").fill("Beste {voornaam},\n\nTot {datum}!")
    snapshot(page, "message-1-composed")
    page.get_by_role("button", name="Opslaan en voorbeeld bekijken").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Voorbeeld van uw bericht")
    expect(page.locator("#recipient-count")).to_have_text("3")
    expect(page.locator("#preview-text")).to_contain_text("Beste Voorbeeld,")
    expect(page.frame_locator("iframe.mail-preview").get_by_text("Beste Voorbeeld,")).to_be_visible()
    page.get_by_label("Stuur een test naar").fill("collega@example.org")
    page.get_by_role("button", name="Stuur een test").press("Enter")  # as a keyboard user does
    expect(page.get_by_text("Er gaat een test naar collega@example.org.")).to_be_visible()
    snapshot(page, "message-2-preview")
    page.get_by_role("button", name="Versturen aan 3 ontvangers").click()

    expect(page.get_by_text("Het bericht gaat nu naar 3 ontvangers.")).to_be_visible()
    expect(page.locator("dd").first).to_have_text("Schoolbestuurders en schoolleiders, bevestigd, 3 ontvangers")
    result = send_due()
    assert (result.sent, result.failed) == (4, 0)
    assert sorted(m["To"] for m in smtp.messages) == sorted(
        [address("Anna"), address("Bert"), address("Dirk"), "collega@example.org"])
    [test] = smtp.to("collega@example.org")
    assert test["Subject"] == "[Test] Praktische informatie voor Voorbeeld"
    [bert] = smtp.to(address("Bert"))
    assert text_body(bert).startswith("Beste Bert,")
