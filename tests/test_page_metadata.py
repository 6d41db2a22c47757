"""What search engines and browsers read besides the content: robots header, description, icon."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from helpers import post_registration
from webinar.extensions import db
from webinar.registration.models import Registration, TokenPurpose
from webinar.registration.tokens import issue_token

DESCRIPTION = re.compile(r'<meta name="description" content="([^"]*)">')


def description(client, path: str) -> str:
    """The page's meta description (the test fails when there is none)."""
    page = client.get(path).get_data(as_text=True)
    found = DESCRIPTION.findall(page)
    assert len(found) == 1, f"{path}: {found}"
    return found[0]


def personal_links() -> list[str]:
    """A manage and a join link of the first registration."""
    registration = db.session.scalars(select(Registration)).first()
    links = [f"/r/{issue_token(registration, TokenPurpose.manage)}", f"/j/{issue_token(registration, TokenPurpose.join)}"]
    db.session.commit()
    return links


def test_personal_pages_ask_search_engines_not_to_index_them(client, event):
    post_registration(client, event)
    manage, join = personal_links()
    for path in (manage, f"{manage}/afmelden", f"{manage}/verwijderen", join, "/organiser/uitnodiging/onbekend"):
        response = client.get(path)
        assert response.headers.get("X-Robots-Tag") == "noindex", (path, response.status_code)


@pytest.mark.parametrize("path", ["/events/samen-onderwijs-versnellen", "/privacy", "/ondersteuning", "/"])
def test_public_pages_may_be_indexed(client, event, path):
    assert "X-Robots-Tag" not in client.get(path).headers


def test_the_event_page_is_described_by_its_summary(client, event):
    assert description(client, f"/events/{event.slug}") == "Een online bijeenkomst over het NPO."


def test_without_a_summary_the_event_page_is_described_by_its_time(client, event):
    event.summary = ""
    db.session.commit()
    assert description(client, f"/events/{event.slug}") == (
        "Online bijeenkomst op dinsdag 25 mei 2027, 16.00–17.15 uur. Meld u hier aan.")


@pytest.mark.parametrize("path", ["/", "/privacy", "/ondersteuning", "/bestaat-niet", "/organiser/login",
                                  "/events/samen-onderwijs-versnellen/link-kwijt"])
def test_every_page_has_a_description(client, event, path):
    assert len(description(client, path)) > 40


def test_the_site_has_an_icon(client, event):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
        assert response.data[:4] == b"\x00\x00\x01\x00"  # the ICO file signature
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico"' in page
