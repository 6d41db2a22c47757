"""Previews of the e-mails registrants get: the same text and layout as the e-mail itself."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from helpers import ENDS, ORGANISER_EMAIL, ORGANISER_PASSWORD, STARTS, deliver, post_registration
from webinar.events.services import cancel_event, move_event
from webinar.extensions import db
from webinar.mailing.models import OutgoingMail
from webinar.registration.models import AccessToken, Registration
from webinar.registration.services import cancel_registration

BASE = "/organiser/events/samen-onderwijs-versnellen/e-mails"
ANNA = "anna.vandenberg@example.org"  # conftest's form: Anna van den Berg, as the preview's made-up registrant
PERSONAL_LINK = re.compile(r"/([rj])/[A-Za-z0-9_\-]+")


def same_links(text: str) -> str:
    """The text with each personal token replaced, and line ends made alike."""
    return PERSONAL_LINK.sub(r"/\1/TOKEN", text.replace("\r\n", "\n")).strip()


def preview_text(page: str) -> str:
    return html.unescape(re.search(r'<pre id="preview-text" class="mail-text">(.*?)</pre>', page, re.S).group(1))


def preview_subject(page: str) -> str:
    return html.unescape(re.search(r'<dd id="preview-subject">(.*?)</dd>', page, re.S).group(1))


def log_in(client) -> None:
    response = client.post("/organiser/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD})
    assert response.status_code == 302


def rows() -> tuple[int, int, int]:
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Registration, OutgoingMail, AccessToken))


def _registered(client, event, smtp, frozen):
    post_registration(client, event)
    deliver()


def _reminder(client, event, smtp, frozen):
    _registered(client, event, smtp, frozen)
    frozen.move_to(STARTS.replace(day=24, hour=10))
    deliver()


def _join_link(client, event, smtp, frozen):
    _registered(client, event, smtp, frozen)
    frozen.move_to(STARTS - timedelta(minutes=30))
    deliver()


def _followup_missed(client, event, smtp, frozen):
    event.followup_missed_text = "De opname staat online."
    event.recording_url = "https://video.example.org/opname"
    db.session.commit()
    _registered(client, event, smtp, frozen)
    frozen.move_to(ENDS + timedelta(minutes=60))
    deliver()


def _moved(client, event, smtp, frozen):
    _registered(client, event, smtp, frozen)
    move_event(event, STARTS + timedelta(days=7), ENDS + timedelta(days=7))
    db.session.commit()
    deliver()


def _event_cancelled(client, event, smtp, frozen):
    _registered(client, event, smtp, frozen)
    cancel_event(event)
    db.session.commit()
    deliver()


def _registrant_cancelled(client, event, smtp, frozen):
    _registered(client, event, smtp, frozen)
    cancel_registration(db.session.scalar(select(Registration)))
    db.session.commit()
    deliver()


@pytest.mark.parametrize(("kind", "happen"), [
    ("confirmation", _registered),
    ("reminder", _reminder),
    ("join_link", _join_link),
    ("followup_missed", _followup_missed),
    ("event_moved", _moved),
    ("event_cancelled", _event_cancelled),
    ("cancelled", _registrant_cancelled),
], ids=lambda value: value if isinstance(value, str) else "")
def test_the_preview_is_the_email_a_registrant_gets(organiser_client, client, event, smtp, frozen, kind, happen):
    happen(client, event, smtp, frozen)
    real = smtp.to(ANNA)[-1]
    log_in(organiser_client)  # the clock moved on: the organiser's session has timed out
    page = organiser_client.get(f"{BASE}/{kind}").get_data(as_text=True)
    assert preview_subject(page) == real["Subject"].strip()
    assert same_links(preview_text(page)) == same_links(real.get_body(("plain",)).get_content())
    formatted = organiser_client.get(f"{BASE}/{kind}/opgemaakt").get_data(as_text=True)
    assert same_links(formatted) == same_links(real.get_body(("html",)).get_content())
    attachments = [part.get_filename() for part in real.iter_attachments()]
    assert ('id="preview-attachment"' in page) == bool(attachments)


def test_the_list_shows_every_email_and_when_it_goes(organiser_client, event):
    page = html.unescape(organiser_client.get(BASE).get_data(as_text=True))
    links = re.findall(r'<a href="/organiser/events/samen-onderwijs-versnellen/e-mails/([a-z_]+)">', page)
    assert links == ["confirmation", "waitlisted", "promoted", "reminder", "join_link", "followup_joined",
                     "followup_missed", "event_moved", "event_cancelled", "cancelled", "manage_link", "lost_link"]
    assert "maandag 24 mei 2027 om 10.00 uur" in page  # the reminder
    assert "dinsdag 25 mei 2027 om 15.30 uur" in page  # the join link
    assert page.count("Er is nog geen tekst") == 2  # no follow-up written yet


def test_every_preview_opens_and_changes_nothing(organiser_client, event):
    before = rows()
    page = organiser_client.get(BASE).get_data(as_text=True)
    for kind in re.findall(r'href="/organiser/events/samen-onderwijs-versnellen/e-mails/([a-z_]+)"', page):
        preview = organiser_client.get(f"{BASE}/{kind}")
        assert preview.status_code == 200, kind
        assert "Beste Anna" in preview.get_data(as_text=True), kind
        tokens = re.findall(r"/[rj]/([A-Za-z0-9_\-]+)", preview.get_data(as_text=True))
        assert set(tokens) <= {"voorbeeld"}, kind  # links that lead nowhere personal
        assert organiser_client.get(f"{BASE}/{kind}/opgemaakt").status_code == 200
    assert rows() == before  # no registration, no e-mail, no personal link was made


def test_the_formatted_version_is_locked_down(organiser_client, event):
    page = organiser_client.get(f"{BASE}/confirmation").get_data(as_text=True)
    assert f'sandbox="" src="{BASE}/confirmation/opgemaakt"' in page
    assert "style=" not in page and "<script>" not in page  # the page itself keeps to a strict CSP
    formatted = organiser_client.get(f"{BASE}/confirmation/opgemaakt")
    policy = formatted.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script" not in policy
    assert formatted.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_settings_in_the_event_show_in_the_preview(organiser_client, event):
    event.followup_joined_text = "Dank voor uw komst; de dia's volgen."
    event.recording_url = "https://video.example.org/opname"
    event.reminder_days_before = None
    db.session.commit()
    page = html.unescape(organiser_client.get(f"{BASE}/followup_joined").get_data(as_text=True))
    assert "Dank voor uw komst; de dia's volgen." in page and "https://video.example.org/opname" in page
    assert 'id="preview-off"' not in page
    reminder = html.unescape(organiser_client.get(f"{BASE}/reminder").get_data(as_text=True))
    assert "Er is geen herinnering ingesteld." in reminder


def test_an_unknown_kind_or_event_is_not_found(organiser_client, event):
    assert organiser_client.get(f"{BASE}/invitation").status_code == 404
    assert organiser_client.get(f"{BASE}/broadcast/opgemaakt").status_code == 404
    assert organiser_client.get("/organiser/events/bestaat-niet/e-mails/confirmation").status_code == 404
