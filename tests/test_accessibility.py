"""Accessibility: axe-core, run inside the pages by Playwright, finds no serious problems.

Each test opens a page as a visitor or organiser would reach it (CSRF on, the
live server from conftest) and runs axe-core with the WCAG 2.0 and 2.1 level A
and AA rules. A serious or critical violation fails the test, with every
violation and the elements it concerns in the message. axe-core comes with the
axe-playwright-python package; the browser fixtures are test_browser's.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from helpers import ANNA, ORGANISER_EMAIL, ORGANISER_PASSWORD, log_in_in_browser, report_file
from test_browser import app, browser, expect, page  # noqa: F401 - fixtures shared with the browser tests
from webinar.certificates.statement import Statement, sign
from webinar.database import begin_write
from webinar.events.services import create_event
from webinar.extensions import db
from webinar.organiser.services import create_organiser
from webinar.registration.models import Registration, TokenPurpose
from webinar.registration.services import Details, register
from webinar.registration.tokens import issue_token

try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError:  # the browser fixture skips first when Playwright is missing
    Axe = None

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


def violations(page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now."""
    if Axe is None:
        pytest.fail("axe-playwright-python is not installed (pip install -e '.[test]')")
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    return Axe().run(page, options=options).response["violations"]


def describe(found: list[dict]) -> str:
    """One paragraph per violation: rule, impact, help, and the elements involved."""
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node.get('failureSummary', '')}")
            lines.append(f"        {node['html'][:200]}")
    return "\n".join(lines)


def assert_accessible(page) -> None:
    """No serious or critical WCAG 2.1 AA violation on the page."""
    found = [v for v in violations(page) if v["impact"] in BLOCKING]
    assert not found, f"{page.url}:\n{describe(found)}"


@pytest.fixture
def site(live_server, event):
    """The base URL, with a few registrations so lists and charts are not empty."""
    for number, role in enumerate(["Schoolleider", "Bestuurder", "HRM'er"]):
        details = Details(
            first_name=f"Deelnemer{number}", tussenvoegsel="", last_name="Jansen",
            email=f"deelnemer{number}@example.org", organisation="OBS De Linde", role=role,
        )
        db.session.rollback()
        begin_write()
        register(event, details)
        db.session.commit()
    return live_server.url


@pytest.fixture
def logged_in(page, site):  # noqa: F811
    """The page, logged in as an organiser through the login form."""
    create_organiser(ORGANISER_EMAIL, ORGANISER_PASSWORD, name="Mieke Organisator")
    db.session.commit()
    log_in_in_browser(page, site)
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Inloggen voor organisatoren")
    return page


def test_the_scan_catches_an_unlabelled_field(page):  # noqa: F811
    """Negative control: a page with known faults gets serious violations."""
    page.set_content(
        '<html><head><title>Proef</title></head><body><main>'
        '<img src="data:,"><input type="text" name="naam"></main></body></html>'
    )
    found = {v["id"] for v in violations(page) if v["impact"] in BLOCKING}
    assert {"image-alt", "label", "html-has-lang"} <= found, found


def test_event_page(page, site, event):  # noqa: F811
    page.goto(f"{site}/events/{event.slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text(event.title)
    assert_accessible(page)


def test_form_with_errors(page, site, event):  # noqa: F811
    page.goto(f"{site}/events/{event.slug}")
    page.get_by_role("region", name="Aanmelden").get_by_role("button", name="Aanmelden").click()
    expect(page.locator("#foutmeldingen")).to_be_focused()
    assert_accessible(page)


def manage_path() -> str:
    """/r/<token> for the first registration."""
    registration = db.session.scalars(select(Registration).order_by(Registration.id)).first()
    token = issue_token(registration, TokenPurpose.manage)
    db.session.commit()
    return f"/r/{token}"


def test_manage_page(page, site):  # noqa: F811
    page.goto(site + manage_path())
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw aanmelding")
    assert_accessible(page)


def test_manage_page_with_errors(page, site):  # noqa: F811
    page.goto(site + manage_path())
    page.get_by_label("E-mailadres").fill("geen adres")
    page.get_by_role("button", name="Wijzigingen opslaan").click()
    expect(page.locator("#foutmeldingen")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize(
    "path, heading",
    [
        ("/events/{slug}/aangemeld", "Bijna klaar: kijk in uw mailbox"),
        ("/events/{slug}/link-kwijt", None),
        ("{manage}/afmelden", "Afmelden"),
    ],
    ids=["registered", "lost-link", "cancel"],
)
def test_other_public_pages(page, site, event, path, heading):  # noqa: F811
    page.goto(site + path.format(slug=event.slug, manage=manage_path() if "{manage}" in path else ""))
    if heading:
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_accessible(page)


@pytest.mark.parametrize(("path", "heading"), [("/organiser/login", "Inloggen voor organisatoren"),
                                               ("/organiser/wachtwoord-vergeten", "Wachtwoord vergeten")])
def test_organiser_login(page, site, path, heading):  # noqa: F811
    page.goto(site + path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_accessible(page)


@pytest.mark.parametrize(
    "path",
    ["/organiser/", "/organiser/events/{slug}", "/organiser/events/{slug}/aanmeldingen", "/organiser/organisaties",
     "/organiser/organisaties/corrigeren?groep=naam%3Aobs%20de%20linde", "/organiser/programma",
     "/organiser/programma?van=2027-08-01&tot=2027-01-01", "/organiser/events/{slug}/dupliceren",
     "/organiser/events/nieuw", "/organiser/events/{slug}/aanwezigheid",
     "/organiser/events/{slug}/berichten/nieuw", "/organiser/account", "/organiser/account/tweestaps",
     "/organiser/accounts", "/organiser/uitnodigen", "/organiser/audit", "/organiser/api-tokens", "/api/v1/docs",
     "/organiser/webhooks"],
    ids=["events", "dashboard", "registrations", "organisations", "organisation", "programme", "programme-errors",
         "duplicate", "new-event", "attendance", "message-form", "account", "two-factor-setup",
         "accounts", "invite", "audit", "api-tokens", "api-reference", "webhooks"],
)
def test_organiser_pages(logged_in, site, event, path):
    logged_in.goto(site + path.format(slug=event.slug))
    expect(logged_in.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(logged_in)


def test_the_warning_that_mail_is_stuck(logged_in, site, event):
    logged_in.goto(f"{site}/organiser/events/{event.slug}")  # the confirmations are due and no worker runs
    expect(logged_in.get_by_role("alert")).to_contain_text("er wordt op dit moment geen e-mail verstuurd")
    assert_accessible(logged_in)


def test_an_unreachable_address_in_the_list_and_the_detail(logged_in, site, event):
    registration = db.session.scalars(select(Registration).order_by(Registration.id)).first()
    registration.unreachable_at = datetime(2027, 5, 1, 10, 0, tzinfo=timezone.utc)
    registration.unreachable_reason = "550 5.1.1 <deelnemer0@example.org>: Recipient address rejected: User unknown"
    db.session.commit()
    base = f"{site}/organiser/events/{event.slug}/aanmeldingen"
    logged_in.goto(f"{base}?adres=onbereikbaar")
    expect(logged_in.get_by_text("adres onbereikbaar", exact=True)).to_be_visible()
    assert_accessible(logged_in)
    logged_in.goto(f"{base}/{registration.id}")
    expect(logged_in.locator("#unreachable")).to_contain_text("Adres onbereikbaar.")
    assert_accessible(logged_in)


def test_a_draft_its_preview_and_the_public_list(logged_in, site, event):
    """A draft's overview with its buttons and preview link, the preview a colleague opens, and the home page."""
    draft = create_event(slug="najaar", title="Najaarsbijeenkomst", starts_at=event.starts_at + timedelta(days=30),
                         ends_at=event.ends_at + timedelta(days=30), draft=True)
    db.session.commit()
    logged_in.goto(f"{site}/organiser/events/{draft.slug}")
    expect(logged_in.get_by_role("button", name="Publiceren")).to_be_visible()
    assert_accessible(logged_in)
    logged_in.goto(logged_in.locator("#preview-link").get_attribute("href").replace("http://webinar.test", site))
    expect(logged_in.get_by_text("Voorbeeld van een concept.")).to_be_visible()
    assert_accessible(logged_in)
    logged_in.goto(f"{site}/")
    expect(logged_in.get_by_text("open", exact=True)).to_be_visible()
    assert_accessible(logged_in)


@pytest.mark.parametrize("changed", [False, True], ids=["verified", "refused"])
def test_certificate_verification_pages(page, site, changed):  # noqa: F811
    statement = Statement("Anna van den Berg", "Samen onderwijs versnellen", datetime(2027, 5, 25, 14, tzinfo=timezone.utc),
                          75, 75)
    path = "/bewijs/" + sign(statement) + ("x" if changed else "")
    page.goto(site + path)
    expected = "Dit bewijs kunnen we niet bevestigen" if changed else "Bewijs van deelname bevestigd"
    expect(page.get_by_role("heading", level=1)).to_have_text(expected)
    assert_accessible(page)


def test_attendance_pages(logged_in, site, event, tmp_path):
    """A report read with walk-ins and a suggestion, the page with them and a search, the question before
    forgetting a report's data, and the warning for a report of another day."""
    zoom = report_file("zoom-nl.csv").decode("utf-8-sig").replace(ANNA, "deelnemer0@example.org")
    attendance = f"{site}/organiser/events/{event.slug}/aanwezigheid"

    def read(name: str, text: str) -> None:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        logged_in.goto(attendance)
        logged_in.get_by_label("Aanwezigheidsrapport").set_input_files(str(path))
        logged_in.get_by_role("button", name="Rapport inlezen").click()

    read("rapport.csv", zoom)
    expect(logged_in.get_by_role("heading", level=1)).to_have_text("Rapport ingelezen")
    assert_accessible(logged_in)
    logged_in.goto(f"{attendance}?q=wit")
    expect(logged_in.locator("#walk-ins")).to_contain_text("J. de Wit")
    assert_accessible(logged_in)
    logged_in.get_by_role("link", name="Andere aangemelde zoeken voor J. de Wit").click()
    logged_in.get_by_label("Naam, e-mailadres of organisatie").fill("deelnemer")
    logged_in.get_by_role("button", name="Zoeken").click()
    expect(logged_in.locator("#kandidaten")).to_be_visible()
    assert_accessible(logged_in)
    db.session.rollback()
    first = db.session.scalar(select(Registration.id).where(Registration.email_normalized == "deelnemer0@example.org"))
    logged_in.goto(f"{attendance}/{first}/niet-aanwezig")
    expect(logged_in.get_by_role("button", name="Ja, zet op niet aanwezig")).to_be_visible()
    assert_accessible(logged_in)
    read("andere-dag.csv", zoom.replace("25-05-2027", "09-03-2027"))
    expect(logged_in.get_by_role("heading", level=1)).to_have_text("Rapport van een andere dag?")
    assert_accessible(logged_in)


def test_message_form_with_its_count_and_the_preview(logged_in, site, event):
    logged_in.goto(f"{site}/organiser/events/{event.slug}/berichten/nieuw")
    logged_in.get_by_role("group", name=re.compile("^Rol")).get_by_label("Schoolleider").check()
    logged_in.get_by_role("button", name="Tel ontvangers").click()
    expect(logged_in.locator("#counted")).to_have_text("Schoolleiders, bevestigd, 1 ontvanger")
    assert_accessible(logged_in)
    logged_in.get_by_label("Onderwerp").fill("Tot dinsdag")
    logged_in.get_by_label("Bericht").fill("Beste {voornaam},")
    logged_in.get_by_role("button", name="Opslaan en voorbeeld bekijken").click()
    expect(logged_in.get_by_role("heading", level=1)).to_have_text("Voorbeeld van uw bericht")
    assert_accessible(logged_in)
