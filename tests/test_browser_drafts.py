"""Setting an event up in a real browser: a draft, its preview, publishing it, and a copy at a new date."""

from __future__ import annotations

import re

import pytest

from helpers import ORGANISER_EMAIL, ORGANISER_PASSWORD
from test_browser import app, browser, expect, page, snapshot  # noqa: F401 - fixtures shared with the browser tests
from webinar.events.models import Event
from webinar.extensions import db

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def log_in(page, site: str) -> None:  # noqa: F811
    page.goto(f"{site}/organiser/login")
    page.get_by_label("E-mailadres").fill(ORGANISER_EMAIL)
    page.get_by_label("Wachtwoord").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bijeenkomsten")


def test_organiser_creates_a_draft_publishes_it_and_duplicates_it(page, browser, live_server, organiser):  # noqa: F811
    site = live_server.url
    db.session.rollback()  # the server's threads write from here on
    log_in(page, site)
    page.get_by_role("main").locator(".button", has_text="Nieuwe bijeenkomst").click()
    expect(page.get_by_label("Rollen om uit te kiezen")).to_have_value(re.compile(r"^Schoolbestuurder\nSchoolleider"))
    page.get_by_role("textbox", name="Titel", exact=True).fill("Najaarsbijeenkomst: één dag")
    page.get_by_label("Begint").fill("2027-11-02T16:00")
    page.get_by_label("Eindigt").fill("2027-11-02T17:15")
    page.get_by_label("Aantal plaatsen").fill("40")
    page.get_by_role("button", name="Opslaan").click()

    expect(page).to_have_url(f"{site}/organiser/events/najaarsbijeenkomst-een-dag")
    expect(page.locator("#status")).to_have_text("concept")
    preview = page.locator("#preview-link").get_attribute("href").replace("http://webinar.test", site)
    snapshot(page, "8-organiser-draft")

    colleague = browser.new_context(locale="nl-NL").new_page()  # no account, own cookies
    try:
        colleague.goto(preview)
        expect(colleague.get_by_role("heading", level=1)).to_have_text("Najaarsbijeenkomst: één dag")
        expect(colleague.get_by_text("Voorbeeld van een concept.")).to_be_visible()
        expect(colleague.get_by_role("button", name="Aanmelden")).to_have_count(0)
        assert colleague.goto(f"{site}/events/najaarsbijeenkomst-een-dag").status == 404
        colleague.goto(f"{site}/")
        expect(colleague.get_by_role("link", name="Najaarsbijeenkomst: één dag")).to_have_count(0)

        page.get_by_role("button", name="Publiceren").click()
        expect(page.get_by_role("status")).to_have_text("De bijeenkomst is gepubliceerd en staat nu op de publieke lijst.")
        expect(page.locator("#status")).to_have_text("open")
        colleague.goto(f"{site}/")
        colleague.get_by_role("link", name="Najaarsbijeenkomst: één dag").click()
        expect(colleague.get_by_role("button", name="Aanmelden")).to_be_visible()
    finally:
        colleague.context.close()

    page.get_by_role("link", name="Dupliceren").click()
    expect(page.get_by_role("textbox", name="Titel", exact=True)).to_have_value("Najaarsbijeenkomst: één dag")
    page.get_by_role("button", name="Kopie maken als concept").click()
    expect(page.get_by_text("Vul het nieuwe begin in (datum en tijd).").first).to_be_visible()
    page.get_by_label("Begint").fill("2027-11-09T16:00")
    page.get_by_label("Eindigt").fill("2027-11-09T17:15")
    page.get_by_label("Link naar de online vergadering").fill("https://meet.example.org/9-november")
    page.get_by_role("button", name="Kopie maken als concept").click()

    expect(page).to_have_url(f"{site}/organiser/events/najaarsbijeenkomst-een-dag-2")
    expect(page.locator("#status")).to_have_text("concept")
    expect(page.locator(".when")).to_contain_text("dinsdag 9 november 2027")
    snapshot(page, "9-organiser-duplicate")
    db.session.rollback()
    copy = db.session.query(Event).filter_by(slug="najaarsbijeenkomst-een-dag-2").one()
    assert (copy.capacity, copy.meeting_url, copy.published_at) == (40, "https://meet.example.org/9-november", None)

    page.get_by_role("link", name="Bijeenkomsten").first.click()
    rows = page.locator("#events tbody tr")
    expect(rows.nth(0)).to_contain_text("open")
    expect(rows.nth(1)).to_contain_text("concept")
