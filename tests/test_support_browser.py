"""The support request form in a real browser: a board asks for two schools.

Uses the browser fixtures of test_browser.py (system Chromium, CSRF on); the
app runs on the live server and the real SMTP server catches the mail.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from test_browser import app, browser, expect, page, snapshot, text_body  # noqa: F401 - fixtures
from helpers import ORGANISER_EMAIL, ORGANISER_PASSWORD, make_request
from webinar.extensions import db
from webinar.mailing.worker import send_due
from webinar.support.models import SupportRequest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "jan.jansen@example.org"
NBSP = "\u00a0"
#: how far the page, and the estimate's box (its scrolling region, else the table) past its column, stick out
#: on the right, in CSS pixels
OVERFLOW = """() => {
    const page = document.documentElement;
    const table = document.querySelector('#raming');
    const box = table.closest('.table-scroll') || table;
    const column = box.parentElement;
    const right = column.getBoundingClientRect().right - parseFloat(getComputedStyle(column).paddingRight);
    return {page: page.scrollWidth - page.clientWidth,
            estimate: Math.max(0, Math.ceil(box.getBoundingClientRect().right - right))};
}"""


def fill_school(group, name, brin, sector, reason, half_days):
    group.get_by_label("Naam van de school").fill(name)
    group.get_by_label("BRIN-code").fill(brin)
    group.get_by_role("group", name="Sector").get_by_label(sector).check()
    group.get_by_role("group", name="Waarom hoort de school bij de doelgroep?").get_by_label(reason).check()
    group.get_by_label("Gewenste inzet in dagdelen").fill(half_days)


def test_board_asks_for_two_schools_sees_the_estimate_and_gets_mail(page, live_server, smtp):
    page.goto(live_server.url + "/privacy")
    page.get_by_role("link", name="Ondersteuning aanvragen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ondersteuning aanvragen")
    form = page.locator("#aanvraag")
    expect(form.locator("input[name=csrf_token]")).to_have_count(1)

    form.get_by_label("Uw naam").fill("Jan Jansen")
    form.get_by_label("Uw functie").fill("Bestuurder")
    form.get_by_label("E-mailadres").fill(EMAIL)
    form.get_by_label("Telefoonnummer").fill("030 123 45 67")
    expect(form.get_by_label("Naam van het bestuur")).to_be_hidden()  # only for a board
    form.get_by_label("Namens een schoolbestuur, voor een of meer scholen").check()
    form.get_by_label("Naam van het bestuur").fill("Stichting Primo")

    first = form.get_by_role("group", name="School 1")
    fill_school(first, "OBS De Linde", "12ab", "Primair onderwijs (po)", "Oordeel inspectie: onvoldoende", "8")
    expect(first.get_by_label("Welk risico ziet de school?")).to_be_hidden()
    first.get_by_label("Datum van het oordeel van de inspectie").fill("2027-01-15")

    url = page.url
    form.get_by_role("button", name="School toevoegen").click()
    second = form.get_by_role("group", name="School 2")
    expect(second.get_by_label("Naam van de school")).to_be_focused()  # added in place, no reload
    assert page.url == url
    fill_school(second, "Het Baken", "34cd01", "Voortgezet onderwijs (vo)",
                "De school ziet zelf een aantoonbaar risico", "16")
    expect(second.get_by_label("Datum van het oordeel van de inspectie")).to_be_hidden()
    second.get_by_label("Welk risico ziet de school?").fill("De resultaten lopen al twee jaar terug.")

    # A third row, taken away again; every row has its own button for that.
    form.get_by_role("button", name="School toevoegen").click()
    expect(form.get_by_role("group", name="School 3").get_by_label("Naam van de school")).to_have_value("")
    form.get_by_role("button", name="School 3 verwijderen").click()
    expect(form.locator(".school")).to_have_count(2)
    expect(form.get_by_role("button", name="School 1 verwijderen")).to_be_visible()

    form.get_by_label("Ondersteuning bij de schoolscan").check()
    form.get_by_label("Ik heb de privacyverklaring gelezen").check()
    snapshot(page, "support-1-filled-in")
    form.get_by_role("button", name="Controleer uw aanvraag").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Controleer uw aanvraag")
    estimate = page.get_by_role("table", name="Raming van de kosten")
    # 24 half-days: € 6.858,00 for the schools, VAT € 480,06 + € 960,12.
    expect(estimate.locator("tfoot")).to_contain_text(f"€{NBSP}6.858,00")
    expect(estimate.locator("tfoot")).to_contain_text(f"€{NBSP}1.440,18")
    expect(estimate.locator("tfoot")).to_contain_text(f"€{NBSP}8.298,18")
    assert page.evaluate(OVERFLOW) == {"page": 0, "estimate": 0}
    snapshot(page, "support-2-preview")
    db.session.rollback()
    assert db.session.scalars(select(SupportRequest)).all() == []  # not sent yet
    page.get_by_role("button", name="Aanvraag versturen").click()

    expect(page).to_have_url(re.compile(r"/ondersteuning/verstuurd$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dank u, uw aanvraag is verstuurd")

    db.session.rollback()
    request = db.session.scalars(select(SupportRequest)).one()
    assert request.board_name == "Stichting Primo"
    assert [(s.name, s.brin, s.half_days) for s in request.schools] == [("OBS De Linde", "12AB", 8),
                                                                         ("Het Baken", "34CD01", 16)]
    result = send_due()
    assert (result.sent, result.failed) == (2, 0)
    [confirmation] = smtp.to(EMAIL)
    assert f"Eigen bijdrage incl. btw: €{NBSP}8.298,18" in text_body(confirmation)


def test_without_javascript_the_add_button_posts_and_keeps_the_input(browser, live_server):
    context = browser.new_context(java_script_enabled=False, locale="nl-NL")
    try:
        page = context.new_page()
        page.goto(live_server.url + "/ondersteuning")
        page.get_by_label("Uw naam").fill("Jan Jansen")
        page.get_by_role("group", name="School 1").get_by_label("Naam van de school").fill("OBS De Linde")
        page.get_by_role("button", name="School toevoegen").click()
        expect(page.get_by_role("group", name="School 2")).to_be_visible()
        expect(page.get_by_label("Uw naam")).to_have_value("Jan Jansen")
        expect(page.get_by_role("group", name="School 1").get_by_label("Naam van de school")).to_have_value(
            "OBS De Linde")
        expect(page.get_by_label("Namens een schoolbestuur, voor een of meer scholen")).to_be_checked()
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 1024, 375])
def test_the_cost_table_stays_inside_its_column(browser, live_server, organiser, width):
    request = make_request(board="Stichting Openbaar Primair Onderwijs Noordoost-Brabant en omstreken",
                           reasons=("onvoldoende", "risico"), half_days=(16, 12), sectors=["po", "vo"])
    context = browser.new_context(locale="nl-NL", viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/organiser/login")
        page.get_by_label("E-mailadres").fill(ORGANISER_EMAIL)
        page.get_by_label("Wachtwoord").fill(ORGANISER_PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.goto(f"{live_server.url}/organiser/ondersteuning/{request.id}")
        region = page.get_by_role("region", name="Raming van de kosten")
        expect(region.get_by_role("table", name="Raming van de kosten")).to_be_visible()
        snapshot(page, f"support-organiser-{width}")
        assert page.evaluate(OVERFLOW) == {"page": 0, "estimate": 0}
    finally:
        context.close()
