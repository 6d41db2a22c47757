"""The pages on a phone: nothing makes the page wider than the screen, controls are clearly visible.

Chromium at 375 × 740 CSS pixels (a common phone), through the live server
as in test_browser; wide tables scroll sideways in their own labelled box.
"""

from __future__ import annotations

import re

import pytest

from test_accessibility import logged_in, manage_path, site  # noqa: F401 - fixtures shared with the axe tests
from test_browser import app, browser, expect, page  # noqa: F401 - fixtures shared with the browser tests
from webinar.extensions import db
from webinar.mailing.worker import send_due
from webinar.registration.services import send_links_again

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 375, "height": 740}


def page_width(page) -> int:
    """How wide the page is in CSS pixels, including what sticks out to the right."""
    return page.evaluate("document.documentElement.scrollWidth")


def contrast_with_white(css_colour: str) -> float:
    """WCAG contrast ratio of an rgb() colour against white."""
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css_colour)[:3])

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    return 1.05 / (luminance + 0.05)


def test_public_pages_fit_a_phone(page, site, event):  # noqa: F811
    page.set_viewport_size(PHONE)
    page.goto(f"{site}/events/{event.slug}")
    assert page_width(page) <= 375
    page.get_by_role("region", name="Aanmelden").get_by_role("button", name="Aanmelden").click()
    expect(page.locator("#foutmeldingen")).to_be_focused()
    assert page_width(page) <= 375
    page.goto(site + manage_path())
    expect(page.get_by_role("heading", level=1)).to_have_text("Uw aanmelding")
    assert page_width(page) <= 375


def test_radio_buttons_stand_out_from_the_page(page, site, event):  # noqa: F811
    page.goto(f"{site}/events/{event.slug}")
    for control in (page.get_by_label("Schoolleider", exact=True), page.get_by_label("Ik heb de privacyverklaring")):
        colour = control.evaluate("element => getComputedStyle(element).accentColor")
        assert colour.startswith("rgb"), colour  # "auto": the browser's own light grey
        assert contrast_with_white(colour) >= 3, colour  # WCAG 1.4.11, non-text contrast


@pytest.mark.parametrize("path", ["/organiser/events/{slug}", "/organiser/programma"], ids=["dashboard", "programme"])
def test_the_dashboard_and_the_programme_overview_fit_a_phone(logged_in, site, event, path):  # noqa: F811
    logged_in.set_viewport_size(PHONE)
    logged_in.goto(site + path.format(slug=event.slug))
    expect(logged_in.get_by_role("heading", level=1)).to_be_visible()
    assert page_width(logged_in) <= 375


def test_the_registrations_table_scrolls_in_its_own_box(logged_in, site, event):  # noqa: F811
    logged_in.set_viewport_size(PHONE)
    logged_in.goto(f"{site}/organiser/events/{event.slug}/aanmeldingen")
    box = logged_in.get_by_role("region", name=re.compile("^Aanmeldingen voor"))
    expect(box.locator("#registrations")).to_be_visible()
    assert page_width(logged_in) <= 375
    # The table keeps its columns: the box scrolls, and takes focus so keys can scroll it.
    assert box.evaluate("element => element.scrollWidth > element.clientWidth")
    box.focus()
    expect(box).to_be_focused()

    # Negative control: without its box the same table makes the whole page wider.
    box.evaluate("element => element.replaceWith(...element.children)")
    assert page_width(logged_in) > 375



def test_personal_links_in_e_mails_wrap_on_a_phone(page, site, event, smtp):  # noqa: F811
    """The HTML part of real mails, with full-length tokens: the long links break onto new lines."""
    db.session.rollback()
    send_links_again(event, "deelnemer0@example.org")  # a mail with the join link too
    db.session.commit()
    send_due()
    page.set_viewport_size(PHONE)
    for message in smtp.to("deelnemer0@example.org"):
        page.set_content(message.get_body(("html",)).get_content())
        expect(page.get_by_text(re.compile(r"/r/[A-Za-z0-9_-]{40,}"))).to_be_visible()
        assert page_width(page) <= 375, message["Subject"]
