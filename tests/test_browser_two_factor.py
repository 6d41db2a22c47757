"""Setting up two-factor authentication in a real browser: the code is computed here from the key on the page.

Uses the browser fixtures of test_browser.py (system Chromium, CSRF on).
"""

from __future__ import annotations

import pyotp
import pytest

from helpers import ORGANISER_EMAIL, ORGANISER_PASSWORD, app_in_context, log_in_in_browser
from test_accessibility import assert_accessible
from test_browser import browser, expect, page, snapshot  # noqa: F401 - fixtures
from webinar.database import utcnow
from webinar.extensions import db
from webinar.organiser.services import create_organiser

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def app(schema):
    """CSRF on, two-factor required as in production, and the real clock: the code is for now."""
    with app_in_context(schema, WTF_CSRF_ENABLED=True, ORGANISER_2FA_REQUIRED="personal-data") as app:
        yield app


def test_an_organiser_sets_up_two_factor_and_logs_in_with_a_code(page, live_server):  # noqa: F811
    create_organiser(ORGANISER_EMAIL, ORGANISER_PASSWORD, name="Mieke Organisator")
    db.session.commit()
    log_in_in_browser(page, live_server.url)
    expect(page.get_by_role("heading", name="Tweestapsverificatie instellen")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    snapshot(page, "two-factor-setup")
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Aanzetten").click()
    expect(page.get_by_role("heading", name="Tweestapsverificatie staat aan")).to_be_visible()
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="Ik heb ze bewaard").click()
    expect(page.get_by_text("Staat aan sinds")).to_be_visible()
    expect(page.get_by_text("(dit apparaat)")).to_be_visible()
    assert_accessible(page)  # the account page with two-factor on: its buttons and the password field

    page.get_by_role("button", name="Uitloggen").click()
    page.get_by_label("E-mailadres").fill(ORGANISER_EMAIL)
    page.get_by_label("Wachtwoord").fill(ORGANISER_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Tweestapsverificatie")).to_be_visible()
    # The set-up used this step's code: the next step's code logs in.
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(utcnow().timestamp() + 30))
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Bijeenkomsten")).to_be_visible()
