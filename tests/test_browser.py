"""The registration flow in a real browser: Chromium driven by Playwright.

These tests go through the pages as a person would: the form is filled in by
its labels, buttons are pressed by their names, and CSRF protection is on. The
app runs on the live server from conftest (threaded werkzeug on loopback), with
the real SMTP server catching the mail.

Chromium is the system one (Debian's `chromium` package, or CHROMIUM_PATH);
`playwright install` is never needed. Without a browser the tests are skipped,
unless REQUIRE_BROWSER=1, when that is a failure.

Set BROWSER_SCREENSHOTS to a folder to keep a screenshot of the main pages.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from helpers import ANNA, BRAM, JOSE, ORGANISER_EMAIL, ORGANISER_PASSWORD, REPORT_DIR, app_in_context
from webinar.attendance.models import Attendance
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.mailing.worker import send_due
from webinar.registration.models import Registration, RegistrationStatus
from webinar.registration.services import Details, register

pytestmark = [pytest.mark.browser, pytest.mark.slow]

try:
    from playwright import sync_api
    from playwright.sync_api import expect
except ImportError:  # the browser fixture reports it
    sync_api = expect = None

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # No network here: keep Chromium from phoning home (and from flooding
    # refused connections while it tries).
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: how long auto-waiting assertions wait (ms); pages are local and small
TIMEOUT = 10_000

EMAIL = "anna.vandenberg@example.org"
MANAGE_LINK = re.compile(r"https?://[^/\s]+(/r/[A-Za-z0-9_\-]+)")


# -- fixtures ----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    message = ""
    if sync_api is None:
        message = "the playwright package is not installed (pip install -e '.[test]')"
    elif not executable:
        message = "no chromium found (install Debian's 'chromium' package or set CHROMIUM_PATH)"
    if message:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {message}")
        pytest.skip(message)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    """A fresh page in its own context (own cookies), closed after the test."""
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def app(schema, frozen):
    """conftest's app, but with CSRF protection on, as the real pages have it.

    Overrides conftest's `app`, so `live_server` and `event` use this one.
    """
    with app_in_context(schema, WTF_CSRF_ENABLED=True) as app:
        yield app


@pytest.fixture
def event_url(live_server, event):
    url = f"{live_server.url}/events/{event.slug}"
    # End the test thread's transaction: the server's threads write from here on.
    db.session.rollback()
    return url


# -- helpers -----------------------------------------------------------------


def snapshot(page, name: str) -> None:
    """Keep a full-page screenshot when BROWSER_SCREENSHOTS is set."""
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def count(model, *where) -> int:
    """Rows in the database now (a fresh transaction sees the server's commits)."""
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def text_body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


# -- tests -------------------------------------------------------------------


def test_school_leader_registers_gets_mail_and_cancels(page, event_url, live_server, smtp):
    page.goto(event_url)
    expect(page).to_have_title(re.compile(r"^Samen onderwijs versnellen"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Samen onderwijs versnellen")
    expect(page.locator(".when")).to_have_text("dinsdag 25 mei 2027, 16.00–17.15 uur")
    expect(page.locator("#plaatsen")).to_have_text("Nog 100 plaatsen vrij")

    form = page.get_by_role("region", name="Aanmelden")
    expect(form.locator("input[name=csrf_token]")).to_have_count(1)  # CSRF is on
    form.get_by_label("Voornaam").fill("Anna")
    form.get_by_label("Tussenvoegsel").fill("van den")
    form.get_by_label("Achternaam").fill("Berg")
    form.get_by_label("E-mailadres").fill(EMAIL)
    form.get_by_label("School, bestuur of organisatie").fill("OBS De Linde")
    # The board's name is asked for a school only, and app.js shows it once "School" is chosen.
    expect(form.get_by_label("Naam van het schoolbestuur")).to_be_hidden()
    form.get_by_label("Soort organisatie").select_option("School")
    form.get_by_label("BRIN-code").fill("12ab 01")
    form.get_by_label("Naam van het schoolbestuur").fill("Stichting Lindeboom")
    role = form.get_by_role("group", name="Uw rol")
    role.get_by_label("Schoolleider", exact=True).check()
    # "Omschrijf uw rol" is only for "Anders", and app.js keeps it out of sight.
    expect(form.get_by_label("Omschrijf uw rol")).to_be_hidden()
    form.get_by_label("Vraag voor de sprekers").fill("Hoe verdelen we de middelen?")
    form.get_by_label("Ik heb de privacyverklaring gelezen").check()
    snapshot(page, "1-event-filled-in")
    form.get_by_role("button", name="Aanmelden").click()

    expect(page).to_have_url(re.compile(r"/events/samen-onderwijs-versnellen/aangemeld$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bijna klaar: kijk in uw mailbox")
    expect(page.get_by_role("status")).to_contain_text("dinsdag 25 mei 2027, 16.00–17.15 uur")
    snapshot(page, "2-registered")

    # Stored: one confirmed registration, one confirmation waiting in the outbox.
    db.session.rollback()
    registration = db.session.scalars(select(Registration)).one()
    assert registration.email == EMAIL
    assert registration.status == RegistrationStatus.confirmed
    assert registration.full_name == "Anna van den Berg"
    assert registration.role == "Schoolleider"
    assert (registration.organisation_type, registration.brin, registration.board_name) == (
        "School", "12AB01", "Stichting Lindeboom")
    assert registration.question == "Hoe verdelen we de middelen?"
    assert registration.privacy_accepted_at is not None
    outbox = db.session.scalars(select(OutgoingMail)).all()
    assert [row.kind for row in outbox] == ["confirmation"]
    assert outbox[0].registration_id == registration.id

    # The worker sends it; the SMTP server receives it.
    result = send_due()
    assert (result.sent, result.failed, result.connection_error) == (1, 0, "")
    [message] = smtp.to(EMAIL)
    assert message["Subject"] == "Aanmelding bevestigd: Samen onderwijs versnellen"
    body = text_body(message)
    assert "Beste Anna," in body
    match = MANAGE_LINK.search(body)
    assert match, body

    # The personal link from the mail opens the registration...
    page.goto(live_server.url + match.group(1))
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw aanmelding")
    expect(page.locator("#status")).to_contain_text("Aangemeld")
    expect(page.get_by_label("E-mailadres")).to_have_value(EMAIL)
    snapshot(page, "3-manage")

    # ...where she cancels: a link to a confirmation page, then a POST (with CSRF).
    page.get_by_role("link", name="Afmelden", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Afmelden")
    expect(page.get_by_role("main")).to_contain_text("Samen onderwijs versnellen")
    page.get_by_role("button", name="Ja, meld mij af").click()

    expect(page).to_have_url(live_server.url + match.group(1))
    expect(page.locator("#status")).to_contain_text("Afgemeld")
    expect(page.get_by_role("status").filter(has_text="U bent afgemeld")).to_be_visible()
    expect(page.get_by_role("button", name="Wijzigingen opslaan")).to_have_count(0)
    snapshot(page, "4-cancelled")

    assert count(Registration, Registration.status == RegistrationStatus.cancelled) == 1
    assert count(OutgoingMail, OutgoingMail.kind == "cancelled") == 1


def test_errors_are_announced_and_linked_to_their_fields(page, event_url):
    page.goto(event_url)
    page.get_by_role("region", name="Aanmelden").get_by_role("button", name="Aanmelden").click()

    summary = page.locator("#foutmeldingen")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Fout: "))
    expect(summary.get_by_role("heading")).to_have_text("Controleer uw gegevens")
    links = summary.get_by_role("link")
    expect(links.first).to_have_text("Vul uw voornaam in.")
    for text in (
        "Vul uw achternaam in.",
        "Vul uw e-mailadres in.",
        "Vul de naam van uw school, bestuur of organisatie in.",
        "Kies de soort organisatie.",
        "Kies uw rol.",
        "Geef aan dat u de privacyverklaring hebt gelezen.",
    ):
        expect(links.filter(has_text=text)).to_have_count(1)
    snapshot(page, "5-errors")

    # Each field says what is wrong, and is marked invalid.
    first_name = page.get_by_label("Voornaam")
    expect(first_name).to_have_attribute("aria-invalid", "true")
    expect(first_name).to_have_accessible_description(re.compile("Vul uw voornaam in."))

    summary.get_by_role("link", name="Vul uw voornaam in.").click()
    expect(first_name).to_be_focused()

    assert count(Registration) == 0
    assert count(OutgoingMail) == 0


def test_first_tab_reaches_the_skip_link(page, event_url):
    page.goto(event_url)
    skip = page.get_by_role("link", name="Naar de inhoud")
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # off-screen until focused, then visible
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()


#: (first name, last name, e-mail, organisation, role) of the registrants in the organiser's test
PEOPLE = [
    ("Piet", "Bakker", "piet.bakker@example.org", "Het Kompas", "Schoolleider"),
    ("Jan", "Dijk", "jan.vandijk@example.org", "Stichting Primair", "Bestuurder"),
    ("Anna", "Berg", "anna.vandenberg@example.org", "=HYPERLINK(\"https://evil.example.org\")", "Schoolleider"),
    ("Mirjam", "Vries", "mirjam.devries@example.org", "Gemeente Zwolle", "HRM'er"),
    ("Sara", "Aydın", "sara.aydin@example.org", "OBS De Linde", "Schoolleider"),
]


def test_organiser_filters_by_role_and_downloads_the_xlsx(page, live_server, event, organiser, tmp_path):
    for first, last, email, organisation, role in PEOPLE:
        register(event, Details(first_name=first, tussenvoegsel="", last_name=last, email=email,
                                organisation=organisation, role=role))
    db.session.commit()

    page.goto(f"{live_server.url}/organiser/")
    expect(page).to_have_url(re.compile(r"/organiser/login"))  # not logged in yet
    page.get_by_label("E-mailadres").fill(ORGANISER_EMAIL)
    page.get_by_label("Wachtwoord").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_role("main").get_by_role("link", name="Samen onderwijs versnellen", exact=True).click()
    page.get_by_role("navigation", name="Samen onderwijs versnellen").get_by_role("link", name="Aanmeldingen").click()
    expect(page.locator("#aantal")).to_have_text("5 aanmeldingen")

    page.get_by_label("Rol").select_option("Schoolleider")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.locator("#aantal")).to_have_text("3 aanmeldingen gevonden")
    expect(page.locator("#registrations tbody tr")).to_have_count(3)
    snapshot(page, "6-organiser-filtered")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download Excel").click()
    download = download_info.value
    assert download.suggested_filename == "samen-onderwijs-versnellen-aanmeldingen-2027-05-01.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Aanmeldingen", "Samenvatting"]
    sheet = workbook["Aanmeldingen"]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:11] == ["Bijeenkomst", "Datum bijeenkomst", "Voornaam", "Tussenvoegsel", "Achternaam",
                           "E-mailadres", "Organisatie", "Soort organisatie", "BRIN", "Bestuur", "Rol"]
    assert [(row[2], row[4], row[5], row[10]) for row in rows] == [
        ("Sara", "Aydın", "sara.aydin@example.org", "Schoolleider"),
        ("Piet", "Bakker", "piet.bakker@example.org", "Schoolleider"),
        ("Anna", "Berg", "anna.vandenberg@example.org", "Schoolleider"),
    ]
    hostile = sheet.cell(row=4, column=7)
    assert hostile.value == '=HYPERLINK("https://evil.example.org")' and hostile.data_type == "s"
    summary = [list(row) for row in workbook["Samenvatting"].iter_rows(values_only=True)]
    assert ["Filters", "rol=Schoolleider"] == summary[2][:2] and ["Schoolleider", 3] in [r[:2] for r in summary]
    assert "Bestuurder" not in [r[0] for r in summary]


def test_organiser_previews_the_reminder(page, live_server, event, organiser):
    db.session.rollback()
    page.goto(f"{live_server.url}/organiser/login?next=/organiser/events/{event.slug}")
    page.get_by_label("E-mailadres").fill(ORGANISER_EMAIL)
    page.get_by_label("Wachtwoord").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_role("navigation", name="Samen onderwijs versnellen").get_by_role("link", name="E-mails").click()
    expect(page.get_by_role("row", name=re.compile("Herinnering"))).to_contain_text("maandag 24 mei 2027 om 10.00 uur")
    page.get_by_role("link", name="Herinnering").click()
    expect(page.locator("#preview-subject")).to_have_text("Herinnering: Samen onderwijs versnellen morgen om 16.00 uur")
    frame = page.frame_locator("iframe.mail-preview")
    expect(frame.get_by_text("Beste Anna,")).to_be_visible()
    snapshot(page, "7-organiser-email-preview")


def test_organiser_imports_a_dutch_teams_report_and_links_a_suggested_name(page, live_server, event, organiser):
    for first, tussenvoegsel, last, email in [("Anna", "van den", "Berg", ANNA), ("Bram", "", "Smit", BRAM),
                                              ("José", "de", "Wit", JOSE)]:
        register(event, Details(first_name=first, tussenvoegsel=tussenvoegsel, last_name=last, email=email,
                                organisation="OBS De Linde", role="Schoolleider"))
    db.session.commit()
    page.goto(f"{live_server.url}/organiser/login?next=/organiser/events/{event.slug}/aanwezigheid")
    page.get_by_label("E-mailadres").fill(ORGANISER_EMAIL)
    page.get_by_label("Wachtwoord").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aanwezigheid")

    # Teams in Dutch: UTF-16 with tabs, "1. Overzicht" and "2. Deelnemers".
    page.get_by_label("Aanwezigheidsrapport").set_input_files(str(REPORT_DIR / "teams-nl-utf16-tab.csv"))
    page.get_by_role("button", name="Rapport inlezen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapport ingelezen")
    expect(page.get_by_role("status")).to_have_text("Teams: 2 personen gekoppeld, 2 niet gekoppeld.")
    walk_ins = page.get_by_role("region", name="Niet aangemeld, wel aanwezig volgens het rapport")
    expect(walk_ins.get_by_role("row", name=re.compile("Karin Bakker"))).to_contain_text("Geen aangemelde")
    snapshot(page, "8-attendance-report-read")

    # J. de Wit joined with another address: José de Wit is suggested, one click links them.
    walk_ins.get_by_role("button", name=re.compile("^Koppelen aan José de Wit")).click()
    expect(page).to_have_url(re.compile(r"/aanwezigheid#aanmelding-\d+$"))
    expect(page.get_by_role("status").first).to_contain_text("José de Wit staat op aanwezig, met 47 minuten uit het rapport.")
    expect(page.locator("#attendance-count")).to_have_text(
        "3 van de 3 aangemelden namen deel. Daarnaast 1 niet aangemeld, wel aanwezig (uit een rapport).")
    expect(page.get_by_role("row", name=re.compile("^José de Wit"))).to_contain_text("47")
    db.session.rollback()
    jose = db.session.scalar(select(Registration).where(Registration.email_normalized == JOSE))
    assert db.session.scalar(select(Attendance.minutes_present).where(Attendance.registration_id == jose.id)) == 47
