"""The certificate of attendance end to end in Chromium: register, join through the personal link long enough,
get the follow-up with the PDF at the SMTP server, download it again, and open the verification link.

The app's clock is frozen and moved (time-machine) from the registration to
the join window and on to the follow-up's moment; the mail worker runs a pass
in the test (as in test_browser.py) and the real SMTP server on loopback
receives. The meeting itself is stood in for by a page of the live server
(Chromium here reaches nothing outside loopback).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from helpers import ENDS, STARTS, pdf_text, qr_codes_on_page, require_pango
from test_browser import app, browser, expect, page, snapshot  # noqa: F401 - fixtures shared with the browser tests
from webinar.extensions import db
from webinar.mailing.worker import send_due

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "anna.vandenberg@example.org"
LINK = re.compile(r"http://webinar\.test(/[rj]/[A-Za-z0-9_\-]+)")


def mail_pass(smtp, subject_start: str):
    """One worker pass; the message to Anna whose subject starts so."""
    result = send_due()
    assert result.failed == 0 and result.connection_error == "", result
    [message] = [m for m in smtp.to(EMAIL) if m["Subject"].startswith(subject_start)]
    return message


def register_in_the_browser(page, url: str) -> None:  # noqa: F811
    page.goto(url)
    form = page.get_by_role("region", name="Aanmelden")
    form.get_by_label("Voornaam").fill("Anna")
    form.get_by_label("Tussenvoegsel").fill("van den")
    form.get_by_label("Achternaam").fill("Berg")
    form.get_by_label("E-mailadres").fill(EMAIL)
    form.get_by_label("School, bestuur of organisatie").fill("OBS De Linde")
    form.get_by_label("Soort organisatie").select_option("School")
    form.get_by_role("group", name="Uw rol").get_by_label("Schoolleider", exact=True).check()
    form.get_by_label("Ik heb de privacyverklaring gelezen").check()
    form.get_by_role("button", name="Aanmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bijna klaar: kijk in uw mailbox")


def test_attend_long_enough_receive_the_certificate_and_verify_it(page, live_server, event, smtp, frozen):  # noqa: F811
    require_pango()
    event.certificate_enabled = True
    event.meeting_url = f"{live_server.url}/healthz"  # the meeting's stand-in
    event.followup_joined_text = "Dank voor uw komst; de presentatie volgt."
    db.session.commit()
    db.session.rollback()  # the server's threads write from here on

    register_in_the_browser(page, f"{live_server.url}/events/{event.slug}")
    mail_pass(smtp, "Aanmelding bevestigd")

    # Ten minutes before the start the join link arrives; she follows it to the meeting.
    frozen.move_to(STARTS - timedelta(minutes=10))
    join_mail = mail_pass(smtp, "Uw link om deel te nemen")
    join_path = next(path for path in LINK.findall(join_mail.get_body(("plain",)).get_content())
                     if path.startswith("/j/"))
    page.goto(live_server.url + join_path)
    expect(page).to_have_url(f"{live_server.url}/healthz")

    # An hour after the end: the follow-up, with her certificate as a PDF.
    frozen.move_to(ENDS + timedelta(minutes=61))
    followup = mail_pass(smtp, "Dank voor uw deelname")
    [attachment] = list(followup.iter_attachments())
    assert (attachment.get_content_type(), attachment.get_filename()) == (
        "application/pdf", "bewijs-van-deelname.pdf")
    pdf = attachment.get_content()
    text = pdf_text(pdf)
    assert "Anna van den Berg" in text and "75 minuten" in text
    [verify_link] = qr_codes_on_page(pdf)  # as a phone would read it from paper

    # The manage link in the follow-up offers the same certificate for download.
    manage_path = next(path for path in LINK.findall(followup.get_body(("plain",)).get_content())
                       if path.startswith("/r/"))
    page.goto(live_server.url + manage_path)
    snapshot(page, "certificate-1-manage")
    with page.expect_download() as download:
        page.get_by_role("link", name="Bewijs van deelname downloaden (pdf)").click()
    assert download.value.suggested_filename == "bewijs-van-deelname.pdf"
    assert "Anna van den Berg" in pdf_text(download.value.path().read_bytes())

    # The verification link confirms what the certificate says.
    assert verify_link.startswith("http://webinar.test/bewijs/")
    page.goto(live_server.url + verify_link.removeprefix("http://webinar.test"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bewijs van deelname bevestigd")
    statement = page.get_by_role("status")
    for expected in ("Anna van den Berg", "Samen onderwijs versnellen", "dinsdag 25 mei 2027, 16.00–17.15 uur",
                     "75 minuten"):
        expect(statement).to_contain_text(expected)
    snapshot(page, "certificate-2-verified")

    # One changed character, and the page refuses it.
    code = verify_link.rsplit("/", 1)[1]
    changed = code[:-1] + ("A" if code[-1] != "A" else "B")
    page.goto(f"{live_server.url}/bewijs/{changed}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dit bewijs kunnen we niet bevestigen")
