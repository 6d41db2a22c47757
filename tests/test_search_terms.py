"""Search and filter terms from a URL: a NUL or another control character finds what the term without it
finds, on every search field of the organiser area and the API (PostgreSQL refuses NUL in text)."""

from __future__ import annotations

import re

import pytest

from helpers import api_token, page_text, person, teams_participants, upload_report
from webinar.attendance.models import WalkIn
from webinar.extensions import db
from webinar.forms import search_words
from sqlalchemy import select

EVENT = "/organiser/events/samen-onderwijs-versnellen"


@pytest.mark.parametrize(("raw", "term"), [
    ("Joke\x00", "Joke"), ("jo\x01ke", "jo ke"), ("  Meer\r\n", "Meer"), ("\x00", ""), (None, ""), ("a" * 300, "a" * 200),
])
def test_a_term_loses_control_characters_and_line_breaks(raw, term):
    assert search_words(raw) == term


def test_every_organiser_search_takes_a_nul_and_finds_as_without_it(organiser_client, organiser, event):
    person(event, "Joke", "Meer", "van der", email="joke.meer@example.org", organisation="OBS De Linde")
    person(event, "Piet", "Bakker", organisation="Het Kompas")
    upload_report(organiser_client, event, teams_participants(["prive.adres@example.net"]))
    walk_in = db.session.scalar(select(WalkIn))
    searches = {
        f"{EVENT}/aanmeldingen?q=Joke%00": "Meer, Joke van der",
        f"{EVENT}/aanmeldingen?rol=%00&q=meer%0A": "Meer, Joke van der",
        f"{EVENT}/registrations.csv?q=Joke%00": "Joke",
        f"{EVENT}/aanwezigheid?q=jo%00ke.meer": "",
        f"{EVENT}/aanwezigheid/niet-aangemeld/{walk_in.id}/koppelen?zoek=Joke%00": "Joke van der Meer",
        "/organiser/audit?wie=%00mieke": "",
        "/organiser/organisaties/corrigeren?groep=naam%3Aobs%20de%20linde%00": "",
    }
    for url, expected in searches.items():
        response = organiser_client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        if expected:
            assert expected in page_text(response), url
            assert "Bakker" not in re.sub(r"<option[^>]*>.*?</option>", "", page_text(response)), url


def test_the_api_list_takes_a_nul_in_its_search(client, organiser, event):
    person(event, "Joke", "Meer", "van der", organisation="OBS De Linde")
    headers = api_token(organiser, scopes=("read",))
    response = client.get(f"/api/v1/events/{event.slug}/registrations?q=Joke%00&rol=%C3%B1%1C", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [item["last_name"] for item in response.json["items"]] == []  # the role 'ñ' matches nobody
    found = client.get(f"/api/v1/events/{event.slug}/registrations?q=Joke%00", headers=headers)
    assert [item["first_name"] for item in found.json["items"]] == ["Joke"]
