"""A contact person in a real browser: reads and exports the registrations, sees no buttons to change them,
and gets the Dutch refusal when typing an edit address by hand."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from helpers import person
from test_browser import app, browser, expect, page  # noqa: F401 - fixtures shared with the browser tests
from webinar.extensions import db
from webinar.organiser.services import create_organiser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CONTACT = "contact@example.org"
PASSWORD = "een lange zin als wachtwoord"


def test_a_contact_person_exports_but_cannot_edit(page, live_server, event, tmp_path):  # noqa: F811
    joke = person(event, "Joke", "Meer", "van der", organisation="OBS De Linde")
    person(event, "Jan", "Vries", "de", organisation="Stichting Primair")
    create_organiser(CONTACT, PASSWORD, name="Carla Contact", role="contactpersoon")
    db.session.commit()
    site = live_server.url

    page.goto(f"{site}/organiser/login")
    page.get_by_label("E-mailadres").fill(CONTACT)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bijeenkomsten")
    nav = page.get_by_role("navigation", name="Organisatoren")
    expect(nav.get_by_role("link", name="Nieuwe bijeenkomst")).to_have_count(0)
    expect(nav.get_by_role("link", name="Ondersteuningsaanvragen")).to_have_count(0)
    expect(nav.get_by_role("link", name="Accounts")).to_have_count(0)
    expect(page.get_by_role("link", name="Dupliceren")).to_have_count(0)

    page.get_by_role("main").get_by_role("link", name="Samen onderwijs versnellen", exact=True).click()
    expect(page.get_by_role("button", name="Registratie nu sluiten")).to_have_count(0)
    event_nav = page.get_by_role("navigation", name="Samen onderwijs versnellen")
    expect(event_nav.get_by_role("link", name="Bewerken")).to_have_count(0)
    event_nav.get_by_role("link", name="Aanmeldingen").click()
    expect(page.locator("#aantal")).to_have_text("2 aanmeldingen")
    expect(page.get_by_role("link", name="Persoon toevoegen")).to_have_count(0)

    with page.expect_download() as excel:
        page.get_by_role("link", name="Download Excel").click()
    path = tmp_path / excel.value.suggested_filename
    excel.value.save_as(path)
    assert path.suffix == ".xlsx"
    rows = list(load_workbook(path)["Aanmeldingen"].iter_rows(values_only=True))
    assert sorted(row[4] for row in rows[1:]) == ["Meer", "Vries"]

    with page.expect_download() as comma_separated:
        page.get_by_role("link", name="Download CSV").click()
    text = comma_separated.value.path().read_bytes().decode("utf-8-sig")
    assert comma_separated.value.suggested_filename.endswith(".csv")
    assert sorted(row[4] for row in list(csv.reader(io.StringIO(text), delimiter=";"))[1:]) == ["Meer", "Vries"]

    page.get_by_role("link", name="Meer, Joke van der").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Joke van der Meer")
    expect(page.get_by_role("link", name="Gegevens wijzigen")).to_have_count(0)
    expect(page.get_by_role("button", name="Afmelden")).to_have_count(0)

    response = page.goto(f"{site}/organiser/events/{event.slug}/aanmeldingen/{joke.id}/bewerken")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Geen toegang")
    expect(page.get_by_text("Met uw rol kunt u dit niet doen.")).to_be_visible()
    expect(page.get_by_role("link", name="Naar uw startpagina")).to_have_attribute("href", "/organiser/")
    assert page.goto(f"{site}/organiser/events/{event.slug}/bewerken").status == 403
