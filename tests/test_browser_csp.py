"""The strict Content-Security-Policy in a real browser: no page breaks it, the mail preview still shows."""

from __future__ import annotations

import pytest

from helpers import ORGANISER_EMAIL, ORGANISER_PASSWORD, deliver
from test_browser import MANAGE_LINK, app, browser, event_url, page, text_body  # noqa: F401 - fixtures
from webinar.extensions import db
from webinar.organiser.broadcast_services import Selection, save_draft
from webinar.registration.services import Details, register

pytestmark = [pytest.mark.browser, pytest.mark.slow]

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture reports it
    expect = None


def violations(page) -> list[str]:
    """Collects what Chromium reports as blocked by the policy."""
    found: list[str] = []
    page.on("console", lambda message: found.append(message.text)
            if "Content Security Policy" in message.text else None)
    return found


def test_the_collector_sees_a_violation(page, event_url):
    page.goto(event_url)
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate("document.body.setAttribute('style', 'color: red')")


def test_public_and_organiser_pages_keep_to_the_policy(page, event_url, live_server, organiser, event, smtp):
    register(event, Details(first_name="Anna", tussenvoegsel="", last_name="Berg", email="anna@example.org",
                            organisation="OBS De Linde", role="Schoolleider"))
    draft = save_draft(event, organiser, None, selection=Selection(), subject="Welkom {voornaam}",
                       body="Beste {voornaam},\n\nTot dan.")
    db.session.commit()
    deliver()
    manage = live_server.url + MANAGE_LINK.search(text_body(smtp.messages[0])).group(1)
    found = violations(page)

    page.goto(event_url)
    page.get_by_role("button", name="Aanmelden").click()  # the form with its errors
    expect(page.locator("#foutmeldingen")).to_be_visible()
    page.goto(manage)
    expect(page.get_by_text("Aangemeld", exact=True)).to_be_visible()
    page.goto(f"{live_server.url}/ondersteuning")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    page.goto(f"{live_server.url}/organiser/login")
    page.get_by_label("E-mailadres").fill(ORGANISER_EMAIL)
    page.get_by_label("Wachtwoord").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    base = f"{live_server.url}/organiser/events/{event.slug}"
    for path in (base, f"{base}/aanmeldingen", f"{base}/berichten", f"{base}/e-mails",
                 f"{live_server.url}/organiser/ondersteuning"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto(f"{base}/berichten/{draft.id}/voorbeeld")
    # The framed e-mail shows, with its own inline styles allowed there only.
    expect(page.frame_locator("iframe.mail-preview").get_by_text("Beste Voorbeeld,")).to_be_visible()
    page.goto(f"{base}/e-mails/confirmation")  # an e-mail registrants get, framed the same way
    expect(page.frame_locator("iframe.mail-preview").get_by_text("Beste Anna,")).to_be_visible()
    page.wait_for_timeout(200)
    assert found == []
